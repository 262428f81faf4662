import assert from 'node:assert/strict';
import type { StoreHarness } from './harness.ts';

const ON_READ = 'get returned a record after its expiresAt: expiry is enforced on read, before any gc runs';
const PAST_MEANS_GONE = 'a write with an expiresAt already past must leave nothing readable (a past expiry means gone, not "no expiry" or "expire later")';

/**
 * expiryTests registers the tests of expiry on read: a record is live while `expiresAt > now` and
 * gone from the instant `now >= expiresAt`, before any gc, by the store's clock (`OpenOptions.now`);
 * a write with an expiry already past leaves nothing readable.
 */
export function expiryTests(harness: StoreHarness): void {
  const { sid, later, clock, expire, expectGone, expectRecord } = harness;

  if (clock.fake) {
    it('the store reads time from OpenOptions.now', async function () {
      assert.ok(
        !harness.ignoresNow,
        'your store ignores OpenOptions.now: a record was still readable after the fake clock passed its expiresAt. Read time from options.now (falling back to Date.now), or pass clock: "real" if the backend expires records by its own clock',
      );
    });

    it('a record is live until its expiresAt, within the backend resolution, and gone from the instant now reaches it', async function () {
      const { resolution } = harness;
      const id = sid();
      const expiresAt = clock.now() + 2000 + resolution;
      await harness.store.set(id, 'boundary', expiresAt);
      await clock.advance(expiresAt - resolution - clock.now());
      const early = resolution === 1 ? '1 ms' : `${resolution} ms (the expiryResolution)`;
      await expectRecord(id, 'boundary', harness.expiryHint(`get lost a record ${early} before its expiresAt: a record is live while expiresAt > now`));
      await clock.advance(resolution);
      await expectGone(id, 'get returned a record at now == expiresAt: a record is expired from the instant now >= expiresAt (compare expiresAt > now, not >=)');
    });
  }

  it('get returns undefined after expiresAt, before any gc', async function () {
    const { store } = harness;
    const [id, keep] = [sid(), sid()];
    await store.set(id, 'short', clock.now() + harness.shortTtl);
    await store.set(keep, 'long', later());
    await expire();
    await expectGone(id, ON_READ);
    await expectRecord(keep, 'long', 'get lost a record whose expiresAt is an hour ahead');
  });

  it('set with an expiresAt already past stores nothing readable and does not throw', async function () {
    const id = sid();
    await harness.store.set(id, 'stale', clock.now() - 1000);
    await expectGone(id, PAST_MEANS_GONE);
  });

  it('set, touch and compareAndSet with an expiresAt already past leave a live record unreadable, never the old data', async function () {
    // Checklist row 44: a remaining lifetime of zero or less means "gone", not SET EX 0 or a skipped write.
    const { store } = harness;
    const past = () => clock.now() - 1000;
    const [viaSet, viaTouch, viaCas] = [sid(), sid(), sid()];
    for (const id of [viaSet, viaTouch, viaCas]) await store.set(id, 'live', later());
    await store.set(viaSet, 'replaced', past());
    await expectGone(viaSet, `set: ${PAST_MEANS_GONE}`);
    if (store.touch) {
      await store.touch(viaTouch, past());
      await expectGone(viaTouch, `touch: ${PAST_MEANS_GONE}`);
    }
    if (store.compareAndSet) {
      await store.compareAndSet(viaCas, 'live', 'replaced', past());
      await expectGone(viaCas, `compareAndSet: ${PAST_MEANS_GONE}`);
    }
  });
}
