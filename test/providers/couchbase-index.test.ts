import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isSessionError } from 'sessionkit';
import { CouchbaseStore } from 'sessionkit/providers/couchbase';
import { FakeCouchbase } from '../fakes/couchbase.ts';

describe('couchbase index over the fake sdk', function () {
  const T0 = Date.UTC(2030, 0, 1);
  const DAY = 86_400_000;
  const sid = (c: string) => c.repeat(32);
  /** docKey is where the store keeps index key `key`, as its README documents it. */
  const docKey = (key: string, prefix = 'sess:') => `${prefix}index:${createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('base64url')}`;
  let now = T0;
  let fake: FakeCouchbase;
  let store: CouchbaseStore;
  const open = (prefix: string) => new CouchbaseStore(fake.collection, { query: fake.query, keyspace: '`app`.`web`.`sessions`', prefix, now: () => now });
  const body = (key: string, prefix?: string) => {
    const doc = fake.docs.get(docKey(key, prefix));
    return doc && JSON.parse(doc.json);
  };

  beforeEach(function () {
    now = T0;
    fake = new FakeCouchbase(() => now);
    store = open('sess:');
  });

  it('each index key is one document prefix + "index:" + sha256 base64url holding { sid: expiresAt }', async function () {
    await store.indexAdd('user:alice', sid('a'), T0 + 5000);
    await store.indexAdd('user:alice', sid('b'), T0 + 9000);
    assert.deepEqual(body('user:alice'), { [sid('a')]: T0 + 5000, [sid('b')]: T0 + 9000 });
    const key = `user:${'é'.repeat(600)}`.slice(0, 512);
    await store.indexAdd(key, sid('c'), T0 + 5000);
    assert.ok(Buffer.byteLength(docKey(key)) <= 250, 'couchbase keys are at most 250 bytes');
    assert.deepEqual(body(key), { [sid('c')]: T0 + 5000 });
  });

  it('the document expires with its latest entry, rounded up to the second so it never goes first', async function () {
    await store.indexAdd('user:alice', sid('a'), T0 + 9500);
    await store.indexAdd('user:alice', sid('b'), T0 + 2000);
    assert.equal(fake.docs.get(docKey('user:alice'))!.expiry, (T0 + 10_000) / 1000);
    now = T0 + 9499;
    assert.deepEqual(await store.indexList('user:alice'), [sid('a')]);
    now = T0 + 10_000;
    await store.indexList('user:alice');
    assert.equal(fake.docs.has(docKey('user:alice')), false, 'the server dropped the document');
  });

  it('an entry over 30 days away is passed as a Date, so the document lives as long as the entry', async function () {
    await store.indexAdd('user:alice', sid('a'), T0 + 45 * DAY);
    assert.equal(fake.docs.get(docKey('user:alice'))!.expiry, (T0 + 45 * DAY) / 1000);
    now = T0 + 44 * DAY;
    assert.deepEqual(await store.indexList('user:alice'), [sid('a')]);
  });

  it('removing an entry moves the expiry to the latest left, and removing the last removes the document', async function () {
    await store.indexAdd('user:alice', sid('a'), T0 + 9000);
    await store.indexAdd('user:alice', sid('b'), T0 + 5000);
    await store.indexRemove('user:alice', sid('a'));
    assert.equal(fake.docs.get(docKey('user:alice'))!.expiry, (T0 + 5000) / 1000);
    await store.indexRemove('user:alice', sid('b'));
    assert.equal(fake.docs.has(docKey('user:alice')), false);
  });

  it('a write that finds the document changed since its read reads again and keeps both changes', async function () {
    await store.indexAdd('user:alice', sid('a'), T0 + 9000);
    // Both calls get the document before either replaces it: the second replace meets a new CAS.
    await Promise.all([store.indexAdd('user:alice', sid('b'), T0 + 9000), store.indexAdd('user:alice', sid('c'), T0 + 9000)]);
    assert.deepEqual((await store.indexList('user:alice')).sort(), [sid('a'), sid('b'), sid('c')]);
  });

  it('count leaves index documents out, and clear removes those of this prefix only, in one statement', async function () {
    await store.set(sid('a'), 'session', T0 + 9000);
    await store.indexAdd('user:alice', sid('a'), T0 + 9000);
    await store.indexAdd('moved:x', sid('b'), T0 + 9000);
    const other = open('other:');
    await other.indexAdd('user:alice', sid('c'), T0 + 9000);
    await fake.collection.upsert('sess:index:config', { record: 'not an index document' }, { expiry: new Date(T0 + 9000) });
    assert.equal(await store.count(), 1);
    fake.statements.length = 0;
    await store.clear();
    assert.equal(fake.statements.length, 1);
    assert.deepEqual([...fake.docs.keys()].sort(), [docKey('user:alice', 'other:'), 'sess:index:config'].sort());
    assert.deepEqual(await other.indexList('user:alice'), [sid('c')]);
  });

  it('a document of another shape under an index key holds no entries, and the next indexAdd replaces it', async function () {
    await fake.collection.upsert(docKey('user:alice'), { record: 'foreign' }, { expiry: new Date(T0 + 9000) });
    assert.deepEqual(await store.indexList('user:alice'), []);
    await store.indexAdd('user:alice', sid('a'), T0 + 9000);
    assert.deepEqual(body('user:alice'), { [sid('a')]: T0 + 9000 });
  });

  it('index calls reject with a store error while the cluster is down, and work again after it returns', async function () {
    await store.indexAdd('user:alice', sid('a'), T0 + 9000);
    fake.down = true;
    for (const [action, call] of [
      ['indexAdd', () => store.indexAdd('user:alice', sid('b'), T0 + 9000)],
      ['indexRemove', () => store.indexRemove('user:alice', sid('a'))],
      ['indexList', () => store.indexList('user:alice')],
    ] as const) {
      await assert.rejects(call(), (err: unknown) => {
        assert.ok(isSessionError(err, 'ERR_SESSION_STORE'), String(err));
        assert.match(err.message, new RegExp(`^session/couchbase: ${action} failed: `));
        return true;
      });
    }
    fake.down = false;
    assert.deepEqual(await store.indexList('user:alice'), [sid('a')]);
  });

  it('bad index keys and ids are refused before any call to the sdk', async function () {
    fake.down = true;
    for (const key of ['', 'k'.repeat(513)]) {
      await assert.rejects(store.indexAdd(key, sid('a'), T0 + 9000), { code: 'ERR_SESSION_INVALID_VALUE' });
      await assert.rejects(store.indexList(key), { code: 'ERR_SESSION_INVALID_VALUE' });
    }
    await assert.rejects(store.indexAdd('user:x', 'not-an-id', T0 + 9000), { code: 'ERR_SESSION_INVALID_ID' });
    await assert.rejects(store.indexRemove('user:x', 'A'.repeat(32)), { code: 'ERR_SESSION_INVALID_ID' });
  });
});
