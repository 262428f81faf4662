import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { generateId, isSessionError, type Store } from 'sessionkit';
import { provider } from 'sessionkit/providers/redis';
import { requireServer } from '../support/servers.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** digestKey is the Redis key of index key `key` under `prefix`, as the README documents it. */
const digestKey = (prefix: string, key: string) =>
  `${prefix}index:${createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('base64url')}`;

const newPrefix = () => `sessionkit_test:${randomBytes(4).toString('hex')}:`;

/** SkewedClock is a store clock that runs `skew` ms ahead of the real one, so tests move time without waiting. */
interface SkewedClock {
  skew: number;
  now(): number;
}

function skewedClock(): SkewedClock {
  const clock = { skew: 0, now: () => Date.now() + clock.skew };
  return clock;
}

describe('redis index against 127.0.0.1:6379', function () {
  this.timeout(20_000);
  let raw: Redis;
  let store: Store;
  let prefix: string;
  let clock: SkewedClock;

  before(async function () {
    await requireServer(this, 'redis', '127.0.0.1', 6379);
    raw = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    await raw.connect();
  });
  beforeEach(async function () {
    prefix = newPrefix();
    clock = skewedClock();
    store = await provider.open(`redis://127.0.0.1:6379/0?prefix=${prefix}`, { maxLifetime: HOUR, now: clock.now });
  });
  afterEach(async function () {
    await store?.clear?.();
    await store?.close?.();
  });
  after(async function () {
    await raw?.quit();
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

describe('redis index against the cluster at 127.0.0.1:7000-7002', function () {
  this.timeout(20_000);
  let raw: Cluster;
  let store: Store;
  const prefix = newPrefix();

  before(async function () {
    await requireServer(this, 'redis cluster (.ci/redis-cluster.sh)', '127.0.0.1', 7000);
    raw = new Cluster([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true });
    await raw.connect();
    store = await provider.open(`redis+cluster://127.0.0.1:7000?prefix=${prefix}`, { maxLifetime: HOUR });
  });
  after(async function () {
    await store?.clear?.();
    await store?.close?.();
    await raw?.quit();
  });

  it('index keys spread over the masters; count leaves them out and clear removes them from every master', async function () {
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
