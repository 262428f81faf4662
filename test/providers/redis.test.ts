import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { type Store, generateId, isSessionError } from 'sessionkit';
import { provider, parseConfig, type RedisOptions } from 'sessionkit/providers/redis';
import { describeManager, describeStore } from 'sessionkit/testing';
import { configRefusal, expectOutageRecovery, freePort, redisServer, rejectsWithin, type RedisServer } from '../support/faults.ts';
import { requireServer } from '../support/servers.ts';
import { SLICE } from '../../providers/redis/request-connection.ts';

/** Each run writes under its own prefix, so rows never see each other's keys or the shared server's. */
const prefix = () => `sessionkit_test:${randomBytes(4).toString('hex')}:`;

/** requires lists every optional method the redis store has; gc is left out, Redis expires keys itself. */
const requires: (keyof Store)[] = ['compareAndSet', 'touch', 'regenerate', 'count', 'clear', 'indexAdd', 'indexRemove', 'indexList'];

/** describeRedis runs the Store contract and the Manager flow over one redis config, each under its own prefix. */
function describeRedis(name: string, config: (prefix: string) => string): void {
  const storeConfig = config(prefix());
  describeStore(name, { clock: 'real', requires, rejectsAfterClose: true, open: (options) => provider.open(storeConfig, options) });
  const managerConfig = config(prefix());
  describeManager(name, { options: () => ({ provider: 'redis', providerConfig: managerConfig }) });
}

describe('redis standalone (127.0.0.1:6379)', function () {
  before(async function () {
    await requireServer(this, 'redis', '127.0.0.1', 6379);
  });
  describeRedis('redis', (p) => `redis://127.0.0.1:6379/0?prefix=${p}`);
});

describe('redis errors without a password', function () {
  before(async function () {
    await requireServer(this, 'redis', '127.0.0.1', 6379);
  });

  it('a failing command shows no session id in the message, the cause chain, util.inspect at any depth or JSON', async function () {
    const prefix = `sessionkit_test:${randomBytes(4).toString('hex')}:`;
    const store = await provider.open(`redis://127.0.0.1:6379/0?prefix=${prefix}`, { maxLifetime: 3_600_000 });
    const admin = new Redis({ host: '127.0.0.1', port: 6379 });
    const sid = generateId();
    try {
      await admin.rpush(`${prefix}${sid}`, 'not a string'); // GET of a list fails with WRONGTYPE
      const err = await store.get(sid).then(() => assert.fail('get of a list resolved'), (e: Error) => e);
      assert.ok(isSessionError(err, 'ERR_SESSION_STORE'), err.message);
      assert.match(err.message, /WRONGTYPE/);
      const logged = `${err.message}\n${inspect(err, { depth: Infinity })}\n${JSON.stringify(err)}`;
      assert.ok(!logged.includes(sid), logged);
    } finally {
      await admin.del(`${prefix}${sid}`);
      admin.disconnect();
      await store.close!();
    }
  });
});

describe('redis cluster (127.0.0.1:7000-7002)', function () {
  before(async function () {
    await requireServer(this, 'redis cluster (.ci/redis-cluster.sh)', '127.0.0.1', 7000);
  });
  describeRedis('redis cluster', (p) => `redis+cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002?prefix=${p}`);
});

describe('redis sentinel (127.0.0.1:26379, master "sessionkit")', function () {
  before(async function () {
    await requireServer(this, 'redis sentinel (.ci/redis-sentinel.sh)', '127.0.0.1', 26379);
  });
  describeRedis('redis sentinel', (p) => `ha_mode=sentinel,master_name=sessionkit,sentinel_addrs=127.0.0.1:26379,db=0,prefix=${p}`);
});

const refuses = configRefusal('redis', parseConfig, ['s3cr']);

const HOUR = 3_600_000;
const MINUTE = 60_000;
const PASSWORD = 'Sup3r-s3cret-pw';
const open = (config: string) => provider.open(config, { maxLifetime: HOUR });
const later = () => Date.now() + HOUR;

const defaults = {
  db: 0,
  prefix: 'session:',
  tls: false,
  tlsSkipVerify: false,
  connectTimeoutMs: 3000,
  commandTimeoutMs: 3000,
  maxRetries: 0,
};
const local = (port: number, host = '127.0.0.1') => ({ host, port });

