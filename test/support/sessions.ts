import { createManager, type Manager, type ManagerOptions, type Session } from 'sessionkit';
import { fakeClock, type TestClock } from 'sessionkit/testing';
import { fakeRequest } from './requests.ts';
import { spyProvider, type SpyStore } from './spy-store.ts';

/** Sessions is a manager over a spying memory store with a fake clock, for tests of the Session itself. */
export interface Sessions {
  clock: TestClock;
  manager: Manager;
  store: SpyStore;
  /** errors collects what reaches `onError`. */
  errors: Error[];
  /** load runs the start of a request carrying the session `id` (none: a first visit). */
  load(id?: string): Promise<Session>;
  /** created stores a session holding `data` and returns its id. */
  created(data?: Record<string, unknown>): Promise<string>;
}

/** openSessions opens a {@link Sessions} with `options` over the defaults (no gc ticker). */
export async function openSessions(options: ManagerOptions = {}): Promise<Sessions> {
  const clock = fakeClock();
  const errors: Error[] = [];
  const provider = spyProvider();
  const manager = await createManager({ provider, now: clock.now, onError: (e) => errors.push(e), gcInterval: 0, ...options });
  const load = (id?: string) => manager.load(fakeRequest(id === undefined ? undefined : `${manager.options.cookieName}=${id}`));
  return {
    clock,
    manager,
    store: provider.store!,
    errors,
    load,
    async created(data = { a: '1' }) {
      const session = await load();
      for (const [key, value] of Object.entries(data)) session.set(key, value);
      await session.release();
      return session.id;
    },
  };
}
