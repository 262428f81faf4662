import assert from 'node:assert/strict';
import type { StoreHarness } from './harness.ts';
import { skipWithout } from '../skip.ts';

/**
 * countingTests registers the `count and clear` and `gc` suites, each skipped when the store
 * lacks the method: count is exact and counts live sessions only, clear leaves none, gc removes
 * expired records and keeps live ones.
 */
export function countingTests(harness: StoreHarness): void {
  const { sid, later, clock, expire, expectRecord } = harness;

  describe('count and clear', function () {
    before(function () {
      skipWithout(this, harness.store.count, 'count');
    });

    it('count is exact and counts live sessions only', async function () {
      const { store } = harness;
      if (store.clear) await store.clear();
      const before = await store.count!();
      if (store.clear) assert.equal(before, 0, 'count after clear must be 0');
      const ids = [sid(), sid(), sid()];
      for (const id of ids) await store.set(id, 'c', later());
      await store.set(sid(), 'already expired', clock.now() - 1);
      assert.equal(await store.count!(), before + 3, 'count must be exact: three live sessions added, one written already expired');
      await store.destroy(ids[0]!);
      assert.equal(await store.count!(), before + 2, 'count still counts a destroyed session');
    });

    it('count leaves out sessions that expired before any gc', async function () {
      const { store } = harness;
      if (store.clear) await store.clear();
      const before = await store.count!();
      await store.set(sid(), 'short', clock.now() + harness.shortTtl);
      await store.set(sid(), 'long', later());
      await expire();
      assert.equal(await store.count!(), before + 1, `count included a session whose expiresAt has passed: ${harness.expiryHint('count counts live sessions only, gc or not')}`);
    });

    it('clear removes every session of this store', async function () {
      const { store } = harness;
      skipWithout(this, store.clear, 'clear');
      await store.set(sid(), 'a', later());
      await store.set(sid(), 'b', later());
      await store.clear!();
      assert.equal(await store.count!(), 0, 'clear left sessions behind');
    });
  });

  describe('gc', function () {
    before(function () {
      skipWithout(this, harness.store.gc, 'gc');
    });

    it('gc removes expired records and keeps live ones', async function () {
      const { store } = harness;
      const [dead, alive] = [sid(), sid()];
      await store.set(dead, 'dead', clock.now() + harness.shortTtl);
      await store.set(alive, 'alive', later());
      await expire();
      await store.gc!();
      await expectRecord(dead, undefined, harness.expiryHint('gc must remove expired records'));
      await expectRecord(alive, 'alive', 'gc removed a live record');
      if (store.count && store.clear) {
        await store.clear();
        await store.set(alive, 'alive', later());
        await store.gc!();
        assert.equal(await store.count(), 1, 'gc removed a live record');
      }
    });
  });
}
