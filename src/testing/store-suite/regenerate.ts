import assert from 'node:assert/strict';
import { isSessionError } from '../../errors.ts';
import type { StoreHarness } from './harness.ts';
import { skipWithout } from '../skip.ts';

/**
 * regenerateTests registers the `regenerate` suite, skipped when the store has none: the record
 * moves to the new id, a missing id is a no-op, a live record at the new id is never overwritten
 * (`ERR_SESSION_ID_TAKEN`), an expired one is, and of two concurrent moves of one id only one wins.
 */
export function regenerateTests(harness: StoreHarness): void {
  const { sid, later, clock, expire, expectRecord } = harness;

  describe('regenerate', function () {
    before(function () {
      skipWithout(this, harness.store.regenerate, 'regenerate');
    });

    it('regenerate moves the record to the new id and removes the old one', async function () {
      const [oldId, newId] = [sid(), sid()];
      await harness.store.set(oldId, 'moving', later());
      await harness.store.regenerate!(oldId, newId);
      await expectRecord(oldId, undefined, 'regenerate left the record at the old id');
      await expectRecord(newId, 'moving', 'regenerate did not move the record to the new id');
    });

    it('regenerate of a missing id is a no-op', async function () {
      const [oldId, newId] = [sid(), sid()];
      await harness.store.regenerate!(oldId, newId);
      await expectRecord(newId, undefined, 'regenerate of a missing id created a record at the new id');
    });

    it('regenerate onto an id that holds a live record rejects with ERR_SESSION_ID_TAKEN and leaves both records as they were', async function () {
      // Checklist row 24: a new id that happens to exist must never overwrite someone else's session.
      const { store } = harness;
      const [oldId, takenId] = [sid(), sid()];
      await store.set(oldId, 'mine', later());
      await store.set(takenId, 'theirs', later());
      const outcome = await store.regenerate!(oldId, takenId).then(
        () => 'resolved',
        (error: unknown) => error,
      );
      if (outcome === 'resolved') assert.fail('regenerate resolved onto an id that holds a live session: it must reject and overwrite nothing');
      assert.ok(
        isSessionError(outcome, 'ERR_SESSION_ID_TAKEN'),
        `regenerate rejected with ${String(outcome)}: a taken id must be ERR_SESSION_ID_TAKEN (throw idTaken(provider) from sessionkit), so the Manager tries another id instead of failing the request`,
      );
      await expectRecord(takenId, 'theirs', 'regenerate changed the session that held the new id');
      await expectRecord(oldId, 'mine', 'a refused regenerate must leave the old record where it was');
    });

    it('regenerate onto an id whose record has expired replaces that leftover', async function () {
      const [oldId, staleId] = [sid(), sid()];
      await harness.store.set(staleId, 'leftover', clock.now() + harness.shortTtl);
      await expire();
      await harness.store.set(oldId, 'mine', later());
      const rule = harness.expiryHint('an expired record at the new id counts as missing: regenerate replaces it');
      await harness.store.regenerate!(oldId, staleId).catch((error: unknown) => assert.fail(`regenerate refused (${String(error)}): ${rule}`));
      await expectRecord(staleId, 'mine', rule);
      await expectRecord(oldId, undefined, 'regenerate left the record at the old id');
    });

    it('of two concurrent regenerates of one id, exactly one new id gets the record and the old id is gone', async function () {
      // Checklist row 23: the loser finds nothing to move; it never copies the record a second time.
      const { store } = harness;
      const [oldId, a, b] = [sid(), sid(), sid()];
      await store.set(oldId, 'once', later());
      const results = await Promise.allSettled([store.regenerate!(oldId, a), store.regenerate!(oldId, b)]);
      for (const result of results) assert.equal(result.status, 'fulfilled', String((result as PromiseRejectedResult).reason));
      const holders = [await store.get(a), await store.get(b)].filter((record) => record !== undefined);
      assert.deepEqual(holders, ['once'], 'two concurrent regenerates of one id copied the record twice: take the old record atomically, so the loser finds nothing to move');
      await expectRecord(oldId, undefined, 'regenerate left the record at the old id');
    });
  });
}
