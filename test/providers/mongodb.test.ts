import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Collection } from 'mongodb';
import { type OpenOptions, type Provider, type Store, isSessionError } from 'sessionkit';
import { MongoStore, provider, type IndexEntryDocument, parseConfig, type MongoCollection, type SessionDocument } from 'sessionkit/providers/mongodb';
import { describeManager, describeStore } from 'sessionkit/testing';
import { FakeMongoCollection } from '../fakes/mongodb.ts';
import { configRefusal } from '../support/faults.ts';
import { requireEnvServer } from '../support/servers.ts';

/** requires lists every optional method the mongodb store has. */
const requires: (keyof Store)[] = ['compareAndSet', 'touch', 'regenerate', 'count', 'clear', 'gc', 'indexAdd', 'indexRemove', 'indexList'];

/** openFake opens a MongoStore over a fake session collection and a fake index collection sharing one clock. */
function openFake(options: OpenOptions): MongoStore {
  const now = options.now ?? Date.now;
  return new MongoStore(new FakeMongoCollection(now), { now, index: new FakeMongoCollection<IndexEntryDocument>(now) });
}

/** fakeProvider hands the Manager a store over the fakes, each manager its own collections. */
const fakeProvider: Provider = { open: async (_config, options) => openFake(options) };

// No MongoDB server is available to this project's CI: the contract runs over an in-process fake
// of the driver calls MongoStore makes (test/fakes/mongodb.ts), with the suite's fake clock
// driving both the store and the fake.
describeStore('mongodb (fake driver)', { clock: 'fake', requires, rejectsAfterClose: true, open: async (options) => openFake(options) });
describeManager('mongodb (fake driver)', { options: () => ({ provider: fakeProvider }) });

describe('mongodb (server at SESSIONKIT_TEST_MONGODB_URL)', function () {
  const urls = { store: '', manager: '' };
  before(function () {
    const base = requireEnvServer(this, 'SESSIONKIT_TEST_MONGODB_URL', 'mongodb://127.0.0.1:27017/sessionkit_test');
    const withCollection = () => `${base}${base.includes('?') ? '&' : '?'}collection=sessionkit_test_${randomBytes(4).toString('hex')}`;
    urls.store = withCollection();
    urls.manager = withCollection();
  });

  describeStore('mongodb (server)', { clock: 'fake', requires, rejectsAfterClose: true, open: (options) => provider.open(urls.store, options) });
  describeManager('mongodb (server)', { options: () => ({ provider: 'mongodb', providerConfig: urls.manager }) });
});

// The driver's collection must satisfy the interface the store is written against.
const driverCollectionFits = (c: Collection<SessionDocument>): MongoCollection => c;
void driverCollectionFits;

const SECRET = 's3cr#t,p@ss';
const ENCODED = encodeURIComponent(SECRET);

const refuses = configRefusal('mongodb', parseConfig, [SECRET, ENCODED, 's3cr']);

const sid = (c: string) => c.repeat(32);
const T0 = Date.UTC(2030, 0, 1);

