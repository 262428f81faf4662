import assert from 'node:assert/strict';
import type { StoreHarness } from './harness.ts';
import { skipWithout } from '../skip.ts';

/**
 * compareAndSetTests registers the `compareAndSet` suite, skipped when the store has none: it
 * writes only over the record it was given (`undefined`: only where none is live), an expired
 * record counts as missing, and of 20 concurrent writers expecting one record exactly one wins.
 */
export function compareAndSetTests(harness: StoreHarness): void {
  const { sid, later, clock, expire, expectRecord } = harness;
  const cas = (id: string, expected: string | undefined, record: string, expiresAt = later()) =>
    harness.store.compareAndSet!(id, expected, record, expiresAt);

  describe('compareAndSet', function () {
    before(function () {
      skipWithout(this, harness.store.compareAndSet, 'compareAndSet');
    });

    it('compareAndSet with expected undefined creates a missing record', async function () {
      const id = sid();
      assert.equal(await cas(id, undefined, 'new'), true, 'compareAndSet(sid, undefined, …) must write when no record exists');
      await expectRecord(id, 'new', 'compareAndSet reported a write that get cannot read');
    });

    it('compareAndSet with expected undefined refuses when a record exists', async function () {
      const id = sid();
      await harness.store.set(id, 'taken', later());
      assert.equal(await cas(id, undefined, 'intruder'), false, 'compareAndSet(sid, undefined, …) means "only if missing": it wrote over a live record');
      await expectRecord(id, 'taken', 'compareAndSet refused but changed the record anyway');
    });

    it('compareAndSet replaces only when the stored record equals expected', async function () {
      const id = sid();
      await harness.store.set(id, 'v1', later());
      assert.equal(await cas(id, 'v0', 'wrong'), false, 'compareAndSet wrote although the stored record differs from expected');
      await expectRecord(id, 'v1', 'compareAndSet refused but changed the record anyway');
      assert.equal(await cas(id, 'v1', 'v2'), true, 'compareAndSet refused although the stored record equals expected');
      await expectRecord(id, 'v2', 'compareAndSet reported a write that get cannot read');
    });

    it('compareAndSet with an expected record refuses when the record is missing', async function () {
      const id = sid();
      assert.equal(await cas(id, 'ghost', 'resurrected'), false, 'compareAndSet wrote a record that did not exist although expected was a record');
      await expectRecord(id, undefined, 'compareAndSet refused but created the record anyway');
    });

    it('compareAndSet treats an expired record as missing', async function () {
      const id = sid();
      await harness.store.set(id, 'old', clock.now() + harness.shortTtl);
      await expire();
      const hint = harness.expiryHint('an expired record counts as missing for compareAndSet');
      assert.equal(await cas(id, 'old', 'revived'), false, `compareAndSet matched an expired record: ${hint}`);
      assert.equal(await cas(id, undefined, 'fresh'), true, `compareAndSet(sid, undefined, …) refused over an expired record: ${hint}`);
      await expectRecord(id, 'fresh', 'compareAndSet reported a write that get cannot read');
    });

    it('compareAndSet lets exactly one of 20 concurrent writers with the same expected win', async function () {
      const id = sid();
      await harness.store.set(id, 'base', later());
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => cas(id, 'base', `writer-${i}`)));
      const winners = results.filter(Boolean).length;
      assert.equal(
        winners,
        1,
        `compareAndSet let ${winners} of 20 concurrent writers win: the compare and the write must be one atomic step (no await between them, or one conditional write in the backend)`,
      );
      await expectRecord(id, `writer-${results.indexOf(true)}`, 'the record is not the one the winning writer wrote');
    });
  });
}
