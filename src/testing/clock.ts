/**
 * TestClock drives expiry in conformance suites: a fake clock for stores that read time from
 * `OpenOptions.now`, a real one for stores whose backend expires records natively.
 */
export interface TestClock {
  now(): number;
  /** advance moves time forward by `ms`: instantly on a fake clock, by sleeping on a real one. */
  advance(ms: number): Promise<void>;
  readonly fake: boolean;
}

/** fakeClock starts at `start` epoch ms and moves only when advanced. */
export function fakeClock(start = Date.UTC(2030, 0, 1)): TestClock {
  let offset = 0;
  return {
    fake: true,
    now: () => start + offset,
    advance: async (ms) => {
      offset += ms;
    },
  };
}

/** realClock is `Date.now`; advancing it sleeps. */
export function realClock(): TestClock {
  return {
    fake: false,
    now: () => Date.now(),
    advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}
