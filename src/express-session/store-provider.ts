import { SessionError } from '../errors.ts';
import type { OpenOptions, Provider, Store } from '../provider.ts';
import { callStore, checkStore, type ExpressSessionStore, type StoredSession } from './store-calls.ts';

/**
 * An express-session store (connect-redis, connect-pg-simple, memorystore, connect-mongo, …) as a
 * sessionkit {@link Store}, so a backend sessionkit has no provider for still serves a Manager.
 *
 * The record stays opaque: it is wrapped in the session object such stores expect, whose `cookie`
 * carries the expiry they read for their own (`cookie.expires` for connect-redis,
 * connect-pg-simple and connect-mongo, `cookie.maxAge` for memorystore). The wrapper also keeps
 * `expiresAt`, and `get` checks it, so expiry holds on read whatever the store does.
 *
 * Such stores have no compare-and-set: two requests of one session that write at once can lose
 * one's changes (the last save wins), and a write racing a destroy can bring the session back.
 */

/** WRAPPER_KEY is the property of the stored session object that holds sessionkit's record. */
const WRAPPER_KEY = 'sessionkit';

/** Wrapped is what sessionkit keeps under {@link WRAPPER_KEY}. */
interface Wrapped {
  record: string;
  expiresAt: number;
}

/** unwrap returns the record a stored session object holds, or undefined for a foreign or expired one. */
function unwrap(stored: unknown, now: number): string | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  const wrapped = (stored as Record<string, unknown>)[WRAPPER_KEY] as Partial<Wrapped> | undefined;
  if (typeof wrapped !== 'object' || wrapped === null || typeof wrapped.record !== 'string' || typeof wrapped.expiresAt !== 'number') return undefined;
  return wrapped.expiresAt > now ? wrapped.record : undefined;
}

/** isWrapped tells whether a stored session object is one sessionkit wrote (live or not). */
export function isWrapped(stored: object): boolean {
  return Object.hasOwn(stored, WRAPPER_KEY);
}

/**
 * ExpressStoreAdapter is one express-session store seen as a sessionkit Store. `count` exists
 * when the store has `all` and `clear` when it has `clear`; there is no `compareAndSet`,
 * `regenerate` or index, so the Manager falls back as it does for any store without them.
 */
class ExpressStoreAdapter implements Store {
  readonly #store: ExpressSessionStore;
  readonly #now: () => number;
  count?: () => Promise<number>;
  clear?: () => Promise<void>;

  constructor(store: ExpressSessionStore, now: () => number) {
    this.#store = store;
    this.#now = now;
    if (typeof store.all === 'function') this.count = () => this.#count();
    if (typeof store.clear === 'function') this.clear = () => callStore(store, 'clear');
  }

  async get(sid: string): Promise<string | undefined> {
    return unwrap(await callStore(this.#store, 'get', sid), this.#now());
  }

  async set(sid: string, record: string, expiresAt: number): Promise<void> {
    const now = this.#now();
    // A lifetime already over means gone; such stores would keep it for their default ttl instead.
    if (expiresAt <= now) return this.destroy(sid);
    await callStore(this.#store, 'set', sid, wrap(record, expiresAt, now));
  }

  async destroy(sid: string): Promise<void> {
    await callStore(this.#store, 'destroy', sid);
  }

  /**
   * touch writes the live record again with the new expiry. The store's own `touch` is not used:
   * it moves the store's expiry but leaves the `expiresAt` kept in the record, which `get` checks,
   * so the session would still end at the old time.
   */
  async touch(sid: string, expiresAt: number): Promise<void> {
    const record = await this.get(sid);
    if (record !== undefined) await this.set(sid, record, expiresAt);
  }

  /** #count counts the live sessions sessionkit wrote; the store's own `length` would count expired and foreign ones too. */
  async #count(): Promise<number> {
    const all = await callStore<unknown>(this.#store, 'all');
    const sessions = Array.isArray(all) ? all : typeof all === 'object' && all !== null ? Object.values(all) : [];
    const now = this.#now();
    return sessions.filter((stored) => unwrap(stored, now) !== undefined).length;
  }
}

/**
 * wrap is the session object stored for `record`: a `cookie` whose `expires` and `maxAge` say when
 * it expires, measured from the wall clock as the store measures them, and the record itself.
 */
function wrap(record: string, expiresAt: number, now: number): StoredSession {
  const maxAge = expiresAt - now;
  const wrapped: Wrapped = { record, expiresAt };
  const stored: StoredSession & Record<typeof WRAPPER_KEY, Wrapped> = { cookie: { originalMaxAge: maxAge, maxAge, expires: new Date(Date.now() + maxAge) }, [WRAPPER_KEY]: wrapped };
  return stored;
}

/**
 * storeProvider turns an express-session store instance into a sessionkit Provider:
 * `createManager({ provider: storeProvider(new RedisStore({ client })) })`. The provider config
 * string is ignored (the instance is already configured), and the instance stays the
 * application's: the Manager never closes it. When the store is opened, `onError` gets one
 * `ERR_SESSION_UNSUPPORTED` notice that it has no compare-and-set (see the file comment).
 */
export function storeProvider(store: ExpressSessionStore): Provider {
  checkStore(store, 'storeProvider(store)');
  return {
    async open(_config: string, options: OpenOptions): Promise<Store> {
      const name = store.constructor?.name || 'the store';
      options.report?.(
        new SessionError(
          'ERR_SESSION_UNSUPPORTED',
          `session/express-session: ${name} has no compare-and-set, so two requests of one session that write at once can lose one's changes (the last save wins) and a write racing a destroy can bring the session back`,
        ),
      );
      return new ExpressStoreAdapter(store, options.now ?? Date.now);
    },
  };
}
