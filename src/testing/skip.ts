/**
 * skipWithout skips the running test — or, from a `before` hook, its whole suite — when the store
 * under test lacks an optional capability, and records why as `skipReason` (`{ reason }`) on the
 * test or suite, where a mocha reporter can group skipped tests by their reason.
 */
export function skipWithout(ctx: Mocha.Context, present: unknown, capability: string): void {
  if (present) return;
  const runnable = ctx.test as (Mocha.Runnable & { type?: string }) | undefined;
  const target = runnable?.type === 'hook' ? runnable.parent : runnable;
  if (target) Object.assign(target, { skipReason: { reason: `the store has no ${capability} (optional in the Store contract)` } });
  ctx.skip();
}
