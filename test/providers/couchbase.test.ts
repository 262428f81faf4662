import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Collection } from 'couchbase';
import { type OpenOptions, type Provider, type Store, isSessionError } from 'sessionkit';
import { CouchbaseStore, provider, keyspaceOf, parseConfig, type CouchbaseCollection, type CouchbaseOptions } from 'sessionkit/providers/couchbase';
import { describeManager, describeStore } from 'sessionkit/testing';
import { FakeCouchbase } from '../fakes/couchbase.ts';
import { configRefusal } from '../support/faults.ts';
import { requireEnvServer } from '../support/servers.ts';

/** REQUIRES lists every optional method CouchbaseStore has; it has no gc, the server expires documents. */
const REQUIRES: (keyof Store)[] = ['compareAndSet', 'touch', 'regenerate', 'count', 'clear', 'indexAdd', 'indexRemove', 'indexList', 'close'];

// No Couchbase server is available to this project's CI: the contract runs over an in-process
// fake of the SDK calls CouchbaseStore makes (test/fakes/couchbase.ts). The suite's fake clock
// drives both the store and the fake's expiry, which has the server's one-second resolution.
const openFake = async (options: OpenOptions) => {
  const fake = new FakeCouchbase(options.now);
  return new CouchbaseStore(fake.collection, { query: fake.query, keyspace: '`sessions`', now: options.now });
};

describeStore('couchbase (fake driver)', { clock: 'fake', expiryResolution: 1000, requires: REQUIRES, rejectsAfterClose: true, open: openFake });

// The Manager flow over the same fake, on real time; the fake stands in for the registered
// provider, whose `open` would connect to a cluster.
const fakeProvider: Provider = { open: (_config, options) => openFake(options) };
describeManager('couchbase (fake driver)', { options: () => ({ provider: fakeProvider }) });

describe('couchbase (cluster at SESSIONKIT_TEST_COUCHBASE_URL)', function () {
  let url = '';
  before(function () {
    const base = requireEnvServer(this, 'SESSIONKIT_TEST_COUCHBASE_URL', 'couchbase://Administrator:password@127.0.0.1?bucket=sessions');
    // Each run gets its own key prefix, so count and clear see only this run's sessions.
    const prefix = `sessionkit_test_${randomBytes(4).toString('hex')}:`;
    url = /[?&]prefix=/.test(base) ? base : `${base}${base.includes('?') ? '&' : '?'}prefix=${encodeURIComponent(prefix)}`;
  });

  // The server expires documents by its own clock, so this row runs on real time.
  describeStore('couchbase (server)', { clock: 'real', expiryResolution: 1000, requires: REQUIRES, rejectsAfterClose: true, open: (options) => provider.open(url, options) });
  describeManager('couchbase (server)', { options: () => ({ provider: 'couchbase', providerConfig: url }) });
});

// The SDK's collection must satisfy the interface the store is written against.
const sdkCollectionFits = (c: Collection): CouchbaseCollection => c;
void sdkCollectionFits;

const SECRET = 'pa,ss@w#rd';
const ENCODED = encodeURIComponent(SECRET);

const refuses = configRefusal('couchbase', parseConfig, [SECRET, ENCODED, 'w#rd']);

const base: CouchbaseOptions = {
  connectionString: 'couchbase://127.0.0.1',
  username: undefined,
  password: undefined,
  bucket: 'sessions',
  scope: '_default',
  collection: '_default',
  prefix: '',
};