describe('redis parseConfig', function () {
  const accepted: Array<[string, RedisOptions]> = [
    // beego CSV
    ['127.0.0.1:6379', { mode: 'standalone', nodes: [local(6379)], ...defaults }],
    ['127.0.0.1:6379,100,pass', { mode: 'standalone', nodes: [local(6379)], ...defaults, poolSize: 100, password: 'pass' }],
    [
      '127.0.0.1:6379,100,astaxie,0,30',
      { mode: 'standalone', nodes: [local(6379)], ...defaults, poolSize: 100, password: 'astaxie', idleTimeoutMs: 30_000 },
    ],
    [
      '127.0.0.1:6379,100,astaxie,2,30,60,3',
      {
        mode: 'standalone',
        nodes: [local(6379)],
        ...defaults,
        db: 2,
        poolSize: 100,
        password: 'astaxie',
        idleTimeoutMs: 30_000,
        idleCheckFrequencyMs: 60_000,
        maxRetries: 3,
      },
    ],
    ['127.0.0.1:6379,,,1', { mode: 'standalone', nodes: [local(6379)], ...defaults, db: 1 }],
    ['127.0.0.1:6379,100, sp ace ,1', { mode: 'standalone', nodes: [local(6379)], ...defaults, db: 1, poolSize: 100, password: ' sp ace ' }],
    // beego redis_cluster
    ['127.0.0.1:7000;127.0.0.1:7001,100,,0', { mode: 'cluster', nodes: [local(7000), local(7001)], ...defaults, poolSize: 100 }],
    [
      '127.0.0.1:6379;127.0.0.1:6380,100,test,0',
      { mode: 'cluster', nodes: [local(6379), local(6380)], ...defaults, poolSize: 100, password: 'test' },
    ],
    // beego redis_sentinel: a 5th field that is a name
    [
      '127.0.0.1:26379;127.0.0.2:26379,100,pass,0,mymaster',
      {
        mode: 'sentinel',
        nodes: [local(26379), local(26379, '127.0.0.2')],
        ...defaults,
        masterName: 'mymaster',
        poolSize: 100,
        password: 'pass',
      },
    ],
    [
      '127.0.0.1:26379,100,,3,sessionkit,30',
      { mode: 'sentinel', nodes: [local(26379)], ...defaults, db: 3, masterName: 'sessionkit', poolSize: 100, idleTimeoutMs: 30_000 },
    ],
    // beego JSON
    [
      '{"save_path":"127.0.0.1:6379","poolsize":100,"password":"","db_num":0,"idle_timeout":"30s","idle_check_frequency":"60s","max_retries":3}',
      { mode: 'standalone', nodes: [local(6379)], ...defaults, poolSize: 100, idleTimeoutMs: 30_000, idleCheckFrequencyMs: 60_000, maxRetries: 3 },
    ],
    [
      '{"save_path":"127.0.0.1:7000;127.0.0.1:7001","password":"pw","db_num":"0"}',
      { mode: 'cluster', nodes: [local(7000), local(7001)], ...defaults, password: 'pw' },
    ],
    [
      '{"save_path":"127.0.0.1:26379;127.0.0.2:26379","master_name":"mymaster","db_num":1,"prefix":"app:s:"}',
      { mode: 'sentinel', nodes: [local(26379), local(26379, '127.0.0.2')], ...defaults, db: 1, masterName: 'mymaster', prefix: 'app:s:' },
    ],
    [
      '{"save_path":"cache:6379","tls":true,"dial_timeout":"500ms","read_timeout":"2s","write_timeout":"4s"}',
      { mode: 'standalone', nodes: [local(6379, 'cache')], ...defaults, tls: true, connectTimeoutMs: 500, commandTimeoutMs: 4000 },
    ],
    // macaron key=value
    [
      'network=tcp,addr=127.0.0.1:6379,password=macaron,db=0,pool_size=100,idle_timeout=180,prefix=session:',
      { mode: 'standalone', nodes: [local(6379)], ...defaults, password: 'macaron', poolSize: 100, idleTimeoutMs: 180_000 },
    ],
    ['addr=127.0.0.1:6379,tls=true', { mode: 'standalone', nodes: [local(6379)], ...defaults, tls: true }],
    [
      'addr=127.0.0.1:6379,tls=true,tls_skip_verify=true,prefix=myapp:',
      { mode: 'standalone', nodes: [local(6379)], ...defaults, tls: true, tlsSkipVerify: true, prefix: 'myapp:' },
    ],
    [
      'ha_mode=sentinel,master_name=mymaster,sentinel_addrs=h1:26379|h2:26379,password=pw,db=0,pool_size=100,dial_timeout=5,read_timeout=3,write_timeout=3,idle_timeout=180,prefix=session:',
      {
        mode: 'sentinel',
        nodes: [local(26379, 'h1'), local(26379, 'h2')],
        ...defaults,
        masterName: 'mymaster',
        password: 'pw',
        poolSize: 100,
        connectTimeoutMs: 5000,
        idleTimeoutMs: 180_000,
      },
    ],
    [
      'HA_MODE=sentinel,MASTER_NAME=m,Sentinel_Addrs=h1:26379,sentinel_password=sp',
      { mode: 'sentinel', nodes: [local(26379, 'h1')], ...defaults, masterName: 'm', sentinelPassword: 'sp' },
    ],
    // URLs
    ['redis://127.0.0.1', { mode: 'standalone', nodes: [local(6379)], ...defaults }],
    [
      'redis://:pass@127.0.0.1:6379/0?prefix=session:',
      { mode: 'standalone', nodes: [local(6379)], ...defaults, password: 'pass' },
    ],
    [
      'redis://app:p%40ss%2Cw%3Dd@[::1]:6380/4?prefix=a%2Bb:&read_timeout=1500ms&max_retries=0',
      {
        mode: 'standalone',
        nodes: [local(6380, '::1')],
        ...defaults,
        db: 4,
        username: 'app',
        password: 'p@ss,w=d',
        prefix: 'a+b:',
        commandTimeoutMs: 3000,
        maxRetries: 0,
      },
    ],
    [
      'redis://:pass@127.0.0.1:6379/0?pool_size=100&idle_timeout=180s',
      { mode: 'standalone', nodes: [local(6379)], ...defaults, password: 'pass', poolSize: 100, idleTimeoutMs: 180_000 },
    ],
    ['redis://127.0.0.1:6379?db=5', { mode: 'standalone', nodes: [local(6379)], ...defaults, db: 5 }],
    ['rediss://cache.example:6380', { mode: 'standalone', nodes: [local(6380, 'cache.example')], ...defaults, tls: true }],
    [
      'rediss://cache.example?tls_skip_verify=true',
      { mode: 'standalone', nodes: [local(6379, 'cache.example')], ...defaults, tls: true, tlsSkipVerify: true },
    ],
    [
      'redis+cluster://h1:7000,h2:7001,h3',
      { mode: 'cluster', nodes: [local(7000, 'h1'), local(7001, 'h2'), local(6379, 'h3')], ...defaults },
    ],
    [
      'redis+cluster://:pw@h1:7000,h2:7001/0?prefix=c:',
      { mode: 'cluster', nodes: [local(7000, 'h1'), local(7001, 'h2')], ...defaults, password: 'pw', prefix: 'c:' },
    ],
    ['rediss+cluster://h1:7000', { mode: 'cluster', nodes: [local(7000, 'h1')], ...defaults, tls: true }],
    [
      'redis+sentinel://h1:26379,h2/mymaster?db=2',
      { mode: 'sentinel', nodes: [local(26379, 'h1'), local(26379, 'h2')], ...defaults, db: 2, masterName: 'mymaster' },
    ],
    [
      'redis+sentinel://:pw@h1/mymaster/3',
      { mode: 'sentinel', nodes: [local(26379, 'h1')], ...defaults, db: 3, masterName: 'mymaster', password: 'pw' },
    ],
    [
      'redis+sentinel://h1:26379/1?master_name=mymaster&sentinel_password=sp',
      { mode: 'sentinel', nodes: [local(26379, 'h1')], ...defaults, db: 1, masterName: 'mymaster', sentinelPassword: 'sp' },
    ],
    // wait_replicas: WAIT after each write; a bare wait_timeout counts milliseconds, as WAIT does
    ['redis://h1?wait_replicas=1', { mode: 'standalone', nodes: [local(6379, 'h1')], ...defaults, waitReplicas: 1, waitTimeoutMs: 100 }],
    [
      'redis+cluster://h1:7000?wait_replicas=2&wait_timeout=250',
      { mode: 'cluster', nodes: [local(7000, 'h1')], ...defaults, waitReplicas: 2, waitTimeoutMs: 250 },
    ],
    ['addr=h1:6379,wait_replicas=1,wait_timeout=1s', { mode: 'standalone', nodes: [local(6379, 'h1')], ...defaults, waitReplicas: 1, waitTimeoutMs: 1000 }],
    ['{"save_path":"h1:6379","wait_replicas":1,"wait_timeout":"50ms"}', { mode: 'standalone', nodes: [local(6379, 'h1')], ...defaults, waitReplicas: 1, waitTimeoutMs: 50 }],
    ['redis://h1?wait_replicas=0', { mode: 'standalone', nodes: [local(6379, 'h1')], ...defaults }],
  ];

  for (const [config, expected] of accepted) {
    it(`parseConfig reads ${JSON.stringify(config)} exactly`, function () {
      assert.deepEqual(parseConfig(config), expected);
    });
  }

  const rejected: Array<[string, RegExp]> = [
    ['', /empty/],
    ['   ', /empty/],
    ['127.0.0.1', /missing its port/],
    ['127.0.0.1:', /addr/],
    ['127.0.0.1:99999', /port/],
    ['127.0.0.1:6379 trailing', /addr/],
    ['127.0.0.1:6379,abc,pw', /pool_size \(2nd field\) must be a whole number/],
    ['127.0.0.1:6379,100,pw,x', /db \(4th field\) must be a whole number/],
    ['127.0.0.1:6379,100,pw,-1', /db \(4th field\) must be between/],
    ['127.0.0.1:6379,100,pw,0,3O', /idle_timeout \(5th field\)/],
    ['127.0.0.1:6379,100,pw,0,30,60,3,extra', /too many/],
    ['127.0.0.1:7000;;127.0.0.1:7001', /empty address/],
    ['127.0.0.1:7000;127.0.0.1:7001,100,,1', /db must be 0 in cluster mode/],
    ['{"save_path":"127.0.0.1:6379"', /not valid JSON/],
    ['{"poolsize":100}', /save_path is required/],
    ['{"save_path":"127.0.0.1:6379","db":1}', /unsupported option "db"/],
    ['{"save_path":"127.0.0.1:6379","idle_timeout":""}', /idle_timeout must be a duration/],
    ['{"save_path":"127.0.0.1:6379","poolsize":"many"}', /poolsize must be a whole number/],
    ['{"save_path":"127.0.0.1:6379","password":null}', /password must be a string/],
    ['["127.0.0.1:6379"]', /addr/],
    ['addr=127.0.0.1:6379,colour=blue', /unsupported option "colour"/],
    ['addr=127.0.0.1:6379,db=zero', /db must be a whole number/],
    ['addr=127.0.0.1:6379,idle_timeout=soon', /idle_timeout must be a duration/],
    ['addr=127.0.0.1:6379,tls=maybe', /tls must be true or false/],
    ['addr=127.0.0.1:6379,tls_skip_verify=true', /tls_skip_verify needs TLS/],
    ['addr=127.0.0.1:6379,network=udp', /network must be tcp/],
    ['addr=127.0.0.1:6379,prefix=', /prefix must not be empty/],
    ['addr=127.0.0.1:6379,db=1,db=2', /db is given twice/],
    ['network=tcp,password=x', /addr is required/],
    ['addr=127.0.0.1,db=0', /addr is missing its port/],
    ['ha_mode=sentinel,master_name=m', /sentinel_addrs is required/],
    ['ha_mode=sentinel,sentinel_addrs=h1:26379', /master_name is required/],
    ['ha_mode=cluster,addr=h:1', /ha_mode must be sentinel/],
    ['ha_mode=sentinel,master_name=m,sentinel_addrs=h1:26379||h2:26379', /sentinel_addrs has an empty address/],
    ['addr=h:1,master_name=m', /master_name needs ha_mode=sentinel/],
    ['redis://127.0.0.1:6379/x', /db \(URL path\) must be a whole number/],
    ['redis://127.0.0.1:6379/0/1', /URL path must be \/<db>/],
    ['redis://127.0.0.1:6379/0?db=1', /db is given both/],
    ['redis://127.0.0.1:6379?bogus=1', /unsupported option "bogus"/],
    ['redis://127.0.0.1:6379?prefix=a&prefix=b', /prefix is given twice/],
    ['redis://127.0.0.1:6379?read_timeout=0', /read_timeout must be greater than zero/],
    ['redis://127.0.0.1:6379?read_timeout=fast', /read_timeout must be a duration/],
    ['redis://127.0.0.1:6379?wait_timeout=100', /wait_timeout needs wait_replicas of 1 or more/],
    ['redis://127.0.0.1:6379?wait_replicas=1&wait_timeout=0', /wait_timeout must be greater than zero/],
    ['redis://127.0.0.1:6379?wait_replicas=-1', /wait_replicas must be between 0 and 100/],
    ['redis://127.0.0.1:6379?wait_replicas=one', /wait_replicas must be a whole number/],
    ['redis://127.0.0.1:6379?prefix=', /prefix must not be empty/],
    ['redis://127.0.0.1:6379?prefix=a%20b', /prefix must not contain whitespace/],
    ['redis://127.0.0.1:6379?tls_skip_verify=true', /tls_skip_verify needs TLS/],
    ['redis://h1:6379,h2:6379', /takes one host/],
    ['redis://h:abc', /URL host/],
    ['redis://127.0.0.1:6379#frag', /fragment/],
    ['redis+cluster://h1:7000/2', /db must be 0 in cluster mode/],
    ['redis+sentinel://h1:26379', /master_name is required/],
    ['redis+sentinel://h1:26379/m/1/2', /\/<master_name>\[\/<db>\]/],
    ['memcache://h:11211', /unsupported URL scheme "memcache"/],
    ['redis://:%ZZ@h:6379', /URL password has an invalid percent escape/],
    // A quote closed early leaves the password's tail where an option name goes: it is not shown.
    ["addr=':0,password='s3cr\"3t=x'", /unsupported option \(name not shown/],
    ["addr=127.0.0.1:6379,network='tcp,password=s3cr3t'", /network must be tcp, got a value that is not shown/],
  ];
  for (const [config, pattern] of rejected) {
    it(`parseConfig refuses ${JSON.stringify(config)} naming the problem`, function () {
      refuses(config, pattern);
    });
  }
});

/** newPrefix is a fresh key prefix of this test run's own, so tests never see each other's keys. */
const newPrefix = () => `sessionkit_test:${randomBytes(4).toString('hex')}:`;

/** digestKey is the Redis key of index key `key` under `prefix`, as the README documents it. */
const digestKey = (prefix: string, key: string) =>
  `${prefix}index:${createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('base64url')}`;

/** SkewedClock is a store clock that runs `skew` ms ahead of the real one, so tests move time without waiting. */
interface SkewedClock {
  skew: number;
  now(): number;
}

function skewedClock(): SkewedClock {
  const clock = { skew: 0, now: () => Date.now() + clock.skew };
  return clock;
}

/** foreignKeys are keys the store must never count or delete: near misses of its prefix. */
function foreignKeys(prefix: string, lookalike: string): string[] {
  return [
    `${lookalike}${generateId()}`, // what the unescaped glob would also match
    `${prefix}not-a-session-id`, // right prefix, not a session id
    `${prefix.slice(0, -1)}${generateId()}`, // the prefix minus its last character
  ];
}

describe('redis store against 127.0.0.1:6379', function () {
  this.timeout(20_000);
  let raw: Redis;
  before(async function () {
    await requireServer(this, 'redis', '127.0.0.1', 6379);
    raw = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    await raw.connect();
  });
  after(async function () {
    await raw?.quit();
  });

  it('count and clear touch only this store\'s keys when the prefix holds glob characters', async function () {
    const tag = randomBytes(4).toString('hex');
    const prefix = `sessionkit_test:${tag}:*?[ab]\\:`;
    // `*?[ab]\:` as an unescaped glob also matches "XYb:" in its place.
    const lookalike = `sessionkit_test:${tag}:XYb:`;
    const foreign = foreignKeys(prefix, lookalike);
    const store = await open(`redis://127.0.0.1:6379/0?prefix=${encodeURIComponent(prefix)}`);
    try {
      for (const key of foreign) await raw.set(key, 'not mine', 'PX', 60_000);
      const ids = [generateId(), generateId(), generateId()];
      for (const id of ids) await store.set(id, 'mine', later());
      assert.equal(await raw.exists(`${prefix}${ids[0]}`), 1);
      assert.equal(await store.count!(), 3);
      await store.clear!();
      assert.equal(await store.count!(), 0);
      for (const key of foreign) assert.equal(await raw.get(key), 'not mine', key);
    } finally {
      await raw.del(...foreign);
      await store.close!();
    }
  });

  it('set with a TTL stores the record with a native PX expiry, and touch only moves it', async function () {
    const prefix = newPrefix();
    const store = await open(`redis://127.0.0.1:6379?prefix=${prefix}`);
    try {
      const id = generateId();
      await store.set(id, 'ttl', Date.now() + 60_000);
      const ttl = await raw.pttl(`${prefix}${id}`);
      assert.ok(ttl > 55_000 && ttl <= 60_000, `pttl ${ttl}`);
      await store.touch!(id, Date.now() + 120_000);
      assert.ok((await raw.pttl(`${prefix}${id}`)) > 115_000);
      assert.equal(await raw.get(`${prefix}${id}`), 'ttl');
      await store.set(id, 'gone', Date.now() - 1);
      assert.equal(await raw.exists(`${prefix}${id}`), 0);
    } finally {
      await store.close!();
    }
  });

  it('a store refuses invalid ids before they reach a key, and every call after close', async function () {
    const store = await open(`redis://127.0.0.1:6379?prefix=${newPrefix()}`);
    await assert.rejects(store.get('../../etc/passwd'), (err) => isSessionError(err, 'ERR_SESSION_INVALID_ID'));
    await assert.rejects(store.set('*', 'x', later()), (err) => isSessionError(err, 'ERR_SESSION_INVALID_ID'));
    await store.close!();
    await store.close!();
    await assert.rejects(store.get(generateId()), (err) => isSessionError(err, 'ERR_SESSION_CLOSED'));
  });

  describe('index', function () {
    let store: Store;
    let prefix: string;
    let clock: SkewedClock;

    beforeEach(async function () {
      prefix = newPrefix();
      clock = skewedClock();
      store = await provider.open(`redis://127.0.0.1:6379/0?prefix=${prefix}`, { maxLifetime: HOUR, now: clock.now });
    });
    afterEach(async function () {
      await store?.clear?.();
      await store?.close?.();
    });

    it('indexAdd keeps one sorted set per key, scored by expiresAt, whose TTL follows its latest entry', async function () {
      const key = 'user:alice';
      const [a, b] = [generateId(), generateId()];
      const soon = clock.now() + 10 * MINUTE;
      const late = clock.now() + 30 * MINUTE;
      await store.indexAdd!(key, a, late);
      await store.indexAdd!(key, b, soon);
      const redisKey = digestKey(prefix, key);
      assert.deepEqual(await raw.zrange(redisKey, '0', '-1', 'WITHSCORES'), [b, String(soon), a, String(late)]);
      const ttl = await raw.pttl(redisKey);
      assert.ok(ttl > 29 * MINUTE && ttl <= 30 * MINUTE, `pttl ${ttl} follows the latest entry, not the last added`);
      await store.indexAdd!(key, b, clock.now() + 50 * MINUTE);
      assert.ok((await raw.pttl(redisKey)) > 49 * MINUTE, 'a later entry moves the TTL up');
    });

    it('the key TTL is relative to the store clock, so a skewed clock does not expire the index early', async function () {
      clock.skew = 2 * HOUR;
      const key = 'user:skewed';
      await store.indexAdd!(key, generateId(), clock.now() + 10 * MINUTE);
      const ttl = await raw.pttl(digestKey(prefix, key));
      assert.ok(ttl > 9 * MINUTE && ttl <= 10 * MINUTE, `pttl ${ttl}`);
    });

    it('indexList leaves out entries expired on the store clock, and indexAdd drops them from the set', async function () {
      const key = 'user:clock';
      const [short, long] = [generateId(), generateId()];
      await store.indexAdd!(key, short, clock.now() + MINUTE);
      await store.indexAdd!(key, long, clock.now() + HOUR);
      clock.skew = 2 * MINUTE;
      // Redis expired nothing yet: the listing alone leaves the entry out.
      assert.equal(await raw.zcard(digestKey(prefix, key)), 2);
      assert.deepEqual(await store.indexList!(key), [long]);
      await store.indexAdd!(key, generateId(), clock.now() + HOUR);
      assert.equal(await raw.zscore(digestKey(prefix, key), short), null, 'the next add removed the expired entry');
    });

    it('an entry whose expiresAt is already past leaves no key behind', async function () {
      const key = 'user:past';
      await store.indexAdd!(key, generateId(), clock.now() - 1);
      assert.equal(await raw.exists(digestKey(prefix, key)), 0);
      assert.deepEqual(await store.indexList!(key), []);
    });

    it('keys that differ only in lone surrogates stay apart', async function () {
      const [a, b] = [generateId(), generateId()];
      await store.indexAdd!('user:\uD800', a, clock.now() + HOUR);
      await store.indexAdd!('user:\uDBFF', b, clock.now() + HOUR);
      assert.deepEqual(await store.indexList!('user:\uD800'), [a]);
      assert.deepEqual(await store.indexList!('user:\uDBFF'), [b]);
    });

    it('count leaves index keys out, and clear removes them but no foreign key under the prefix', async function () {
      const sessions = [generateId(), generateId()];
      for (const sid of sessions) await store.set(sid, 'record', clock.now() + HOUR);
      for (let i = 0; i < 20; i++) await store.indexAdd!(`user:${i}`, generateId(), clock.now() + HOUR);
      const foreign = [
        `${prefix}index:not-a-digest`,
        `${prefix}indexes`,
        `${prefix.slice(0, -1)}index:${'A'.repeat(43)}`,
        digestKey(newPrefix(), 'user:0'),
      ];
      try {
        for (const key of foreign) await raw.set(key, 'not mine', 'PX', MINUTE);
        assert.equal(await store.count!(), 2);
        await store.clear!();
        assert.equal(await store.count!(), 0);
        for (let i = 0; i < 20; i++) assert.equal(await raw.exists(digestKey(prefix, `user:${i}`)), 0, `user:${i}`);
        for (const key of foreign) assert.equal(await raw.get(key), 'not mine', key);
      } finally {
        await raw.del(...foreign);
      }
    });

    it('indexAdd, indexRemove and indexList each cost one round trip', async function () {
      const key = 'user:trips';
      const redisKey = digestKey(prefix, key);
      // The first call of a script may be EVALSHA then EVAL; warm the server's script cache.
      await store.indexAdd!('user:warm-up', generateId(), clock.now() + HOUR);
      const monitor = await raw.monitor();
      const seen: string[] = [];
      const marker = `${prefix}marker`;
      const done = new Promise<void>((resolve) => {
        monitor.on('monitor', (_time: string, args: string[], source: string) => {
          if (args.includes(marker)) resolve();
          else if (source !== 'lua' && args.includes(redisKey)) seen.push(args[0]!.toLowerCase());
        });
      });
      try {
        const sid = generateId();
        await store.indexAdd!(key, sid, clock.now() + HOUR);
        await store.indexList!(key);
        await store.indexRemove!(key, sid);
        await raw.get(marker);
        await done;
        assert.deepEqual(seen, ['evalsha', 'zrangebyscore', 'zrem']);
      } finally {
        monitor.disconnect();
      }
    });

    it('refuses bad keys, ids and expiries before they reach Redis, and index calls after close', async function () {
      const sid = generateId();
      const invalid = (code: string) => (err: unknown) => isSessionError(err, code as never);
      await assert.rejects(store.indexAdd!('', sid, clock.now() + HOUR), invalid('ERR_SESSION_INVALID_VALUE'));
      await assert.rejects(store.indexList!('k'.repeat(513)), invalid('ERR_SESSION_INVALID_VALUE'));
      await assert.rejects(store.indexRemove!(42 as unknown as string, sid), invalid('ERR_SESSION_INVALID_VALUE'));
      await assert.rejects(store.indexAdd!('user:x', '../x', clock.now() + HOUR), invalid('ERR_SESSION_INVALID_ID'));
      await assert.rejects(store.indexAdd!('user:x', sid, Number.NaN), invalid('ERR_SESSION_INVALID_VALUE'));
      assert.equal(await raw.exists(digestKey(prefix, 'user:x')), 0);
      await store.indexAdd!('k'.repeat(512), sid, clock.now() + HOUR);
      assert.deepEqual(await store.indexList!('k'.repeat(512)), [sid]);
      const closed = await provider.open(`redis://127.0.0.1:6379/0?prefix=${prefix}`, { maxLifetime: HOUR });
      await closed.close!();
      await assert.rejects(closed.indexList!('user:x'), invalid('ERR_SESSION_CLOSED'));
    });
  });
});

describe('redis store against the cluster at 127.0.0.1:7000-7002', function () {
  this.timeout(20_000);
  let raw: Cluster;
  let store: Store;
  const prefix = newPrefix();
  before(async function () {
    await requireServer(this, 'redis cluster (.ci/redis-cluster.sh)', '127.0.0.1', 7000);
    raw = new Cluster([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true });
    await raw.connect();
    store = await open(`redis+cluster://127.0.0.1:7000?prefix=${prefix}`);
  });
  after(async function () {
    await store?.clear?.();
    await store?.close?.();
    await raw?.quit();
  });

  it('count and clear reach sessions on every master', async function () {
    await store.clear!();
    const ids = Array.from({ length: 40 }, () => generateId());
    for (const id of ids) await store.set(id, 'spread', later());
    const owners = new Set<string>();
    for (const node of raw.nodes('master')) {
      const [, keys] = await node.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) owners.add(`${node.options.host}:${node.options.port}`);
    }
    assert.ok(owners.size >= 2, `40 sessions landed on ${owners.size} master(s)`);
    assert.equal(await store.count!(), 40);
    await store.clear!();
    assert.equal(await store.count!(), 0);
  });

  it('regenerate moves a session between keys of different slots without a CROSSSLOT error', async function () {
    let [oldId, newId] = [generateId(), generateId()];
    while ((await raw.cluster('KEYSLOT', prefix + oldId)) === (await raw.cluster('KEYSLOT', prefix + newId))) newId = generateId();
    await store.set(oldId, 'moving', Date.now() + 60_000);
    await store.regenerate!(oldId, newId);
    assert.equal(await store.get(oldId), undefined);
    assert.equal(await store.get(newId), 'moving');
    const ttl = await raw.pttl(prefix + newId);
    assert.ok(ttl > 55_000 && ttl <= 60_000, `pttl ${ttl}`);
    await store.destroy(newId);
  });

  it('index keys spread over the masters; count leaves them out and clear removes them from every master', async function () {
    await store.clear!();
    const keys = Array.from({ length: 30 }, (_, i) => `user:{tag}:${i}`);
    for (const key of keys) await store.indexAdd!(key, generateId(), Date.now() + HOUR);
    await store.set(generateId(), 'one session', Date.now() + HOUR);
    const owners = new Set<string>();
    for (const node of raw.nodes('master')) {
      const [, found] = await node.scan('0', 'MATCH', `${prefix}index:*`, 'COUNT', 1000);
      if (found.length > 0) owners.add(`${node.options.host}:${node.options.port}`);
    }
    assert.ok(owners.size >= 2, `30 index keys landed on ${owners.size} master(s); a brace in the key must not pick the slot`);
    assert.equal(await store.count!(), 1);
    await store.clear!();
    for (const key of keys) assert.equal(await raw.exists(digestKey(prefix, key)), 0, key);
    assert.equal(await store.count!(), 0);
  });
});

