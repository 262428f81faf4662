import assert from 'node:assert/strict';
import type { OpenOptions, Store } from '../../provider.ts';
import { closeTests } from './close.ts';
import { compareAndSetTests } from './compare-and-set.ts';
import { countingTests } from './counting.ts';
import { expiryTests } from './expiry.ts';
import { StoreHarness } from './harness.ts';
import { indexTests } from './index-entries.ts';
import { recordTests } from './records.ts';
import { regenerateTests } from './regenerate.ts';
import { touchTests } from './touch.ts';

export type { StoreHarness } from './harness.ts';

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
  /**
   * rejectsAfterClose says the store rejects every call after `close` with `ERR_SESSION_CLOSED`,
   * as every built-in store does; the suite then checks it. Default false: the contract asks only
   * that close be idempotent.
   */
  rejectsAfterClose?: boolean;
  /**
   * extraTests registers a provider's own tests inside the suite, after the contract's, so its
   * conformance run and its own tests live in one file and share the opened store and its clock:
   * `extraTests: (harness) => it('…', async () => { await harness.store.set(…) })`. Read
   * `harness.store` inside a test body: the store is opened in mocha's `before`.
   */
  extraTests?: (harness: StoreHarness) => void;
}

/**
 * describeStore defines a mocha suite proving that a {@link Store} keeps the contract of
 * `sessionkit`'s `Store` interface: not-found, expiry on read (and at its exact instant on a fake
 * clock), idempotence, and each optional method that the store has (detected by presence). A
 * failure names the likely mistake, e.g. "your store ignores OpenOptions.now". Third-party
 * providers call it once:
 *
 * ```ts
 * describeStore('my-store', { open: (options) => provider.open('config', options) });
 * ```
 */
export function describeStore(name: string, options: StoreSuiteOptions): void {
  describe(`Store contract: ${name}`, function () {
    const harness = new StoreHarness(options);
    this.timeout(harness.clock.fake ? 10_000 : 20_000 + 4 * harness.shortTtl);

    before(async function () {
      await harness.open();
    });
    after(async function () {
      await harness.store?.close?.();
    });

    if (options.requires?.length) {
      it(`has ${options.requires.join(', ')}`, function () {
        for (const method of options.requires!) assert.equal(typeof harness.store[method], 'function', `missing ${method}`);
      });
    }

    recordTests(harness);
    expiryTests(harness);
    compareAndSetTests(harness);
    touchTests(harness);
    regenerateTests(harness);
    countingTests(harness);
    indexTests(harness);
    closeTests(harness);
    options.extraTests?.(harness);
  });
}
