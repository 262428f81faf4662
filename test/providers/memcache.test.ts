import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Store } from 'sessionkit';
import { provider, MAX_ITEM_BYTES, MAX_RELATIVE_EXPIRY, memcachedExpiry, parseConfig } from 'sessionkit/providers/memcache';
import { describeManager, describeStore } from 'sessionkit/testing';
import { memcacheIndexTests } from './memcache-index.ts';
import { configRefusal, expectOutageRecovery, freePort, rejectsWithin, startProxy } from '../support/faults.ts';
import { requireServer } from '../support/servers.ts';

// A random prefix per run keeps this suite's keys apart from anything else in the memcached.
const prefix = `sessionkit_test_${randomBytes(4).toString('hex')}:`;
const config = `memcache://127.0.0.1:11211?prefix=${prefix}`;

describe('memcache against 127.0.0.1:11211', function () {
  before(async function () {
    await requireServer(this, 'memcached (.ci/memcached.sh)', '127.0.0.1', 11211);
  });

  describeStore('memcache', {
    rejectsAfterClose: true,
    clock: 'real',
    // memcached cannot list keys (no count or clear) and expires items itself (no gc).
    requires: ['compareAndSet', 'touch', 'regenerate', 'indexAdd', 'indexRemove', 'indexList', 'close'],
    expiryResolution: 1000,
    open: (options) => provider.open(config, options),
    extraTests: (harness) => memcacheIndexTests(harness, prefix),
  });
  describeManager('memcache', { options: () => ({ provider: 'memcache', providerConfig: config }) });
});

const PASSWORD = 'S3cr3t-Pw';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const refuses = configRefusal('memcache', parseConfig, [PASSWORD]);

