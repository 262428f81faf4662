import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { provider } from 'sessionkit/providers/memcache';
import type { StoreHarness } from 'sessionkit/testing';
import { startProxy } from '../support/faults.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface RawClient {
  get(key: string): Promise<{ value: Buffer | null }>;
  set(key: string, value: string, options: { expires: number }): Promise<boolean>;
  close(): void;
}

/**
 * memcacheIndexTests registers the memcache provider's own index tests inside its conformance run
 * (describeStore's extraTests), on the store the run opened with key prefix `prefix`: the item
 * layout read back with a second memjs client, native expiry, and an outage.
 */
export function memcacheIndexTests(harness: StoreHarness, prefix: string): void {
  describe('memcache index items', function () {
    this.timeout(20_000);
    const url = (p = prefix) => `memcache://127.0.0.1:11211?prefix=${p}`;
    const { sid, later } = harness;
    const indexKey = (label: string) => `user:${label}:${sid()}`;
    /** itemKey is where the provider keeps index key `key`, as its README documents it. */
    const itemKey = (key: string, p = prefix) => `${p}index:${createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('base64url')}`;
    let raw: RawClient;

    before(function () {
      const memjs = createRequire(import.meta.url)('memjs');
      raw = memjs.Client.create('127.0.0.1:11211', { logger: { log() {} } });
    });
    after(function () {
      raw?.close();
    });

    const rawEntries = async (key: string, p = prefix) => {
      const { value } = await raw.get(itemKey(key, p));
      return value === null ? undefined : JSON.parse(value.toString('utf8'));
    };

    it('each index key is one item prefix + "index:" + sha256 base64url holding { sid: expiresAt }', async function () {
      const key = indexKey('layout');
      const [a, b] = [sid(), sid()];
      const [ea, eb] = [later(), later() + 1000];
      await harness.store.indexAdd!(key, a, ea);
      await harness.store.indexAdd!(key, b, eb);
      assert.deepEqual(await rawEntries(key), { [a]: ea, [b]: eb });
    });

    it('an index key of 512 unicode characters under the longest prefix still makes a valid memcached key', async function () {
      const longPrefix = `${prefix}${'p'.repeat(122 - prefix.length)}`;
      const long = await provider.open(url(longPrefix), { maxLifetime: HOUR });
      try {
        const key = `user:Zoë 🍪 \r\n${'é'.repeat(600)}`.slice(0, 512);
        const id = sid();
        await long.indexAdd!(key, id, later());
        assert.deepEqual(await long.indexList!(key), [id]);
        assert.ok(Buffer.byteLength(itemKey(key, longPrefix)) <= 250);
        assert.deepEqual(Object.keys(await rawEntries(key, longPrefix)), [id]);
      } finally {
        await long.close?.();
      }
    });

    it('the item expires by itself with its latest entry', async function () {
      const key = indexKey('native-expiry');
      await harness.store.indexAdd!(key, sid(), Date.now() + 1200);
      assert.notEqual(await rawEntries(key), undefined);
      // memcached counts whole seconds on its own clock: 2 s of exptime is gone within 3.5 s.
      await new Promise((resolve) => setTimeout(resolve, 3500));
      assert.equal(await rawEntries(key), undefined);
    });

    it('an entry over 30 days away is kept (absolute exptime), not expired at once', async function () {
      const key = indexKey('long');
      const id = sid();
      const expiresAt = Date.now() + 40 * DAY;
      await harness.store.indexAdd!(key, id, expiresAt);
      assert.deepEqual(await harness.store.indexList!(key), [id]);
      assert.deepEqual(await rawEntries(key), { [id]: expiresAt });
    });

    it('removing the last entry deletes the item', async function () {
      const key = indexKey('last');
      const id = sid();
      await harness.store.indexAdd!(key, id, later());
      await harness.store.indexRemove!(key, id);
      assert.equal(await rawEntries(key), undefined);
    });

    it('a write drops the entries that expired meanwhile', async function () {
      const key = indexKey('prune');
      const [gone, kept] = [sid(), sid()];
      await harness.store.indexAdd!(key, gone, Date.now() + 50);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await harness.store.indexAdd!(key, kept, later());
      assert.deepEqual(Object.keys(await rawEntries(key)), [kept]);
    });

    it('stores with different prefixes keep separate indexes under the same key', async function () {
      const other = await provider.open(url(`${prefix}other:`), { maxLifetime: HOUR });
      try {
        const key = indexKey('shared');
        const [mine, theirs] = [sid(), sid()];
        await harness.store.indexAdd!(key, mine, later());
        await other.indexAdd!(key, theirs, later());
        assert.deepEqual(await harness.store.indexList!(key), [mine]);
        assert.deepEqual(await other.indexList!(key), [theirs]);
      } finally {
        await other.close?.();
      }
    });

    it('concurrent adds and removes on one key lose none of them', async function () {
      const key = indexKey('mixed');
      const old = Array.from({ length: 25 }, sid);
      for (const id of old) await harness.store.indexAdd!(key, id, later());
      const added = Array.from({ length: 25 }, sid);
      await Promise.all([...old.map((id) => harness.store.indexRemove!(key, id)), ...added.map((id) => harness.store.indexAdd!(key, id, later()))]);
      assert.deepEqual((await harness.store.indexList!(key)).sort(), added.sort());
    });

    it('a damaged index item reads as empty and the next indexAdd replaces it', async function () {
      const key = indexKey('damaged');
      await raw.set(itemKey(key), 'not json {', { expires: 60 });
      assert.deepEqual(await harness.store.indexList!(key), []);
      const id = sid();
      await harness.store.indexAdd!(key, id, later());
      assert.deepEqual(await harness.store.indexList!(key), [id]);
    });

    it('bad index keys and ids are refused before any request', async function () {
      // A closed store fails every request with ERR_SESSION_CLOSED, so these codes prove no request was made.
      const closed = await provider.open(url(), { maxLifetime: HOUR });
      await closed.close!();
      for (const key of ['', 'k'.repeat(513)]) {
        await assert.rejects(closed.indexAdd!(key, sid(), later()), { code: 'ERR_SESSION_INVALID_VALUE' });
        await assert.rejects(closed.indexList!(key), { code: 'ERR_SESSION_INVALID_VALUE' });
      }
      await assert.rejects(closed.indexAdd!('user:x', 'not-an-id', later()), { code: 'ERR_SESSION_INVALID_ID' });
      await assert.rejects(closed.indexRemove!('user:x', 'A'.repeat(32)), { code: 'ERR_SESSION_INVALID_ID' });
      await assert.rejects(closed.indexList!('user:x'), { code: 'ERR_SESSION_CLOSED' });
    });

    it('index calls reject with a store error while the server is away, and work again once it is back', async function () {
      const proxy = await startProxy(11211);
      const outage = await provider.open(`${url()}&timeout=300ms`.replace('127.0.0.1:11211', `127.0.0.1:${proxy.port}`), { maxLifetime: HOUR });
      try {
        const key = indexKey('outage');
        const id = sid();
        await outage.indexAdd!(key, id, later());
        await proxy.stop();
        await assert.rejects(outage.indexList!(key), (err: Error & { code?: string }) => {
          assert.equal(err.code, 'ERR_SESSION_STORE');
          assert.match(err.message, /^session\/memcache: indexList failed/);
          return true;
        });
        await assert.rejects(outage.indexAdd!(key, sid(), later()), { code: 'ERR_SESSION_STORE' });
        await assert.rejects(outage.indexRemove!(key, id), { code: 'ERR_SESSION_STORE' });
        await proxy.start();
        assert.deepEqual(await outage.indexList!(key), [id]);
      } finally {
        await outage.close?.();
        await proxy.stop();
      }
    });
  });
}
