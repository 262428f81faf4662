import assert from 'node:assert/strict';
import type { StoreHarness } from './harness.ts';
import { skipWithout } from '../skip.ts';

/**
 * compareAndSetTests registers the `compareAndSet` suite, skipped when the store has none: it
 * writes only over the record it was given (`undefined`: only where none is live), an expired
 * record counts as missing, and of 20 concurrent writers expecting one record exactly one wins.
 * A store with the synchronous `compareAndSetNow` runs the same suite through it.
 */
export function compareAndSetTests(harness: StoreHarness): void {
  compareAndSetSuite(harness, 'compareAndSet', (...args) => harness.store.compareAndSet!(...args));
  // Synchronous: each call has written or refused before the next starts, which is the atomicity asked.
  compareAndSetSuite(harness, 'compareAndSetNow', async (...args) => harness.store.compareAndSetNow!(...args));
}

type Cas = (id: string, expected: string | undefined, record: string, expiresAt: number) => Promise<boolean>;

function compareAndSetSuite(harness: StoreHarness, method: 'compareAndSet' | 'compareAndSetNow', call: Cas): void {
  const { sid, later, clock, expire, expectRecord } = harness;
  const cas = (id: string, expected: string | undefined, record: string, expiresAt = later()) => call(id, expected, record, expiresAt);

  describe(method, function () {
    before(function () {
      skipWithout(this, harness.store[method], method);
    });

    it(`${method} with expected undefined creates a missing record`, async function () {
      const id = sid();
      assert.equal(await cas(id, undefined, 'new'), true, `${method}(sid, undefined, …) must write when no record exists`);
      await expectRecord(id, 'new', `${method} reported a write that get cannot read`);
    });

    it(`${method} with expected undefined refuses when a record exists`, async function () {
      const id = sid();
      await harness.store.set(id, 'taken', later());
      assert.equal(await cas(id, undefined, 'intruder'), false, `${method}(sid, undefined, …) means "only if missing": it wrote over a live record`);
      await expectRecord(id, 'taken', `${method} refused but changed the record anyway`);
    });

    it(`${method} replaces only when the stored record equals expected`, async function () {
      const id = sid();
      await harness.store.set(id, 'v1', later());
      assert.equal(await cas(id, 'v0', 'wrong'), false, `${method} wrote although the stored record differs from expected`);
      await expectRecord(id, 'v1', `${method} refused but changed the record anyway`);
      assert.equal(await cas(id, 'v1', 'v2'), true, `${method} refused although the stored record equals expected`);
      await expectRecord(id, 'v2', `${method} reported a write that get cannot read`);
    });

    it(`${method} with an expected record refuses when the record is missing`, async function () {
      const id = sid();
      assert.equal(await cas(id, 'ghost', 'resurrected'), false, `${method} wrote a record that did not exist although expected was a record`);
      await expectRecord(id, undefined, `${method} refused but created the record anyway`);
    });

    it(`${method} treats an expired record as missing`, async function () {
      const id = sid();
      await harness.store.set(id, 'old', clock.now() + harness.shortTtl);
      await expire();
      const hint = harness.expiryHint(`an expired record counts as missing for ${method}`);
      assert.equal(await cas(id, 'old', 'revived'), false, `${method} matched an expired record: ${hint}`);
      assert.equal(await cas(id, undefined, 'fresh'), true, `${method}(sid, undefined, …) refused over an expired record: ${hint}`);
      await expectRecord(id, 'fresh', `${method} reported a write that get cannot read`);
    });

    it(`${method} lets exactly one of 20 concurrent writers with the same expected win`, async function () {
      const id = sid();
      await harness.store.set(id, 'base', later());
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => cas(id, 'base', `writer-${i}`)));
      const winners = results.filter(Boolean).length;
      assert.equal(
        winners,
        1,
        `${method} let ${winners} of 20 concurrent writers win: the compare and the write must be one atomic step (no await between them, or one conditional write in the backend)`,
      );
      await expectRecord(id, `writer-${results.indexOf(true)}`, 'the record is not the one the winning writer wrote');
    });
  });
}
