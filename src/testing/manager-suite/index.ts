import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConnectMiddleware } from '../../http/express.ts';
import type { ManagerOptions } from '../../options.ts';
import { ManagerHarness } from './harness.ts';
import { hostileInputTests } from './hostile-input.ts';
import { lifecycleTests } from './lifecycle.ts';
import { raceTests } from './races.ts';
import { userSessionTests } from './user-sessions.ts';

/** ManagerSuiteOptions configure {@link describeManager}. */
export interface ManagerSuiteOptions {
  /** options returns the ManagerOptions of a fresh manager (provider, providerConfig, …). */
  options(): ManagerOptions | Promise<ManagerOptions>;
  /** concurrency is the number of parallel requests in the lost-update tests [50]. */
  concurrency?: number;
  /**
   * atomic says the store has `compareAndSet` [true], which is how no concurrent write is lost and
   * no destroy undone. A store without it (a legal degradation: last writer wins) declares
   * `atomic: false`, and the tests of concurrent writes then check what such a store still
   * promises: every request succeeds and the stored record is always one whole record some request
   * wrote. Left true, a store without `compareAndSet` fails those tests with a message saying so.
   */
  atomic?: boolean;
  /**
   * mount runs the suite inside a framework: it gets the session middleware and the suite's
   * routes (both connect-style) and returns the request listener, e.g.
   * `(session, routes) => express().use(session).use(routes)`. Default: plain node:http.
   */
  mount?: (session: ConnectMiddleware, routes: ConnectMiddleware) => (req: IncomingMessage, res: ServerResponse) => void;
}

/**
 * describeManager defines a mocha suite that runs the whole request flow over a provider through
 * `manager.middleware()` on a loopback node:http server: lazy creation, reads across requests,
 * regenerate, destroy, flash across a redirect, forged, malformed and colliding ids, corrupt
 * records, exact value round trips, size limits, and concurrent requests of one session that must
 * not lose updates or undo a destroy.
 */
export function describeManager(name: string, suite: ManagerSuiteOptions): void {
  describe(`Manager flow: ${name}`, function () {
    this.timeout(30_000);
    const harness = new ManagerHarness(suite);
    before(async function () {
      await harness.start();
    });
    after(async function () {
      await harness.stop();
    });
    lifecycleTests(harness);
    raceTests(harness);
    hostileInputTests(harness);
    // Last, as mocha runs it: a nested suite runs after its parent's own tests.
    userSessionTests(harness);
  });
}
