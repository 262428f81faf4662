import assert from 'node:assert/strict';
import { isSessionError } from '../../errors.ts';
import type { Store } from '../../provider.ts';
import type { StoreHarness } from './harness.ts';

/**
 * closeTests registers the tests of `close` on a second store the suite opens: it can be called
 * twice, and, for a store that promises it (`rejectsAfterClose`), every later call rejects with
 * `ERR_SESSION_CLOSED`.
 */
export function closeTests(harness: StoreHarness): void {
  it('close can be called twice', async function () {
    const extra = await harness.options.open(harness.openOptions());
    await extra.close?.();
    await extra.close?.();
  });

  if (!harness.options.rejectsAfterClose) return;

  it('every call after close rejects with ERR_SESSION_CLOSED', async function () {
    const extra = await harness.options.open(harness.openOptions());
    await extra.close!();
    const id = harness.sid();
    const calls: Array<[keyof Store, () => Promise<unknown> | undefined]> = [
      ['get', () => extra.get(id)],
      ['set', () => extra.set(id, 'r', harness.later())],
      ['destroy', () => extra.destroy(id)],
      ['compareAndSet', () => extra.compareAndSet?.(id, undefined, 'r', harness.later())],
      ['touch', () => extra.touch?.(id, harness.later())],
      ['regenerate', () => extra.regenerate?.(id, harness.sid())],
      ['count', () => extra.count?.()],
      ['clear', () => extra.clear?.()],
      ['gc', () => extra.gc?.()],
      ['indexAdd', () => extra.indexAdd?.('user:x', id, harness.later())],
      ['indexRemove', () => extra.indexRemove?.('user:x', id)],
      ['indexList', () => extra.indexList?.('user:x')],
    ];
    for (const [name, call] of calls) {
      const pending = call();
      if (pending === undefined) continue;
      const outcome = await pending.then(
        () => 'resolved',
        (error: unknown) => error,
      );
      assert.ok(isSessionError(outcome, 'ERR_SESSION_CLOSED'), `${name} after close gave ${String(outcome)}, not ERR_SESSION_CLOSED`);
    }
    const closed = (error: unknown) => isSessionError(error, 'ERR_SESSION_CLOSED');
    if (extra.getNow) assert.throws(() => extra.getNow!(id), closed, 'getNow after close must throw ERR_SESSION_CLOSED');
    if (extra.compareAndSetNow) assert.throws(() => extra.compareAndSetNow!(id, undefined, 'r', harness.later()), closed, 'compareAndSetNow after close must throw ERR_SESSION_CLOSED');
  });
}
