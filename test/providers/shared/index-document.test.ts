import assert from 'node:assert/strict';
import {
  addEntry,
  type IndexDocument,
  type IndexEntries,
  indexDocumentKey,
  INDEX_DOCUMENT_PATTERN,
  listEntries,
  MAX_INDEX_ATTEMPTS,
  readEntries,
  removeEntry,
} from '../../../providers/shared/index-document.ts';

const T0 = Date.UTC(2030, 0, 1);
const sid = (c: string) => c.repeat(32);

/** MemoryDocument is an IndexDocument over one variable, counting its calls; `conflicts` makes that many writes lose. */
class MemoryDocument implements IndexDocument<number> {
  stored: { entries: IndexEntries; expiresAt: number; cas: number } | undefined;
  reads = 0;
  writes = 0;
  conflicts = 0;

  async read() {
    this.reads++;
    return this.stored && { entries: new Map(this.stored.entries), cas: this.stored.cas };
  }
  async create(entries: IndexEntries, expiresAt: number) {
    return this.write(this.stored === undefined, entries, expiresAt);
  }
  async replace(entries: IndexEntries, expiresAt: number, cas: number) {
    return this.write(this.stored?.cas === cas, entries, expiresAt);
  }
  async remove(cas: number) {
    this.writes++;
    if (this.stored?.cas !== cas || this.lose()) return false;
    this.stored = undefined;
    return true;
  }
  private write(ok: boolean, entries: IndexEntries, expiresAt: number): boolean {
    this.writes++;
    if (!ok || this.lose()) return false;
    this.stored = { entries: new Map(entries), expiresAt, cas: (this.stored?.cas ?? 0) + 1 };
    return true;
  }
  private lose(): boolean {
    if (this.conflicts === 0) return false;
    this.conflicts--;
    return true;
  }
}

describe('index documents', function () {
  let now = T0;
  const clock = () => now;
  let doc: MemoryDocument;
  beforeEach(function () {
    now = T0;
    doc = new MemoryDocument();
  });

  it('indexDocumentKey gives prefix + "index:" + 43 characters, apart for keys that differ only in lone surrogates', function () {
    const pattern = new RegExp(`^p:${INDEX_DOCUMENT_PATTERN}$`);
    for (const key of ['u', 'user:Zoë 🍪', 'x'.repeat(512), '\uD800', '\uDC00']) assert.match(indexDocumentKey('t', 'p:', key), pattern);
    assert.notEqual(indexDocumentKey('t', '', '\uD800'), indexDocumentKey('t', '', '\uDC00'));
    assert.notEqual(indexDocumentKey('t', '', 'a'), indexDocumentKey('t', '', 'A'));
  });

  it('indexDocumentKey refuses an empty key, one over 512 characters and a non-string', function () {
    for (const key of ['', 'x'.repeat(513), 42 as unknown as string]) {
      assert.throws(() => indexDocumentKey('test', '', key), { code: 'ERR_SESSION_INVALID_VALUE', message: /^session\/test: an index key/ });
    }
  });

  it('readEntries keeps only valid ids with finite expiries, and reads anything else as empty', function () {
    const stored = `{"${sid('a')}":${T0},"bad":1,"${sid('b')}":"soon","${sid('c')}":null,"${'A'.repeat(32)}":1,"__proto__":1}`;
    const entries = readEntries(JSON.parse(stored));
    assert.deepEqual([...entries], [[sid('a'), T0]]);
    for (const other of [undefined, null, 'text', 42, [sid('a')]]) assert.equal(readEntries(other).size, 0);
  });

  it('addEntry creates the document with the expiry of its latest entry and drops expired entries on the way', async function () {
    await addEntry('test', doc, sid('a'), T0 + 1000, clock);
    await addEntry('test', doc, sid('b'), T0 + 5000, clock);
    assert.equal(doc.stored!.expiresAt, T0 + 5000);
    now = T0 + 1000;
    await addEntry('test', doc, sid('c'), T0 + 3000, clock);
    assert.deepEqual([...doc.stored!.entries], [[sid('b'), T0 + 5000], [sid('c'), T0 + 3000]]);
    assert.equal(doc.stored!.expiresAt, T0 + 5000);
  });

  it('a change that changes nothing writes nothing', async function () {
    await addEntry('test', doc, sid('a'), T0 + 1000, clock);
    const writes = doc.writes;
    await addEntry('test', doc, sid('a'), T0 + 1000, clock);
    await removeEntry('test', doc, sid('b'), clock);
    await removeEntry('test', new MemoryDocument(), sid('b'), clock);
    await addEntry('test', new MemoryDocument(), sid('b'), T0 - 1, clock);
    assert.equal(doc.writes, writes);
  });

  it('removing the last live entry removes the document', async function () {
    await addEntry('test', doc, sid('a'), T0 + 1000, clock);
    await addEntry('test', doc, sid('b'), T0 + 9000, clock);
    now = T0 + 2000;
    await removeEntry('test', doc, sid('b'), clock);
    assert.equal(doc.stored, undefined);
  });

  it('listEntries leaves out entries whose expiresAt has passed', async function () {
    await addEntry('test', doc, sid('a'), T0 + 1000, clock);
    await addEntry('test', doc, sid('b'), T0 + 9000, clock);
    now = T0 + 1000;
    assert.deepEqual(await listEntries(doc, clock), [sid('b')]);
    assert.deepEqual(await listEntries(new MemoryDocument(), clock), []);
  });

  it('a lost write reads again and retries', async function () {
    doc.conflicts = 3;
    await addEntry('test', doc, sid('a'), T0 + 1000, clock);
    assert.equal(doc.reads, 4);
    assert.deepEqual([...doc.stored!.entries.keys()], [sid('a')]);
  });

  it(`gives up with ERR_SESSION_CONTENDED after ${MAX_INDEX_ATTEMPTS} lost writes`, async function () {
    this.timeout(15_000);
    doc.conflicts = Infinity;
    await assert.rejects(addEntry('test', doc, sid('a'), T0 + 1000, clock), {
      code: 'ERR_SESSION_CONTENDED',
      message: `session/test: indexAdd gave up after ${MAX_INDEX_ATTEMPTS} conflicting writes to one index key`,
    });
    assert.equal(doc.writes, MAX_INDEX_ATTEMPTS);
  });

  it('refuses an invalid session id before reading', async function () {
    await assert.rejects(addEntry('test', doc, 'nope', T0 + 1000, clock), { code: 'ERR_SESSION_INVALID_ID' });
    await assert.rejects(removeEntry('test', doc, 'nope', clock), { code: 'ERR_SESSION_INVALID_ID' });
    assert.equal(doc.reads, 0);
  });
});
