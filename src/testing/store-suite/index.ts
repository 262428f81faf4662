import assert from 'node:assert/strict';
import { generateId } from '../id.ts';
import type { OpenOptions, Store } from '../provider.ts';
import { fakeClock, realClock, type TestClock } from './clock.ts';

/** StoreSuiteOptions configure {@link describeStore}. */
export interface StoreSuiteOptions {
  /** open returns a fresh Store; the suite closes it after its tests. */
  open(options: OpenOptions): Promise<Store>;
  /**
   * clock is `'fake'` (default) when the store reads time only from `OpenOptions.now`, and
   * `'real'` when the backend expires records by its own clock (Redis, memcached, Couchbase).
   */
  clock?: 'fake' | 'real';
  /** expiryResolution is the backend's expiry granularity in ms (1000 for memcached); default 1. */
  expiryResolution?: number;
  /** maxLifetime passed to open, in ms; default one hour. */
  maxLifetime?: number;
  /**
   * requires lists optional methods the store must have. The suite skips the tests of a missing
   * optional method; naming it here makes its absence a failure instead.
   */
  requires?: (keyof Store)[];
}

const HOUR = 3_600_000;

/**
 * describeStore defines a mocha suite proving that a {@link Store} keeps the contract of
 * `sessionkit`'s `Store` interface: not-found, expiry on read, idempotence, and each optional
 * method that the store has (detected by presence). Third-party providers call it once:
 *
 * ```ts
 * describeStore('my-store', { open: (options) => provider.open('config', options) });
 * ```
 */
