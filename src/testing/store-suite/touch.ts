import type { StoreHarness } from './harness.ts';
import { skipWithout } from '../skip.ts';

/** touchTests registers the `touch` suite, skipped when the store has none: touch moves a live record's expiry, keeps its data and never creates. */
export function touchTests(harness: StoreHarness): void {
  const { sid, later, clock, expire, expectRecord } = harness;

  describe('touch', function () {
    before(function () {
      skipWithout(this, harness.store.touch, 'touch');
    });

    it('touch extends the expiry and keeps the data', async function () {
      const id = sid();
      await harness.store.set(id, 'kept', clock.now() + harness.shortTtl);
      await harness.store.touch!(id, later());
      await expire();
      await expectRecord(id, 'kept', 'after touch the record must live until the new expiresAt, data unchanged');
    });

    it('touch never creates a missing record', async function () {
      const id = sid();
      await harness.store.touch!(id, later());
      await expectRecord(id, undefined, 'touch created a record for an id that had none: touch only moves the expiry of a live record');
    });
  });
}