describe('redis connection faults', function () {
  this.timeout(30_000);

  it('open against a closed port fails within seconds naming the address, never the password', async function () {
    const port = await freePort();
    for (const config of [
      `127.0.0.1:${port},100,${PASSWORD},0`,
      `redis://:${PASSWORD}@127.0.0.1:${port}/0`,
      `redis+cluster://:${PASSWORD}@127.0.0.1:${port}`,
      `redis+sentinel://:${PASSWORD}@127.0.0.1:${port}/mymaster`,
    ]) {
      const err = await rejectsWithin(() => open(config), 4000);
      assert.ok(isSessionError(err, 'ERR_SESSION_STORE'), `${config}: ${err.message}`);
      assert.match(err.message, /^session\/redis: cannot connect to /);
      assert.ok(err.message.includes(`127.0.0.1:${port}`), err.message);
      assert.ok(!err.message.includes(PASSWORD), err.message);
      assert.ok(!String((err.cause as Error)?.message).includes(PASSWORD));
    }
  });

  describe('with a private redis-server', function () {
    let tlsPort: number;
    let certDir: string;
    let server: RedisServer;

    before(async function () {
      tlsPort = await freePort();
      // A self-signed certificate: TLS clients that verify must refuse it.
      certDir = mkdtempSync(join(tmpdir(), 'sessionkit-redis-tls-'));
      execFileSync('openssl', [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'],
        ...['-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem')],
      ], { stdio: 'ignore' });
      const cert = (name: string) => join(certDir, name);
      server = redisServer(await freePort(), [
        // Every acknowledged write is on disk, so a killed server comes back with it.
        ...['--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', certDir],
        ...['--requirepass', PASSWORD, '--tls-port', String(tlsPort), '--tls-auth-clients', 'no'],
        ...['--tls-cert-file', cert('cert.pem'), '--tls-key-file', cert('key.pem'), '--tls-ca-cert-file', cert('cert.pem')],
      ]);
      await server.start();
    });
    after(async function () {
      await server?.stop();
      if (certDir) rmSync(certDir, { recursive: true, force: true });
    });

    it('rediss verifies the certificate: an untrusted server is refused unless tls_skip_verify=true', async function () {
      const url = `rediss://:${PASSWORD}@127.0.0.1:${tlsPort}/0?prefix=sessionkit_test:`;
      const err = await rejectsWithin(() => open(url), 4000);
      assert.ok(isSessionError(err, 'ERR_SESSION_STORE'), err.message);
      assert.match(err.message, /certificate/);
      assert.ok(!err.message.includes(PASSWORD), err.message);

      const store = await open(`${url}&tls_skip_verify=true`);
      try {
        const id = generateId();
        await store.set(id, 'over tls', later());
        assert.equal(await store.get(id), 'over tls');
      } finally {
        await store.close!();
      }
    });

    it('a compare-and-set runs its script by SHA1 and sends the source once after the server lost its script cache', async function () {
      const store = await open(`redis://:${PASSWORD}@127.0.0.1:${server.port}/0?prefix=sessionkit_test:scripts:`);
      const admin = new Redis({ host: '127.0.0.1', port: server.port, password: PASSWORD });
      const calls = async (command: string) => Number(/calls=(\d+)/.exec((await admin.info('commandstats')).split('\n').find((line) => line.startsWith(`cmdstat_${command}:`)) ?? '')?.[1] ?? 0);
      try {
        await admin.script('FLUSH');
        await admin.config('RESETSTAT');
        const id = generateId();
        assert.equal(await store.compareAndSet!(id, undefined, 'first', later()), true);
        assert.equal(await store.compareAndSet!(id, 'first', 'second', later()), true);
        assert.deepEqual([await calls('evalsha'), await calls('eval')], [2, 1], 'the source went once, on NOSCRIPT');
        await admin.script('FLUSH');
        assert.equal(await store.compareAndSet!(id, 'second', 'third', later()), true);
        assert.equal(await store.compareAndSet!(id, 'second', 'fourth', later()), false, 'the third record is stored');
        assert.equal(await store.get(id), 'third');
        assert.deepEqual([await calls('evalsha'), await calls('eval')], [4, 2]);
      } finally {
        admin.disconnect();
        await store.close!();
      }
    });

    it('the commands of one turn of the event loop reach the server in one read a slice, in the order issued', async function () {
      const store = await open(`redis://:${PASSWORD}@127.0.0.1:${server.port}/0?prefix=sessionkit_test:turn:`);
      const admin = new Redis({ host: '127.0.0.1', port: server.port, password: PASSWORD });
      const reads = async () => Number(/total_reads_processed:(\d+)/.exec(await admin.info('stats'))?.[1]);
      /** turn issues a set and then a get of each id in one turn, and returns the server's reads meanwhile, admin's INFO included. */
      const turn = async (ids: string[]) => {
        const before = await reads();
        const replies = await Promise.all(ids.flatMap((id, i) => [store.set(id, `record ${i}`, later()), store.get(id)]));
        const after = await reads();
        assert.deepEqual(replies.filter((_, i) => i % 2 === 1), ids.map((_, i) => `record ${i}`));
        return after - before;
      };
      try {
        const ids = Array.from({ length: 50 }, () => generateId());
        await store.get(ids[0]!);
        // Fewer commands than a slice: one read for them, one for admin's INFO, one to spare.
        const small = ids.slice(0, Math.floor((SLICE - 1) / 2));
        const few = await turn(small);
        assert.ok(few <= 3, `${few} reads for ${small.length * 2} commands`);
        // 100 commands (about 8 KB): a read a slice at most, admin's INFO and one to spare; uncorked, 8 here.
        const slices = Math.ceil((ids.length * 2) / SLICE);
        const many = await turn(ids);
        assert.ok(many <= slices + 2, `${many} reads for 100 commands in ${slices} slices`);
        // A command issued in the check phase, where the held writes go out, still goes out.
        const late = await new Promise((resolve, reject) => setImmediate(() => store.get(ids[1]!).then(resolve, reject)));
        assert.equal(late, 'record 1');
      } finally {
        admin.disconnect();
        await store.close!();
      }
    });

    it('a standalone store has two connections, both authenticated and on its db; its session commands take the second', async function () {
      const store = await open(`redis://:${PASSWORD}@127.0.0.1:${server.port}/2?prefix=sessionkit_test:two:`);
      const admin = new Redis({ host: '127.0.0.1', port: server.port, password: PASSWORD });
      try {
        const clients = (await admin.client('LIST')) as string;
        const mine = clients.split('\n').filter((line) => line.includes(' db=2 '));
        assert.equal(mine.length, 2, clients);
        const id = generateId();
        await store.set(id, 'in db 2', later());
        assert.equal(await store.get(id), 'in db 2');
        assert.equal(await admin.exists(`sessionkit_test:two:${id}`), 0, 'not in db 0');
        await admin.select(2);
        assert.equal(await admin.get(`sessionkit_test:two:${id}`), 'in db 2');
        assert.equal(await store.count!(), 1, 'ioredis, which counts, sees the same db');
        const byClient = ((await admin.client('LIST')) as string).split('\n').filter((line) => line.includes(' db=2 ') && !line.includes(' cmd=client'));
        const busy = byClient.filter((line) => /cmd=(get|set)\b/.test(line));
        assert.equal(busy.length, 1, `one connection carried set and get:\n${byClient.join('\n')}`);
      } finally {
        admin.disconnect();
        await store.close!();
      }
    });

    it('the request connection killed alone: calls go on through ioredis, and it comes back by itself', async function () {
      const store = await open(`redis://:${PASSWORD}@127.0.0.1:${server.port}/0?prefix=sessionkit_test:kill:`);
      const admin = new Redis({ host: '127.0.0.1', port: server.port, password: PASSWORD });
      try {
        const id = generateId();
        await store.set(id, 'kept', later());
        const clients = async () => ((await admin.client('LIST')) as string).split('\n');
        // The request connection is the one whose last command was the set.
        const [line] = (await clients()).filter((entry) => /cmd=set\b/.test(entry));
        const clientId = /\bid=(\d+)/.exec(line ?? '')?.[1];
        assert.ok(clientId, 'the request connection is listed');
        await admin.call('CLIENT', 'KILL', 'ID', clientId);
        // Whether a call meets the drop or comes after it, it must not fail: nothing was in flight.
        for (let i = 0; i < 20; i++) assert.equal(await store.get(id), 'kept');
        assert.equal(await store.compareAndSet!(id, 'kept', 'changed', later()), true);
        const deadline = Date.now() + 3000;
        let back = false;
        while (!back && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          await store.get(id);
          back = (await clients()).some((entry) => /cmd=get\b/.test(entry) && !entry.includes(`id=${clientId} `));
        }
        assert.ok(back, 'a new request connection carries the calls again');
        assert.equal(await store.get(id), 'changed');
      } finally {
        admin.disconnect();
        await store.close!();
      }
    });

    it('open with a wrong password fails naming the address and not the password', async function () {
      const wrong = 'Wr0ng-pass-word';
      const err = await rejectsWithin(() => open(`127.0.0.1:${server.port},100,${wrong},0`), 4000);
      assert.ok(isSessionError(err, 'ERR_SESSION_STORE'), err.message);
      assert.ok(err.message.includes(`127.0.0.1:${server.port}`), err.message);
      assert.ok(!err.message.includes(wrong) && !err.message.includes(PASSWORD), err.message);
    });

    it('after a password rotation, no error shows the old password: not the message, the cause chain, util.inspect at any depth or JSON', async function () {
      // ioredis keeps the arguments of the AUTH that failed on reconnect (['AUTH', 'default', <password>]) on its error.
      const config = `redis://:${PASSWORD}@127.0.0.1:${server.port}/0?prefix=sessionkit_test:rotation:`;
      const store = await open(config);
      const admin = new Redis({ host: '127.0.0.1', port: server.port, password: PASSWORD });
      const logged = (err: Error) => `${inspect(err, { depth: Infinity })}\n${JSON.stringify(err)}`;
      try {
        await store.set(generateId(), 'before the rotation', later());
        await admin.config('SET', 'requirepass', 'R0tated-pass-word');
        await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
        // The first call fails as the connection drops; once the reconnect is refused, calls say why.
        let runtime = await rejectsWithin(() => store.get(generateId()), 5000);
        for (let tries = 0; !/WRONGPASS/.test(runtime.message) && tries < 50; tries++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          runtime = await rejectsWithin(() => store.get(generateId()), 5000);
        }
        const reopened = await rejectsWithin(() => open(config), 5000);
        for (const err of [runtime, reopened]) {
          assert.ok(isSessionError(err, 'ERR_SESSION_STORE'), err.message);
          assert.match(err.message, /WRONGPASS/, 'the reason is kept');
          assert.ok(!logged(err).includes(PASSWORD), logged(err));
        }
      } finally {
        await admin.config('SET', 'requirepass', PASSWORD).catch(() => undefined);
        admin.disconnect();
        await store.close!();
      }
    });

    it('a server killed and restarted: calls reject quickly meanwhile, then succeed again with every earlier write', async function () {
      const store = await open(`redis://:${PASSWORD}@127.0.0.1:${server.port}/0?prefix=sessionkit_test:outage:`);
      try {
        await expectOutageRecovery(server, { store, failure: /^session\/redis: (get|set) failed: /, secret: PASSWORD, failWithinMs: 5000 });
        assert.equal(await store.count!(), 1);
      } finally {
        await store.close!();
      }
    });

    it('wait_replicas: a write no replica confirms within wait_timeout fails, naming the count, though the primary holds it', async function () {
      const url = `redis://:${PASSWORD}@127.0.0.1:${server.port}/0?prefix=sessionkit_test:wait:`;
      const store = await open(`${url}&wait_replicas=1&wait_timeout=50ms`);
      const plain = await open(url);
      try {
        const id = generateId();
        const err = await rejectsWithin(() => store.set(id, 'unconfirmed', later()), 3000);
        assert.ok(isSessionError(err, 'ERR_SESSION_STORE'), err.message);
        assert.equal(err.message, 'session/redis: set failed: written on the primary but confirmed by 0 of 1 replicas within 50 ms');
        assert.equal(await plain.get(id), 'unconfirmed', 'WAIT does not undo the write');
        const cas = await rejectsWithin(() => store.compareAndSet!(id, 'unconfirmed', 'next', later()), 3000);
        assert.match(cas.message, /^session\/redis: compareAndSet failed: written on the primary but confirmed by 0 of 1/);
        assert.equal(await store.get(id), 'next', 'reads do not wait');
      } finally {
        await store.close!();
        await plain.close!();
      }
    });
  });
});