describe('mongodb parseConfig', function () {
  const cases: Array<[string, ReturnType<typeof parseConfig>]> = [
    [
      'mongodb://127.0.0.1:27017',
      { url: 'mongodb://127.0.0.1:27017', database: 'sessionkit', collection: 'sessions', address: 'mongodb://127.0.0.1:27017' },
    ],
    [
      'mongodb://127.0.0.1:27017/app',
      { url: 'mongodb://127.0.0.1:27017/app', database: 'app', collection: 'sessions', address: 'mongodb://127.0.0.1:27017' },
    ],
    [
      `mongodb://admin:${ENCODED}@db1:27017,db2:27018/app?replicaSet=rs0&collection=web_sessions&authSource=admin`,
      {
        url: `mongodb://admin:${ENCODED}@db1:27017,db2:27018/app?replicaSet=rs0&authSource=admin`,
        database: 'app',
        collection: 'web_sessions',
        address: 'mongodb://db1:27017,db2:27018',
      },
    ],
    [
      'mongodb+srv://user@cluster0.example.net/?retryWrites=true&w=majority',
      {
        url: 'mongodb+srv://user@cluster0.example.net/?retryWrites=true&w=majority',
        database: 'sessionkit',
        collection: 'sessions',
        address: 'mongodb+srv://cluster0.example.net',
      },
    ],
    [
      '  mongodb://localhost/sessions_db?collection=s%2Eweb  ',
      { url: 'mongodb://localhost/sessions_db', database: 'sessions_db', collection: 's.web', address: 'mongodb://localhost' },
    ],
  ];
  for (const [config, expected] of cases) {
    it(`parseConfig reads ${JSON.stringify(config.replace(ENCODED, '***'))} exactly`, function () {
      assert.deepEqual(parseConfig(config), expected);
    });
  }

  it('parseConfig keeps the password in the driver url and out of the address', function () {
    const parsed = parseConfig(`mongodb://u:${ENCODED}@h:1/db`);
    assert.ok(parsed.url.includes(ENCODED));
    assert.ok(!parsed.address.includes('s3cr'));
  });

  it('parseConfig refuses an empty config with an example', function () {
    refuses('', /mongodb:\/\/ url/);
  });

  it('parseConfig refuses another scheme without echoing the password', function () {
    refuses(`redis://u:${ENCODED}@h:6379/0`, /mongodb:\/\/ or mongodb\+srv:\/\//);
    refuses(`mongodb://u:${SECRET}/x@h:1/db`, /percent-encode/);
  });

  it('parseConfig refuses a url without a host', function () {
    refuses('mongodb:///db', /no host/);
  });

  it('parseConfig refuses a database name mongodb does not allow, naming it', function () {
    refuses('mongodb://h/a.b', /database name "a\.b"/);
    refuses(`mongodb://h/${'d'.repeat(64)}`, /database name/);
  });

  it('parseConfig refuses a bad collection name, naming collection', function () {
    refuses('mongodb://h/db?collection=', /collection name ""/);
    refuses('mongodb://h/db?collection=system.users', /collection name "system\.users"/);
    refuses('mongodb://h/db?collection=a$b', /collection name/);
  });

  it('parseConfig refuses collection given twice', function () {
    refuses('mongodb://h/db?collection=a&collection=b', /collection is given twice/);
  });

  it('parseConfig names the option with a bad percent escape', function () {
    refuses('mongodb://h/db?collection=%zz', /collection has an invalid percent escape/);
  });
});

describe('mongodb provider open', function () {
  this.timeout(15_000);

  it('open against a server that is down fails within seconds, naming the address and not the password', async function () {
    const started = Date.now();
    await assert.rejects(provider.open(`mongodb://admin:${ENCODED}@127.0.0.1:1/x?serverSelectionTimeoutMS=1000`, { maxLifetime: 1000 }), (err: unknown) => {
      assert.ok(isSessionError(err, 'ERR_SESSION_STORE'), String(err));
      assert.match(err.message, /^session\/mongodb: cannot open mongodb:\/\/127\.0\.0\.1:1 \(database x\)/);
      assert.ok(!err.message.includes('s3cr') && !err.message.includes(ENCODED), err.message);
      return true;
    });
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });

  it('open uses the 3 s default server selection timeout when the url sets none', async function () {
    const started = Date.now();
    await assert.rejects(provider.open('mongodb://127.0.0.1:1/x', { maxLifetime: 1000 }), /session\/mongodb: cannot open/);
    const took = Date.now() - started;
    assert.ok(took >= 2500 && took < 6000, `took ${took} ms`);
  });

  it('open reports a driver option the driver refuses as a config error without the password', async function () {
    await assert.rejects(provider.open(`mongodb://u:${ENCODED}@127.0.0.1:1/x?notAnOption=1`, { maxLifetime: 1000 }), (err: unknown) => {
      assert.ok(isSessionError(err, 'ERR_SESSION_PROVIDER_CONFIG'), String(err));
      assert.match(err.message, /^session\/mongodb: the driver refused the url for mongodb:\/\/127\.0\.0\.1:1: .*notanoption/i);
      assert.ok(!err.message.includes('s3cr') && !err.message.includes(ENCODED), err.message);
      return true;
    });
  });

  it('open refuses a bad config before loading the driver', async function () {
    await assert.rejects(provider.open('mongodb://h/db?collection=', { maxLifetime: 1000 }), /collection name/);
  });
});

describe('mongodb store over the fake driver', function () {
  let now = T0;
  let fake: FakeMongoCollection;
  let store: MongoStore;
  beforeEach(function () {
    now = T0;
    fake = new FakeMongoCollection(() => now);
    store = new MongoStore(fake, { now: () => now });
  });

  it('set writes one document with _id, record and a Date expiresAt', async function () {
    await store.set(sid('a'), 'rec', T0 + 5000);
    assert.deepEqual(fake.docs.get(sid('a')), { _id: sid('a'), record: 'rec', expiresAt: new Date(T0 + 5000) });
  });

  it('get filters on expiresAt, so an expired document the TTL monitor has not removed reads as missing', async function () {
    await store.set(sid('a'), 'rec', T0 + 5000);
    now = T0 + 5000;
    assert.equal(await store.get(sid('a')), undefined);
    assert.ok(fake.docs.has(sid('a')), 'the fake deletes nothing until its TTL monitor runs');
    assert.equal(fake.runTtlMonitor(), 1);
    assert.equal(fake.docs.size, 0);
  });

  it('set with an expiresAt already past deletes the document instead of writing it', async function () {
    await store.set(sid('a'), 'rec', T0 + 5000);
    await store.set(sid('a'), 'stale', T0 - 1);
    assert.equal(fake.docs.size, 0);
    assert.equal(fake.calls.get('updateOne'), 1);
  });

  it('compareAndSet with expected undefined overwrites an expired leftover but not a live document', async function () {
    await store.set(sid('a'), 'old', T0 + 1000);
    now = T0 + 2000;
    assert.equal(await store.compareAndSet(sid('a'), undefined, 'new', T0 + 9000), true);
    assert.equal(await store.compareAndSet(sid('a'), undefined, 'again', T0 + 9000), false);
    assert.equal(await store.get(sid('a')), 'new');
  });

  it('compareAndSet with expected undefined lets exactly one of 20 racing creators win (E11000 for the rest)', async function () {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.compareAndSet(sid('b'), undefined, `w${i}`, T0 + 9000)));
    assert.equal(results.filter(Boolean).length, 1);
    assert.equal(await store.get(sid('b')), `w${results.indexOf(true)}`);
  });

  it('touch moves expiresAt of a live document only and never creates one', async function () {
    await store.set(sid('a'), 'rec', T0 + 1000);
    await store.touch(sid('a'), T0 + 60_000);
    assert.equal(fake.docs.get(sid('a'))?.expiresAt.getTime(), T0 + 60_000);
    assert.equal(fake.docs.get(sid('a'))?.record, 'rec');
    await store.touch(sid('c'), T0 + 60_000);
    assert.equal(fake.docs.has(sid('c')), false);
    now = T0 + 70_000;
    await store.touch(sid('a'), T0 + 99_000);
    assert.equal(await store.get(sid('a')), undefined, 'an expired document is not revived by touch');
  });

  it('regenerate keeps the expiry, and of two concurrent regenerates only one new id gets the data', async function () {
    await store.set(sid('a'), 'rec', T0 + 7000);
    await Promise.all([store.regenerate(sid('a'), sid('b')), store.regenerate(sid('a'), sid('c'))]);
    const holders = [sid('b'), sid('c')].filter((id) => fake.docs.has(id));
    assert.equal(holders.length, 1);
    assert.equal(fake.docs.get(holders[0]!)?.expiresAt.getTime(), T0 + 7000);
    assert.equal(fake.docs.has(sid('a')), false);
  });

  it('regenerate onto an existing id fails with a store error and puts the old document back', async function () {
    await store.set(sid('a'), 'mine', T0 + 7000);
    await store.set(sid('b'), 'theirs', T0 + 7000);
    await assert.rejects(store.regenerate(sid('a'), sid('b')), { code: 'ERR_SESSION_ID_TAKEN', message: 'session/mongodb: regenerate failed: the new session id is already taken' });
    assert.equal(await store.get(sid('a')), 'mine');
    assert.equal(await store.get(sid('b')), 'theirs');
  });

  it('gc deletes expired documents now and count leaves them out before that', async function () {
    await store.set(sid('a'), 'short', T0 + 1000);
    await store.set(sid('b'), 'long', T0 + 9000);
    now = T0 + 1000;
    assert.equal(await store.count(), 1);
    assert.equal(fake.docs.size, 2);
    await store.gc();
    assert.deepEqual([...fake.docs.keys()], [sid('b')]);
  });

  it('a store call while the server is down rejects with a store error, and works again after it returns', async function () {
    await store.set(sid('a'), 'rec', T0 + 9000);
    fake.down = true;
    await assert.rejects(store.get(sid('a')), (err: unknown) => {
      assert.ok(isSessionError(err, 'ERR_SESSION_STORE'));
      assert.match(err.message, /^session\/mongodb: get failed: /);
      return true;
    });
    await assert.rejects(store.compareAndSet(sid('a'), 'rec', 'x', T0 + 9000), /session\/mongodb: compareAndSet failed/);
    fake.down = false;
    assert.equal(await store.get(sid('a')), 'rec');
  });

  it('every method refuses an invalid session id before calling the driver', async function () {
    for (const bad of ['', '../etc/passwd', 'A'.repeat(32), { $gt: '' } as unknown as string]) {
      await assert.rejects(store.get(bad), /invalid session id/);
      await assert.rejects(store.set(bad, 'x', T0 + 1000), /invalid session id/);
      await assert.rejects(store.destroy(bad), /invalid session id/);
    }
    assert.equal(fake.calls.size, 0);
  });

  it('close runs onClose once however often it is called', async function () {
    let closed = 0;
    const owned = new MongoStore(fake, { onClose: async () => void closed++ });
    await owned.close();
    await owned.close();
    assert.equal(closed, 1);
  });
});
