import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { generateId } from '../../id.ts';
import type { OpenOptions, Store } from '../../provider.ts';
import { fakeClock, realClock, type TestClock } from '../clock.ts';
import type { StoreSuiteOptions } from './index.ts';

const HOUR = 3_600_000;

/**
 * StoreHarness is what the store suite's tests share, and what `extraTests` receives: the store
 * under test (opened in mocha's `before`, so tests read it inside their bodies, never when they
 * register), its clock, and helpers for ids, expiries and failure messages that name the likely
 * mistake. The helpers are arrow properties, so a test may destructure them.
 */
export class StoreHarness {
  /** options is what describeStore was given. */
  readonly options: StoreSuiteOptions;
  /** clock is the store's clock: fake (moved by the suite) unless the suite says `clock: 'real'`. */
  readonly clock: TestClock;
  /** resolution is the backend's expiry granularity in ms (`expiryResolution`, default 1). */
  readonly resolution: number;
  /** shortTtl is the lifetime of a record a test lets expire: 1 s, or the resolution if longer. */
  readonly shortTtl: number;
  /** store is the store under test, opened by {@link StoreHarness.open}. */
  store!: Store;
  /**
   * ignoresNow is true when the store, on a fake clock, still returned a record after the clock
   * passed its expiresAt: it reads `Date.now()` instead of `OpenOptions.now`. Every expiry failure
   * then says so, since that one mistake fails them all.
   */
  ignoresNow = false;

  constructor(options: StoreSuiteOptions) {
    this.options = options;
    this.clock = options.clock === 'real' ? realClock() : fakeClock();
    this.resolution = options.expiryResolution ?? 1;
    this.shortTtl = this.clock.fake ? 1000 : Math.max(1000, this.resolution);
  }

  /** openOptions are what the suite passes to `open`: its maxLifetime and the clock's `now`. */
  readonly openOptions = (): OpenOptions => ({ maxLifetime: this.options.maxLifetime ?? HOUR, now: () => this.clock.now() });

  /** open opens the store under test and, on a fake clock, probes whether it reads the clock. */
  async open(): Promise<void> {
    this.store = await this.options.open(this.openOptions());
    if (!this.clock.fake) return;
    try {
      const probe = this.sid();
      await this.store.set(probe, 'probe', this.clock.now() + this.shortTtl);
      await this.expire();
      this.ignoresNow = (await this.store.get(probe)) !== undefined;
      await this.store.destroy(probe);
    } catch {
      // A store that fails here fails the suite's own tests, each with its own message.
    }
  }

  /** sid is a fresh valid session id. */
  readonly sid = (): string => generateId(32);

  /** later is an expiresAt one hour ahead on the store's clock. */
  readonly later = (): number => this.clock.now() + HOUR;

  /** expire moves the clock past a record written with `clock.now() + shortTtl`. */
  readonly expire = async (): Promise<void> => {
    await this.clock.advance(this.shortTtl + this.resolution + (this.clock.fake ? 1 : 250));
  };

  /**
   * expiryHint is what an expiry failure adds: on a store that ignores the fake clock, the cause of
   * every such failure; otherwise `rule`, the rule the test checks.
   */
  readonly expiryHint = (rule: string): string =>
    this.ignoresNow
      ? 'your store ignores OpenOptions.now: it must read time from options.now (falling back to Date.now), or the suite must say clock: "real" when the backend expires records by its own clock'
      : rule;

  /**
   * expectRecord asserts that `sid` reads as `expected` (undefined: missing), failing with `hint`
   * (the likely mistake) and what was read; through `getNow` too, for a store that has it.
   */
  readonly expectRecord = async (sid: string, expected: string | undefined, hint: string): Promise<void> => {
    const actual = await this.store.get(sid);
    if (actual !== expected) assert.fail(`${hint} (get read ${shown(actual)}, expected ${shown(expected)})`);
    // A store with a synchronous read must answer it exactly as get does, in every state the suite reads.
    if (this.store.getNow) {
      const synchronous = this.store.getNow(sid);
      if (synchronous !== expected) assert.fail(`getNow read ${shown(synchronous)} where get read ${shown(actual)}: getNow must answer as get does`);
    }
  };

  /** expectGone asserts that `sid` reads as missing after an expiry, naming `rule` or the clock mistake. */
  readonly expectGone = (sid: string, rule: string): Promise<void> => this.expectRecord(sid, undefined, this.expiryHint(rule));
}

/** shown renders a value for a failure message, long records cut short. */
function shown(value: unknown): string {
  return inspect(value, { maxStringLength: 80 });
}
