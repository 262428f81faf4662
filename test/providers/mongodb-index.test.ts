import assert from 'node:assert/strict';
import type { Collection } from 'mongodb';
import { createManager, generateId, isSessionError } from 'sessionkit';
import { indexCollectionName, indexDigest, MongoStore, type IndexEntryDocument, type MongoIndexCollection } from 'sessionkit/providers/mongodb';
import { FakeMongoCollection } from '../fakes/mongodb.ts';

// The driver's collection must satisfy the interface the index is written against.
const driverIndexCollectionFits = (c: Collection<IndexEntryDocument>): MongoIndexCollection => c;
void driverIndexCollectionFits;

const T0 = Date.UTC(2030, 0, 1);
const HOUR = 3_600_000;

describe('mongodb index over the fake driver', function () {
  let now = T0;
  let sessions: FakeMongoCollection;
  let index: FakeMongoCollection<IndexEntryDocument>;
  let store: MongoStore;
  beforeEach(function () {
    now = T0;
    sessions = new FakeMongoCollection(() => now);
    index = new FakeMongoCollection<IndexEntryDocument>(() => now);
    store = new MongoStore(sessions, { now: () => now, index });
  });

  it('the index collection of a session collection is <collection>_index', function () {
    assert.equal(indexCollectionName('sessions'), 'sessions_index');
  });

  it('indexAdd upserts one document per entry in one request, and filing again replaces its expiry', async function () {
    const sid = generateId();
    const digest = indexDigest('user:alice');
    await store.indexAdd!('user:alice', sid, T0 + 5000);
    await store.indexAdd!('user:alice', sid, T0 + 9000);
    assert.deepEqual([...index.docs.values()], [{ _id: `${digest}:${sid}`, key: digest, sid, expiresAt: new Date(T0 + 9000) }]);
    assert.equal(index.calls.get('updateOne'), 2);
    assert.equal(index.calls.size, 1);
    assert.equal(sessions.calls.size, 0, 'the session collection is not touched');
  });

  it('the key is stored only as its digest: 43 base64url characters', function () {
    assert.match(indexDigest('user:Zoë 🍪'), /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(indexDigest('user:a'), indexDigest('user:b'));
  });

  it('indexList is one find, and leaves out entries the TTL monitor has not removed yet', async function () {
    const [short, long] = [generateId(), generateId()];
    await store.indexAdd!('user:bob', short, T0 + 1000);
    await store.indexAdd!('user:bob', long, T0 + HOUR);
    now = T0 + 1000;
    assert.deepEqual(await store.indexList!('user:bob'), [long]);
    assert.equal(index.calls.get('find'), 1);
    assert.equal(index.docs.size, 2, 'the fake deletes nothing until its TTL monitor runs');
    assert.equal(index.runTtlMonitor(), 1);
    assert.deepEqual(await store.indexList!('user:bob'), [long]);
  });

  it('indexRemove is one deleteOne; removing a missing entry is a no-op', async function () {
    const sid = generateId();
    await store.indexAdd!('user:carol', sid, T0 + HOUR);
    await store.indexRemove!('user:carol', sid);
    await store.indexRemove!('user:carol', sid);
    assert.equal(index.docs.size, 0);
    assert.equal(index.calls.get('deleteOne'), 2);
  });

  it('an entry filed with an expiry already past is deleted, not written', async function () {
    const sid = generateId();
    await store.indexAdd!('user:dave', sid, T0 + HOUR);
    await store.indexAdd!('user:dave', sid, T0 - 1);
    assert.equal(index.docs.size, 0);
  });

  it('gc deletes expired entries and sessions now and keeps live ones; count never sees entries', async function () {
    const [live, dead] = [generateId(), generateId()];
    await store.set(live, 'record', T0 + HOUR);
    await store.indexAdd!('user:erin', live, T0 + HOUR);
    await store.indexAdd!('user:erin', dead, T0 + 1000);
    assert.equal(await store.count(), 1);
    now = T0 + 1000;
    await store.gc();
    assert.deepEqual([...index.docs.values()].map((doc) => doc.sid), [live]);
    assert.equal(await store.count(), 1);
  });

  it('clear empties the index collection with the session collection', async function () {
    await store.set(generateId(), 'record', T0 + HOUR);
    await store.indexAdd!('user:frank', generateId(), T0 + HOUR);
    await store.clear();
    assert.equal(sessions.docs.size, 0);
    assert.equal(index.docs.size, 0);
  });

  it('keys that look like operators or paths, or differ only in lone surrogates, stay apart', async function () {
    const keys = ['$where', 'user:{"$ne":null}', 'user:a.b', 'user:\u0000', 'user:\ud800', 'user:\udc00', 'user:\ufffd'];
    const filed = new Map(keys.map((key) => [key, generateId()]));
    for (const [key, sid] of filed) await store.indexAdd!(key, sid, T0 + HOUR);
    for (const [key, sid] of filed) assert.deepEqual(await store.indexList!(key), [sid], JSON.stringify(key));
  });

  it('a key that is not a non-empty string of at most 512 characters is refused before the driver', async function () {
    const sid = generateId();
    for (const bad of ['', 'k'.repeat(513), { $ne: null } as unknown as string]) {
      await assert.rejects(store.indexAdd!(bad, sid, T0 + HOUR), { code: 'ERR_SESSION_INVALID_VALUE', message: /^session\/mongodb: an index key/ });
      await assert.rejects(store.indexList!(bad), { code: 'ERR_SESSION_INVALID_VALUE' });
      await assert.rejects(store.indexRemove!(bad, sid), { code: 'ERR_SESSION_INVALID_VALUE' });
    }
    await assert.rejects(store.indexAdd!('user:x', '../x', T0 + HOUR), { code: 'ERR_SESSION_INVALID_ID' });
    assert.equal(index.calls.size, 0);
  });

  it('an index call while the server is down rejects with a store error naming the call', async function () {
    index.down = true;
    await assert.rejects(store.indexAdd!('user:x', generateId(), T0 + HOUR), (err: unknown) => {
      assert.ok(isSessionError(err, 'ERR_SESSION_STORE'));
      assert.match(err.message, /^session\/mongodb: indexAdd failed: /);
      return true;
    });
    await assert.rejects(store.indexList!('user:x'), /^SessionError: session\/mongodb: indexList failed/);
    await assert.rejects(store.indexRemove!('user:x', generateId()), /session\/mongodb: indexRemove failed/);
    await assert.rejects(store.clear(), /session\/mongodb: clear failed/);
    index.down = false;
    assert.deepEqual(await store.indexList!('user:x'), []);
  });

  it('a store opened without an index collection has no index, and the Manager says so', async function () {
    const bare = new MongoStore(sessions, { now: () => now });
    assert.equal(bare.indexAdd, undefined);
    assert.equal(bare.indexRemove, undefined);
    assert.equal(bare.indexList, undefined);
    const manager = await createManager({ provider: { open: async () => bare }, gcInterval: 0 });
    try {
      await assert.rejects(manager.listUserSessions('alice'), { code: 'ERR_SESSION_UNSUPPORTED' });
    } finally {
      await manager.close();
    }
  });
});