export function describeStore(name: string, options: StoreSuiteOptions): void {
  describe(`Store contract: ${name}`, function () {
    const clock: TestClock = options.clock === 'real' ? realClock() : fakeClock();
    const resolution = options.expiryResolution ?? 1;
    const shortTtl = clock.fake ? 1000 : Math.max(1000, resolution);
    this.timeout(clock.fake ? 10_000 : 20_000 + 4 * shortTtl);
    let store: Store;
    const later = () => clock.now() + HOUR;
    const sid = () => generateId(32);

    before(async function () {
      store = await options.open({ maxLifetime: options.maxLifetime ?? HOUR, now: () => clock.now() });
    });
    after(async function () {
      await store?.close?.();
    });

    async function expire(): Promise<void> {
      await clock.advance(shortTtl + resolution + (clock.fake ? 1 : 250));
    }

    if (options.requires?.length) {
      it(`has ${options.requires.join(', ')}`, function () {
        for (const method of options.requires!) assert.equal(typeof store[method], 'function', `missing ${method}`);
      });
    }

    it('get returns undefined for an id that was never set', async function () {
      assert.equal(await store.get(sid()), undefined);
    });

    it('set then get returns the record byte for byte', async function () {
      const id = sid();
      const record = '{"v":1,"d":{"name":"Zoë \\"q\\" 🍪","n":[1,2,3]}}\n\ttabs, commas; semicolons=equals';
      await store.set(id, record, later());
      assert.equal(await store.get(id), record);
    });

    it('set replaces an existing record', async function () {
      const id = sid();
      await store.set(id, 'first', later());
      await store.set(id, 'second', later());
      assert.equal(await store.get(id), 'second');
    });

    it('set keeps a 64 KiB record intact', async function () {
      const id = sid();
      const record = 'x'.repeat(64 * 1024 - 10) + 'end';
      await store.set(id, record, later());
      assert.equal(await store.get(id), record);
    });

    it('destroy removes the record and a second destroy is a no-op', async function () {
      const id = sid();
      await store.set(id, 'gone soon', later());
      await store.destroy(id);
      assert.equal(await store.get(id), undefined);
      await store.destroy(id);
      await store.destroy(sid());
    });

    it('get returns undefined after expiresAt, before any gc', async function () {
      const id = sid();
      const keep = sid();
      await store.set(id, 'short', clock.now() + shortTtl);
      await store.set(keep, 'long', later());
      await expire();
      assert.equal(await store.get(id), undefined);
      assert.equal(await store.get(keep), 'long');
    });

    it('set with an expiresAt already past stores nothing readable and does not throw', async function () {
      const id = sid();
      await store.set(id, 'stale', clock.now() - 1000);
      assert.equal(await store.get(id), undefined);
    });

    it('set, touch and compareAndSet with an expiresAt already past leave a live record unreadable, never the old data', async function () {
      // Checklist row 44: a remaining lifetime of zero or less means "gone", not SET EX 0 or a skipped write.
      const past = () => clock.now() - 1000;
      const [viaSet, viaTouch, viaCas] = [sid(), sid(), sid()];
      for (const id of [viaSet, viaTouch, viaCas]) await store.set(id, 'live', later());
      await store.set(viaSet, 'replaced', past());
      assert.equal(await store.get(viaSet), undefined, 'set');
      if (store.touch) {
        await store.touch(viaTouch, past());
        assert.equal(await store.get(viaTouch), undefined, 'touch');
      }
      if (store.compareAndSet) {
        await store.compareAndSet(viaCas, 'live', 'replaced', past());
        assert.equal(await store.get(viaCas), undefined, 'compareAndSet');
      }
    });

    describe('compareAndSet', function () {
      before(function () {
        if (!store.compareAndSet) this.skip();
      });

      it('compareAndSet with expected undefined creates a missing record', async function () {
        const id = sid();
        assert.equal(await store.compareAndSet!(id, undefined, 'new', later()), true);
        assert.equal(await store.get(id), 'new');
      });

      it('compareAndSet with expected undefined refuses when a record exists', async function () {
        const id = sid();
        await store.set(id, 'taken', later());
        assert.equal(await store.compareAndSet!(id, undefined, 'intruder', later()), false);
        assert.equal(await store.get(id), 'taken');
      });

      it('compareAndSet replaces only when the stored record equals expected', async function () {
        const id = sid();
        await store.set(id, 'v1', later());
        assert.equal(await store.compareAndSet!(id, 'v0', 'wrong', later()), false);
        assert.equal(await store.get(id), 'v1');
        assert.equal(await store.compareAndSet!(id, 'v1', 'v2', later()), true);
        assert.equal(await store.get(id), 'v2');
      });

      it('compareAndSet with an expected record refuses when the record is missing', async function () {
        const id = sid();
        assert.equal(await store.compareAndSet!(id, 'ghost', 'resurrected', later()), false);
        assert.equal(await store.get(id), undefined);
      });

      it('compareAndSet treats an expired record as missing', async function () {
        const id = sid();
        await store.set(id, 'old', clock.now() + shortTtl);
        await expire();
        assert.equal(await store.compareAndSet!(id, 'old', 'revived', later()), false);
        assert.equal(await store.compareAndSet!(id, undefined, 'fresh', later()), true);
        assert.equal(await store.get(id), 'fresh');
      });

      it('compareAndSet lets exactly one of 20 concurrent writers with the same expected win', async function () {
        const id = sid();
        await store.set(id, 'base', later());
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.compareAndSet!(id, 'base', `writer-${i}`, later())),
        );
        assert.equal(results.filter(Boolean).length, 1);
        const winner = results.indexOf(true);
        assert.equal(await store.get(id), `writer-${winner}`);
      });
    });

    describe('touch', function () {
      before(function () {
        if (!store.touch) this.skip();
      });

      it('touch extends the expiry and keeps the data', async function () {
        const id = sid();
        await store.set(id, 'kept', clock.now() + shortTtl);
        await store.touch!(id, later());
        await expire();
        assert.equal(await store.get(id), 'kept');
      });

      it('touch never creates a missing record', async function () {
        const id = sid();
        await store.touch!(id, later());
        assert.equal(await store.get(id), undefined);
      });
    });

    describe('regenerate', function () {
      before(function () {
        if (!store.regenerate) this.skip();
      });

      it('regenerate moves the record to the new id and removes the old one', async function () {
        const [oldId, newId] = [sid(), sid()];
        await store.set(oldId, 'moving', later());
        await store.regenerate!(oldId, newId);
        assert.equal(await store.get(oldId), undefined);
        assert.equal(await store.get(newId), 'moving');
      });

      it('regenerate of a missing id is a no-op', async function () {
        const [oldId, newId] = [sid(), sid()];
        await store.regenerate!(oldId, newId);
        assert.equal(await store.get(oldId), undefined);
        assert.equal(await store.get(newId), undefined);
      });

      it('regenerate onto an id that holds a live record rejects and leaves both records as they were', async function () {
        // Checklist row 24: a new id that happens to exist must never overwrite someone else's session.
        const [oldId, takenId] = [sid(), sid()];
        await store.set(oldId, 'mine', later());
        await store.set(takenId, 'theirs', later());
        await assert.rejects(store.regenerate!(oldId, takenId), { code: 'ERR_SESSION_ID_TAKEN' });
        assert.equal(await store.get(takenId), 'theirs');
        assert.equal(await store.get(oldId), 'mine');
      });

      it('regenerate onto an id whose record has expired replaces that leftover', async function () {
        const [oldId, staleId] = [sid(), sid()];
        await store.set(staleId, 'leftover', clock.now() + shortTtl);
        await expire();
        await store.set(oldId, 'mine', later());
        await store.regenerate!(oldId, staleId);
        assert.equal(await store.get(staleId), 'mine');
        assert.equal(await store.get(oldId), undefined);
      });

      it('of two concurrent regenerates of one id, exactly one new id gets the record and the old id is gone', async function () {
        // Checklist row 23: the loser finds nothing to move; it never copies the record a second time.
        const [oldId, a, b] = [sid(), sid(), sid()];
        await store.set(oldId, 'once', later());
        const results = await Promise.allSettled([store.regenerate!(oldId, a), store.regenerate!(oldId, b)]);
        for (const result of results) assert.equal(result.status, 'fulfilled', String((result as PromiseRejectedResult).reason));
        const holders = [await store.get(a), await store.get(b)].filter((record) => record !== undefined);
        assert.deepEqual(holders, ['once']);
        assert.equal(await store.get(oldId), undefined);
      });
    });

    describe('count and clear', function () {
      before(function () {
        if (!store.count) this.skip();
      });

      it('count is exact and counts live sessions only', async function () {
        if (store.clear) await store.clear();
        const before = await store.count!();
        if (store.clear) assert.equal(before, 0);
        const ids = [sid(), sid(), sid()];
        for (const id of ids) await store.set(id, 'c', later());
        await store.set(sid(), 'already expired', clock.now() - 1);
        assert.equal(await store.count!(), before + 3);
        await store.destroy(ids[0]!);
        assert.equal(await store.count!(), before + 2);
      });

      it('count leaves out sessions that expired before any gc', async function () {
        if (store.clear) await store.clear();
        const before = await store.count!();
        await store.set(sid(), 'short', clock.now() + shortTtl);
        await store.set(sid(), 'long', later());
        await expire();
        assert.equal(await store.count!(), before + 1);
      });

      it('clear removes every session of this store', async function () {
        if (!store.clear) this.skip();
        await store.set(sid(), 'a', later());
        await store.set(sid(), 'b', later());
        await store.clear();
        assert.equal(await store.count!(), 0);
      });
    });

    describe('gc', function () {
      before(function () {
        if (!store.gc) this.skip();
      });

      it('gc removes expired records and keeps live ones', async function () {
        const [dead, alive] = [sid(), sid()];
        await store.set(dead, 'dead', clock.now() + shortTtl);
        await store.set(alive, 'alive', later());
        await expire();
        await store.gc!();
        assert.equal(await store.get(dead), undefined);
        assert.equal(await store.get(alive), 'alive');
        if (store.count && store.clear) {
          await store.clear();
          await store.set(alive, 'alive', later());
          await store.gc!();
          assert.equal(await store.count(), 1);
        }
      });
    });

    describe('index', function () {
      before(function () {
        if (!store.indexAdd || !store.indexRemove || !store.indexList) this.skip();
      });
      const sorted = (ids: string[]) => [...ids].sort();
      const indexKey = (label: string) => `user:${label}:${sid()}`;

      it('indexList returns the ids filed under a key, and nothing for an unknown key', async function () {
        const [key, other] = [indexKey('a'), indexKey('b')];
        const ids = [sid(), sid(), sid()];
        for (const id of ids) await store.indexAdd!(key, id, later());
        await store.indexAdd!(other, sid(), later());
        assert.deepEqual(sorted(await store.indexList!(key)), sorted(ids));
        assert.deepEqual(await store.indexList!(indexKey('unknown')), []);
      });

      it('indexRemove takes one id out, and removing a missing one is a no-op', async function () {
        const key = indexKey('remove');
        const [a, b] = [sid(), sid()];
        await store.indexAdd!(key, a, later());
        await store.indexAdd!(key, b, later());
        await store.indexRemove!(key, a);
        await store.indexRemove!(key, a);
        await store.indexRemove!(indexKey('never'), a);
        assert.deepEqual(await store.indexList!(key), [b]);
        await store.indexRemove!(key, b);
        assert.deepEqual(await store.indexList!(key), []);
      });

      it('an entry is left out once its expiresAt passes, before any gc', async function () {
        const key = indexKey('expiry');
        const [short, long] = [sid(), sid()];
        await store.indexAdd!(key, short, clock.now() + shortTtl);
        await store.indexAdd!(key, long, later());
        await expire();
        assert.deepEqual(await store.indexList!(key), [long]);
      });

      it('adding an id again replaces its expiry and lists it once', async function () {
        const key = indexKey('again');
        const id = sid();
        await store.indexAdd!(key, id, clock.now() + shortTtl);
        await store.indexAdd!(key, id, later());
        await expire();
        assert.deepEqual(await store.indexList!(key), [id]);
      });

      it('keys of any characters and up to 512 characters stay apart', async function () {
        const suffix = sid();
        const keys = ['user:Zoë 🍪', 'user:a b,c;d=e', 'user:{tag}', 'user:../../etc/passwd', 'user:a/b\\c', 'user:%2e%2e', `user:${'k'.repeat(480)}`].map(
          (k) => `${k}:${suffix}`.slice(-512),
        );
        const filed = new Map(keys.map((k) => [k, sid()]));
        for (const [key, id] of filed) await store.indexAdd!(key, id, later());
        for (const [key, id] of filed) assert.deepEqual(await store.indexList!(key), [id], key);
      });

      it('lists every one of 50 ids filed under one key', async function () {
        const key = indexKey('many');
        const ids = Array.from({ length: 50 }, sid);
        await Promise.all(ids.map((id) => store.indexAdd!(key, id, later())));
        assert.deepEqual(sorted(await store.indexList!(key)), sorted(ids));
      });

      it('index entries are not sessions: count leaves them out and clear removes them', async function () {
        const key = indexKey('clear');
        const id = sid();
        const before = store.count ? await store.count() : undefined;
        await store.indexAdd!(key, id, later());
        if (store.count) assert.equal(await store.count(), before);
        assert.equal(await store.get(id), undefined);
        if (!store.clear) return;
        await store.clear();
        assert.deepEqual(await store.indexList!(key), []);
      });
    });

    it('close can be called twice', async function () {
      const extra = await options.open({ maxLifetime: options.maxLifetime ?? HOUR, now: () => clock.now() });
      await extra.close?.();
      await extra.close?.();
    });
  });
}