describe('couchbase parseConfig', function () {
  const cases: Array<[string, CouchbaseOptions]> = [
    ['http://127.0.0.1:8091/,default,sessions', base],
    ['http://127.0.0.1:8091/, default, sessions', base],
    [' http://localhost:8091 ,default,macaron ', { ...base, connectionString: 'couchbase://localhost', bucket: 'macaron' }],
    [
      `http://app:${ENCODED}@cb1.example.net:8091/pools,default,beego`,
      { ...base, connectionString: 'couchbase://cb1.example.net', bucket: 'beego', username: 'app', password: SECRET },
    ],
    ['https://cb1:18091/,default,sessions', { ...base, connectionString: 'couchbases://cb1' }],
    ['{"save_path":"http://127.0.0.1:8091/","pool":"default","bucket":"sessions"}', base],
    [
      `{"save_path":"couchbase://cb1,cb2","bucket":"web","username":"app","password":"${SECRET}","prefix":"sess:"}`,
      { ...base, connectionString: 'couchbase://cb1,cb2', bucket: 'web', username: 'app', password: SECRET, prefix: 'sess:' },
    ],
    ['couchbase://127.0.0.1?bucket=sessions', base],
    [
      `couchbase://app:${ENCODED}@cb1,cb2:11210?bucket=web&scope=app&collection=sessions&prefix=sess%3A&network=external`,
      {
        connectionString: 'couchbase://cb1,cb2:11210?network=external',
        username: 'app',
        password: SECRET,
        bucket: 'web',
        scope: 'app',
        collection: 'sessions',
        prefix: 'sess:',
      },
    ],
    [
      `couchbases://cb.cloud.example.com/?bucket=s&username=app&password=${ENCODED}`,
      { ...base, connectionString: 'couchbases://cb.cloud.example.com', bucket: 's', username: 'app', password: SECRET },
    ],
  ];
  for (const [config, expected] of cases) {
    it(`parseConfig reads ${JSON.stringify(config.replace(ENCODED, '***').replace(SECRET, '***'))} exactly`, function () {
      assert.deepEqual(parseConfig(config), expected);
    });
  }

  it('parseConfig keeps credentials out of the connection string', function () {
    const parsed = parseConfig(`couchbase://app:${ENCODED}@cb1?bucket=b`);
    assert.equal(parsed.connectionString, 'couchbase://cb1');
  });

  it('parseConfig refuses an empty config with an example', function () {
    refuses(' ', /must name a bucket/);
  });

  it('parseConfig refuses a missing or invalid bucket, naming bucket', function () {
    refuses('couchbase://cb1', /bucket is missing/);
    refuses('couchbase://cb1?bucket=', /bucket is missing/);
    refuses('couchbase://cb1?bucket=a`b', /bucket "a`b" is not a valid bucket name/);
    refuses('{"save_path":"http://h:8091/"}', /bucket is missing/);
  });

  it('parseConfig refuses invalid scope, collection and prefix, naming the key', function () {
    refuses('couchbase://cb1?bucket=b&scope=a.b', /scope "a\.b"/);
    refuses('couchbase://cb1?bucket=b&collection=x`', /collection "x`"/);
    refuses('couchbase://cb1?bucket=b&prefix=a%20b', /prefix must be/);
  });

  it('parseConfig refuses a pool other than default, naming pool', function () {
    refuses('http://h:8091/,mypool,sessions', /pool must be "default"/);
    refuses('{"save_path":"http://h:8091/","pool":"x","bucket":"b"}', /pool must be "default"/);
  });

  it('parseConfig refuses the wrong number of legacy fields', function () {
    refuses('http://h:8091/,default', /expected save_path,pool,bucket/);
    refuses('http://h:8091/,default,b,extra', /expected save_path,pool,bucket/);
  });

  it('parseConfig refuses a legacy address that is not the management port', function () {
    refuses('http://h:9000/,default,b', /save_path port 9000/);
    refuses('http://h:8091/x,default,b', /save_path must be a bare/);
  });

  it('parseConfig refuses bad JSON, unknown JSON keys and non-string values, naming them', function () {
    refuses('{"save_path":', /not valid JSON/);
    refuses('{"save_path":"http://h:8091/","bucket":"b","db_num":0}', /unsupported option "db_num"/);
    refuses('{"save_path":"http://h:8091/","bucket":7}', /bucket must be a string/);
    refuses('{}', /save_path is missing/);
  });

  it('parseConfig refuses credentials given twice without printing them', function () {
    refuses(`couchbase://app:${ENCODED}@cb1?bucket=b&password=${ENCODED}`, /password is given twice/);
    refuses('couchbase://cb1?bucket=a&bucket=b', /bucket is given twice/);
  });

  it('parseConfig refuses a path or another scheme without echoing the password', function () {
    refuses(`couchbase://app:${SECRET}/x@cb1?bucket=b`, /percent-encode/);
    refuses(`couchbase://app:${ENCODED}@cb1/sessions`, /\?bucket=/);
    refuses(`redis://app:${ENCODED}@cb1`, /couchbase:\/\//);
  });

  it('keyspaceOf quotes names and uses the bucket alone for the default collection', function () {
    assert.equal(keyspaceOf('sessions', '_default', '_default'), '`sessions`');
    assert.equal(keyspaceOf('app', 'web', 'sessions'), '`app`.`web`.`sessions`');
  });
});

describe('couchbase provider open', function () {
  this.timeout(15_000);

  // The SDK gives up on an unreachable cluster after its connect timeout (3 s here).
  it('open against a cluster that is down fails within seconds, naming the address and not the password', async function () {
    const started = Date.now();
    await assert.rejects(provider.open(`couchbase://app:${ENCODED}@127.0.0.1:1?bucket=sessions`, { maxLifetime: 1000 }), (err: unknown) => {
      assert.ok(isSessionError(err, 'ERR_SESSION_STORE'), String(err));
      assert.match(err.message, /^session\/couchbase: cannot open couchbase:\/\/127\.0\.0\.1:1 bucket sessions: /);
      assert.ok(!err.message.includes('w#rd') && !err.message.includes(ENCODED), err.message);
      return true;
    });
    const took = Date.now() - started;
    assert.ok(took < 8000, `took ${took} ms`);
  });

  it('open refuses a bad config before loading the sdk', async function () {
    await assert.rejects(provider.open('couchbase://cb1', { maxLifetime: 1000 }), /bucket is missing/);
  });
});

describe('couchbase store over the fake sdk', function () {
  const T0 = Date.UTC(2030, 0, 1);
  const DAY = 86_400_000;
  const sid = (c: string) => c.repeat(32);
  let now = T0;
  let fake: FakeCouchbase;
  let store: CouchbaseStore;
  beforeEach(function () {
    now = T0;
    fake = new FakeCouchbase(() => now);
    store = new CouchbaseStore(fake.collection, { query: fake.query, keyspace: '`app`.`web`.`sessions`', prefix: 'sess:', now: () => now });
  });

  it('set stores a JSON document under prefix + sid with an absolute expiry in seconds', async function () {
    await store.set(sid('a'), 'rec', T0 + 5500);
    const doc = fake.docs.get(`sess:${sid('a')}`);
    assert.deepEqual(JSON.parse(doc!.json), { record: 'rec' });
    assert.equal(doc!.expiry, Math.floor((T0 + 5500) / 1000));
  });

  it('a lifetime over 30 days is passed as a Date, so the document lives for the full lifetime', async function () {
    await store.set(sid('a'), 'long', T0 + 45 * DAY);
    assert.equal(fake.docs.get(`sess:${sid('a')}`)!.expiry, (T0 + 45 * DAY) / 1000);
    now = T0 + 44 * DAY;
    assert.equal(await store.get(sid('a')), 'long');
    now = T0 + 45 * DAY;
    assert.equal(await store.get(sid('a')), undefined);
  });

  it('set with an expiresAt already past removes the document instead of writing it', async function () {
    await store.set(sid('a'), 'rec', T0 + 5000);
    await store.set(sid('a'), 'stale', T0);
    assert.equal(fake.docs.size, 0);
  });

  it('compareAndSet uses CAS: a write between get and replace makes it return false', async function () {
    await store.set(sid('a'), 'v1', T0 + 9000);
    const racing = store.compareAndSet(sid('a'), 'v1', 'mine', T0 + 9000);
    await store.set(sid('a'), 'v1', T0 + 9000); // same content, new CAS
    assert.equal(await racing, false);
    assert.equal(await store.get(sid('a')), 'v1');
  });

  it('compareAndSet with expected undefined and a past expiry writes nothing and reports whether none was live', async function () {
    assert.equal(await store.compareAndSet(sid('a'), undefined, 'x', T0 - 1), true);
    assert.equal(fake.docs.size, 0);
    await store.set(sid('b'), 'live', T0 + 9000);
    assert.equal(await store.compareAndSet(sid('b'), undefined, 'x', T0 - 1), false);
  });

  it('touch moves the expiry natively and never creates a document', async function () {
    await store.set(sid('a'), 'rec', T0 + 1000);
    await store.touch(sid('a'), T0 + 60_000);
    assert.equal(fake.docs.get(`sess:${sid('a')}`)!.expiry, (T0 + 60_000) / 1000);
    await store.touch(sid('b'), T0 + 60_000);
    assert.equal(fake.docs.has(`sess:${sid('b')}`), false);
  });

  it('regenerate keeps the expiry, and of two concurrent regenerates only one new id gets the data', async function () {
    await store.set(sid('a'), 'rec', T0 + 7000);
    await Promise.all([store.regenerate(sid('a'), sid('b')), store.regenerate(sid('a'), sid('c'))]);
    const holders = [sid('b'), sid('c')].filter((id) => fake.docs.has(`sess:${id}`));
    assert.equal(holders.length, 1);
    assert.equal(fake.docs.get(`sess:${holders[0]}`)!.expiry, (T0 + 7000) / 1000);
    assert.equal(fake.docs.has(`sess:${sid('a')}`), false);
  });

  it('regenerate onto an existing id fails with a store error and puts the old document back', async function () {
    await store.set(sid('a'), 'mine', T0 + 7000);
    await store.set(sid('b'), 'theirs', T0 + 7000);
    await assert.rejects(store.regenerate(sid('a'), sid('b')), { code: 'ERR_SESSION_ID_TAKEN', message: 'session/couchbase: regenerate failed: the new session id is already taken' });
    assert.equal(await store.get(sid('a')), 'mine');
    assert.equal(await store.get(sid('b')), 'theirs');
  });

  it('count and clear see only keys that are this prefix followed by a session id', async function () {
    await store.set(sid('a'), 'mine', T0 + 9000);
    await fake.collection.upsert(`sess:config`, { record: 'not a session' });
    await fake.collection.upsert(`other:${sid('b')}`, { record: 'other app' }, { expiry: new Date(T0 + 9000) });
    await fake.collection.upsert(sid('c'), { record: 'no prefix' }, { expiry: new Date(T0 + 9000) });
    assert.equal(await store.count(), 1);
    await store.clear();
    assert.deepEqual([...fake.docs.keys()].sort(), [`other:${sid('b')}`, 'sess:config', sid('c')].sort());
  });

  it('count sends request_plus SQL++ against the configured keyspace', async function () {
    await store.count();
    assert.match(fake.statements[0]!, /^SELECT RAW COUNT\(\*\) FROM `app`\.`web`\.`sessions` AS d WHERE /);
  });

  it('count escapes regex characters of the prefix', async function () {
    const dotted = new CouchbaseStore(fake.collection, { query: fake.query, keyspace: '`s`', prefix: 'a.b', now: () => now });
    await dotted.set(sid('a'), 'x', T0 + 9000);
    await fake.collection.upsert(`aXb${sid('b')}`, { record: 'y' }, { expiry: new Date(T0 + 9000) });
    assert.equal(await dotted.count(), 1);
  });

  it('count without an index fails with a message telling how to create one', async function () {
    fake.primaryIndex = false;
    await assert.rejects(store.count(), (err: unknown) => {
      assert.ok(isSessionError(err, 'ERR_SESSION_STORE'));
      assert.match(err.message, /^session\/couchbase: count failed: it needs the query service and an index on `app`\.`web`\.`sessions` \(CREATE PRIMARY INDEX ON/);
      return true;
    });
  });

  it('a call while the cluster is down rejects with a store error, and works again after it returns', async function () {
    await store.set(sid('a'), 'rec', T0 + 9000);
    fake.down = true;
    await assert.rejects(store.get(sid('a')), /^SessionError: session\/couchbase: get failed: /);
    await assert.rejects(store.compareAndSet(sid('a'), 'rec', 'x', T0 + 9000), /session\/couchbase: compareAndSet failed/);
    await assert.rejects(store.count(), /session\/couchbase: count failed/);
    fake.down = false;
    assert.equal(await store.get(sid('a')), 'rec');
  });

  it('a document of another shape under a session key reads as its JSON text for the codec to reject', async function () {
    await fake.collection.upsert(`sess:${sid('a')}`, { other: 1 } as never, { expiry: new Date(T0 + 9000) });
    assert.equal(await store.get(sid('a')), '{"other":1}');
  });

  it('every method refuses an invalid session id before calling the sdk', async function () {
    for (const bad of ['', '../x', 'A'.repeat(32), `${'a'.repeat(32)}%`]) {
      await assert.rejects(store.get(bad), /session\/couchbase: refused an invalid session id/);
      await assert.rejects(store.set(bad, 'x', T0 + 1000), /invalid session id/);
      await assert.rejects(store.touch(bad, T0 + 1000), /invalid session id/);
    }
    assert.equal(fake.docs.size, 0);
  });

  it('close runs onClose once however often it is called', async function () {
    let closed = 0;
    const owned = new CouchbaseStore(fake.collection, { query: fake.query, keyspace: '`s`', onClose: async () => void closed++ });
    await owned.close();
    await owned.close();
    assert.equal(closed, 1);
  });
});