describe('memcache parseConfig', function () {
  const defaults = { prefix: 'session:', timeoutMs: 1000, retries: 2 };

  const accepted: Array<[string, ReturnType<typeof parseConfig>]> = [
    ['', { servers: [{ host: '127.0.0.1', port: 11211 }], ...defaults }],
    ['127.0.0.1:11211', { servers: [{ host: '127.0.0.1', port: 11211 }], ...defaults }],
    ['127.0.0.1:9090', { servers: [{ host: '127.0.0.1', port: 9090 }], ...defaults }],
    ['cache.internal', { servers: [{ host: 'cache.internal', port: 11211 }], ...defaults }],
    [
      '127.0.0.1:11211;127.0.0.1:11212',
      { servers: [{ host: '127.0.0.1', port: 11211 }, { host: '127.0.0.1', port: 11212 }], ...defaults },
    ],
    [' 127.0.0.1:9090 ; [::1]:9091 ', { servers: [{ host: '127.0.0.1', port: 9090 }, { host: '::1', port: 9091 }], ...defaults }],
    ['memcache://127.0.0.1:11211', { servers: [{ host: '127.0.0.1', port: 11211 }], ...defaults }],
    ['memcached://cache:11311/', { servers: [{ host: 'cache', port: 11311 }], ...defaults }],
    [
      'memcache://app:p%40ss%3Aw%2Cd@h1:11211,h2:11212?prefix=myapp:sess:&timeout=2s&retries=3',
      {
        servers: [{ host: 'h1', port: 11211 }, { host: 'h2', port: 11212 }],
        username: 'app',
        password: 'p@ss:w,d',
        prefix: 'myapp:sess:',
        timeoutMs: 2000,
        retries: 3,
      },
    ],
    ['memcache://h?timeout=250ms', { servers: [{ host: 'h', port: 11211 }], ...defaults, timeoutMs: 250 }],
    ['memcache://h?timeout=3', { servers: [{ host: 'h', port: 11211 }], ...defaults, timeoutMs: 3000 }],
    ['memcache://h?prefix=', { servers: [{ host: 'h', port: 11211 }], ...defaults, prefix: '' }],
    ['memcache://user@h', { servers: [{ host: 'h', port: 11211 }], ...defaults, username: 'user', password: '' }],
  ];
  for (const [config, expected] of accepted) {
    it(`parseConfig reads ${JSON.stringify(config)} exactly`, function () {
      assert.deepEqual(parseConfig(config), expected);
    });
  }

  const rejected: Array<[string, RegExp]> = [
    ['127.0.0.1:99999', /port/],
    ['127.0.0.1:abc', /server/],
    ['127.0.0.1:11211;;127.0.0.1:11212', /server 2 .* is empty/],
    ['u:pw@127.0.0.1:11211', /credentials go in the memcache:\/\/user:password@host:11211 url form/],
    ['127.0.0.1:11211,127.0.0.1:11212', /separated by ';'/],
    ['memcache://h:0', /port/],
    ['memcache://h:11211?bogus=1', /"bogus"/],
    ['memcache://h:11211?prefix=a%20b', /prefix/],
    ['memcache://h:11211?prefix=a%0Ab', /prefix/],
    ['memcache://h:11211?prefix=s%C3%A9ssion', /prefix/],
    [`memcache://h:11211?prefix=${'p'.repeat(123)}`, /prefix is 123 bytes; .* at most 122/],
    ['memcache://h:11211?timeout=fast', /timeout/],
    ['memcache://h:11211?timeout=0', /timeout/],
    ['memcache://h:11211?retries=0', /retries/],
    ['memcache://h:11211?prefix=a&prefix=b', /prefix is given twice/],
    ['memcache://h:11211/db0', /path/],
    ['memcache://', /no host/],
    ['redis://h:6379', /memcache:\/\//],
  ];
  for (const [config, pattern] of rejected) {
    it(`parseConfig rejects ${JSON.stringify(config)} naming the key`, function () {
      refuses(config, pattern);
    });
  }

  it('parseConfig accepts a prefix of 122 bytes, so prefix plus the longest id fits 250', function () {
    assert.equal(parseConfig(`memcache://h?prefix=${'p'.repeat(122)}`).prefix.length, 122);
  });

  it('parseConfig never puts the password in an error message', function () {
    for (const config of [
      `memcache://u:${PASSWORD}@h:99999`,
      `memcache://u:${PASSWORD}@h:11211?bogus=1`,
      `memcache://u:${PASSWORD}@h:11211?prefix=a%20b`,
      `memcache://u:${PASSWORD}@h:11211?timeout=x`,
      `memcache://u:${PASSWORD}@h:11211/db`,
      `memcache://u:${PASSWORD}@`,
      `memcache://u:${PASSWORD}@@h:11211`,
      `memcache://u:${PASSWORD}%zz@h:11211`,
      `memcache://:${PASSWORD}@h:11211`,
      `u:${PASSWORD}@127.0.0.1:11211,127.0.0.1:11212`,
      `u:${PASSWORD}@127.0.0.1:11211;127.0.0.1:11212`,
      `u:${PASSWORD}@127.0.0.1:11211`,
      `127.0.0.1:11211;;${PASSWORD}`,
    ]) {
      refuses(config);
    }
  });
});

describe('memcache memcachedExpiry', function () {
  const now = Date.UTC(2030, 0, 1);

  it('memcachedExpiry gives relative seconds rounded up while they fit in 30 days', function () {
    assert.equal(memcachedExpiry(now + 1, now), 1);
    assert.equal(memcachedExpiry(now + 1000, now), 1);
    assert.equal(memcachedExpiry(now + 1001, now), 2);
    assert.equal(memcachedExpiry(now + HOUR, now), 3600);
    assert.equal(memcachedExpiry(now + 30 * DAY, now), MAX_RELATIVE_EXPIRY);
  });

  it('memcachedExpiry gives an absolute unix time beyond 30 days (memcached reads big values as timestamps)', function () {
    const expiresAt = now + 30 * DAY + 1000;
    assert.equal(memcachedExpiry(expiresAt, now), Math.ceil(expiresAt / 1000));
    assert.equal(memcachedExpiry(now + 365 * DAY + 1, now), Math.ceil((now + 365 * DAY + 1) / 1000));
  });

  it('memcachedExpiry gives undefined (delete) for a past, present or invalid expiresAt, never 0 or negative', function () {
    assert.equal(memcachedExpiry(now, now), undefined);
    assert.equal(memcachedExpiry(now - 1, now), undefined);
    assert.equal(memcachedExpiry(0, now), undefined);
    assert.equal(memcachedExpiry(Number.NaN, now), undefined);
  });

  it('memcachedExpiry stays within 32 bits for a far-future expiresAt', function () {
    assert.equal(memcachedExpiry(Number.MAX_SAFE_INTEGER, now), 0xffffffff);
  });
});

describe('memcache open failures', function () {
  it('open fails fast naming the provider and the address, without the password, when nothing listens', async function () {
    const port = await freePort();
    const started = Date.now();
    await assert.rejects(provider.open(`memcache://app:${PASSWORD}@127.0.0.1:${port}?timeout=500ms`, { maxLifetime: HOUR }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_SESSION_STORE');
      assert.match(err.message, new RegExp(`^session/memcache: cannot reach memcached at 127\\.0\\.0\\.1:${port}`));
      assert.doesNotMatch(err.message, new RegExp(PASSWORD));
      return true;
    });
    assert.ok(Date.now() - started < 3000, 'open took too long');
  });

  it('open refuses a memjs without the request layer it uses, naming the version to install, before connecting', async function () {
    const memjs = createRequire(import.meta.url)('memjs') as { Client: { prototype: Record<string, unknown> } };
    const perform = memjs.Client.prototype.perform;
    delete memjs.Client.prototype.perform;
    try {
      await assert.rejects(provider.open(`memcache://127.0.0.1:${await freePort()}`, { maxLifetime: HOUR }), {
        code: 'ERR_SESSION_MISSING_DEPENDENCY',
        message: 'session/memcache: the installed memjs lacks the request layer this provider uses; install memjs@~1.3.2',
      });
    } finally {
      memjs.Client.prototype.perform = perform;
    }
  });

  it('open fails within its timeout when the server accepts but never answers', async function () {
    const hole = await startProxy(11211);
    hole.mute();
    try {
      const started = Date.now();
      await assert.rejects(provider.open(`memcache://127.0.0.1:${hole.port}?timeout=300ms`, { maxLifetime: HOUR }), /session\/memcache: cannot reach memcached at 127\.0\.0\.1/);
      assert.ok(Date.now() - started < 3000, 'open took too long');
    } finally {
      await hole.stop();
    }
  });
});

describe('memcache against 127.0.0.1:11211', function () {
  this.timeout(20_000);
  const prefix = `sessionkit_test_${randomBytes(4).toString('hex')}:`;
  const url = `memcache://127.0.0.1:11211?prefix=${prefix}`;
  let store: Store;
  const sid = () => randomBytes(16).toString('hex');
  const later = () => Date.now() + HOUR;

  before(async function () {
    await requireServer(this, 'memcached', '127.0.0.1', 11211);
    store = await provider.open(url, { maxLifetime: HOUR });
  });
  after(async function () {
    await store?.close?.();
  });

  it('the store keeps each session under prefix + sid as the raw record', async function () {
    const id = sid();
    await store.set(id, 'layout', later());
    const require = createRequire(import.meta.url);
    const memjs = require('memjs');
    const raw = memjs.Client.create('127.0.0.1:11211', { logger: { log() {} } });
    try {
      const { value } = await raw.get(prefix + id);
      assert.equal(value?.toString(), 'layout');
    } finally {
      raw.close();
    }
  });

  it('stores with different prefixes do not see each other', async function () {
    const other = await provider.open(`memcache://127.0.0.1:11211?prefix=${prefix}other:`, { maxLifetime: HOUR });
    try {
      const id = sid();
      await store.set(id, 'mine', later());
      assert.equal(await other.get(id), undefined);
    } finally {
      await other.close?.();
    }
  });

  it('a lifetime over 30 days is stored as an absolute time and stays readable', async function () {
    const id = sid();
    await store.set(id, 'long-lived', Date.now() + 31 * DAY);
    assert.equal(await store.get(id), 'long-lived');
    await store.touch!(id, Date.now() + 60 * DAY);
    assert.equal(await store.get(id), 'long-lived');
    assert.equal(await store.compareAndSet!(id, 'long-lived', 'still', Date.now() + 45 * DAY), true);
    assert.equal(await store.get(id), 'still');
  });

  it('set with a past expiresAt deletes an existing record instead of sending exptime 0 or a negative one', async function () {
    const id = sid();
    await store.set(id, 'live', later());
    await store.set(id, 'stale', Date.now() - 5000);
    assert.equal(await store.get(id), undefined);
  });

  it('touch with a past expiresAt removes the record', async function () {
    const id = sid();
    await store.set(id, 'live', later());
    await store.touch!(id, Date.now() - 1);
    assert.equal(await store.get(id), undefined);
  });

  it('compareAndSet with a past expiresAt removes the record only when expected matches', async function () {
    const id = sid();
    await store.set(id, 'v1', later());
    assert.equal(await store.compareAndSet!(id, 'v0', 'x', Date.now() - 1), false);
    assert.equal(await store.get(id), 'v1');
    assert.equal(await store.compareAndSet!(id, 'v1', 'x', Date.now() - 1), true);
    assert.equal(await store.get(id), undefined);
  });

  it('compareAndSet is implemented with memcached CAS and loses to a write made after its read', async function () {
    assert.equal(typeof store.compareAndSet, 'function');
    const id = sid();
    await store.set(id, 'base', later());
    // Two rounds of 10 racing writers: each round has exactly one winner, and the loser's record never lands.
    for (let round = 0; round < 2; round++) {
      const current = (await store.get(id))!;
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.compareAndSet!(id, current, `r${round}-w${i}`, later())));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await store.get(id), `r${round}-w${results.indexOf(true)}`);
    }
  });

  it('count, clear and gc are absent: memcached cannot list keys and expires items itself', function () {
    assert.equal(store.count, undefined);
    assert.equal(store.clear, undefined);
    assert.equal(store.gc, undefined);
  });

  it('regenerate refuses to overwrite a session that already holds the new id', async function () {
    const [oldId, newId] = [sid(), sid()];
    await store.set(oldId, 'old', later());
    await store.set(newId, 'taken', later());
    await assert.rejects(store.regenerate!(oldId, newId), { code: 'ERR_SESSION_ID_TAKEN' });
    assert.equal(await store.get(newId), 'taken');
    assert.equal(await store.get(oldId), 'old');
  });

  it('a record near 1 MB round-trips', async function () {
    const id = sid();
    const record = 'r'.repeat(900 * 1024);
    await store.set(id, record, later());
    assert.equal(await store.get(id), record);
  });

  it('a record over the 1 MB item limit is refused naming the limit, and the stored record is unchanged', async function () {
    const id = sid();
    await store.set(id, 'small', later());
    for (const write of [
      () => store.set(id, 'x'.repeat(MAX_ITEM_BYTES + 1), later()),
      () => store.compareAndSet!(id, 'small', 'x'.repeat(MAX_ITEM_BYTES), later()),
      // Under 1 MiB but over what memcached stores once key and item header are added: memcached
      // would answer by dropping the stored item, so the provider must refuse it first.
      () => store.set(id, 'x'.repeat(MAX_ITEM_BYTES - 100), later()),
    ]) {
      await assert.rejects(write(), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ERR_SESSION_TOO_LARGE');
        assert.match(err.message, /^session\/memcache: .*1 MB item limit/);
        return true;
      });
    }
    assert.equal(await store.get(id), 'small');
  });

  it('an invalid session id is refused before any request, whatever the key rules', async function () {
    for (const bad of ['has space'.padEnd(32, 'a'), 'A'.repeat(32), '../'.repeat(11), 'a'.repeat(300), 'ab\r\nflush_all'.padEnd(32, '0')]) {
      await assert.rejects(store.get(bad), { code: 'ERR_SESSION_INVALID_ID' });
      await assert.rejects(store.set(bad, 'x', later()), { code: 'ERR_SESSION_INVALID_ID' });
    }
  });

  it('a closed store rejects calls with ERR_SESSION_CLOSED', async function () {
    const extra = await provider.open(url, { maxLifetime: HOUR });
    await extra.close!();
    await extra.close!();
    await assert.rejects(extra.get(sid()), { code: 'ERR_SESSION_CLOSED' });
  });

  it('a server that goes away makes calls reject with a store error, and calls succeed again once it returns', async function () {
    const proxy = await startProxy(11211);
    const outage = await provider.open(`memcache://127.0.0.1:${proxy.port}?prefix=${prefix}&timeout=500ms`, { maxLifetime: HOUR });
    try {
      await expectOutageRecovery(proxy, { store: outage, failure: /^session\/memcache: (get|set) failed/, failWithinMs: 5000 });
    } finally {
      await outage.close?.();
      await proxy.stop();
    }
  });

  it('a server that stops answering makes a call reject at the timeout instead of queueing', async function () {
    const proxy = await startProxy(11211);
    const slow = await provider.open(`memcache://127.0.0.1:${proxy.port}?timeout=300ms&retries=1`, { maxLifetime: HOUR });
    try {
      proxy.mute();
      const err = await rejectsWithin(() => slow.get(sid()), 2000);
      assert.equal(err.code, 'ERR_SESSION_STORE');
      assert.match(err.message, /^session\/memcache: get failed: (socket timed out|connection closed before the reply)/);
    } finally {
      await slow.close?.();
      await proxy.stop();
    }
  });
});
