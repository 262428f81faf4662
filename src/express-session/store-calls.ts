import { SessionError } from '../errors.ts';

/**
 * Calls into an express-session store. Such stores take a node callback as the last argument of
 * every method (connect-pg-simple, memorystore); some also return a promise (connect-redis 9).
 * sessionkit reads and writes them through these few functions only.
 */

/** StoreCallback is the node-style callback an express-session store method ends with. */
export type StoreCallback = (error?: unknown, result?: unknown) => void;

/**
 * ExpressSessionStore is what sessionkit uses of an express-session–compatible store instance:
 * `get`, `set` and `destroy`, and `all` and `clear` where it has them. The session objects it
 * holds look like express-session's: data properties and a `cookie` whose `expires` or `maxAge`
 * the store reads for its own expiry.
 */
export interface ExpressSessionStore {
  get(sid: string, callback: StoreCallback): unknown;
  set(sid: string, session: StoredSession, callback: StoreCallback): unknown;
  destroy(sid: string, callback: StoreCallback): unknown;
  all?(callback: StoreCallback): unknown;
  clear?(callback: StoreCallback): unknown;
}

/** StoredCookie is the part of a stored session's `cookie` that stores read for their expiry. */
export interface StoredCookie {
  expires?: Date | string | null;
  maxAge?: number | null;
  originalMaxAge?: number | null;
}

/** StoredSession is a session object as express-session stores hold it: `cookie`, and the data beside it. */
export interface StoredSession {
  cookie: StoredCookie;
}

/** isExpressSessionStore tells whether `value` has the methods of an express-session store. */
export function isExpressSessionStore(value: unknown): value is ExpressSessionStore {
  if (typeof value !== 'object' || value === null) return false;
  const store = value as Record<string, unknown>;
  return typeof store.get === 'function' && typeof store.set === 'function' && typeof store.destroy === 'function';
}

/** checkStore refuses what is not an express-session store, naming the option it came from. */
export function checkStore(value: unknown, option: string): ExpressSessionStore {
  if (!isExpressSessionStore(value)) {
    throw new SessionError('ERR_SESSION_CONFIG', `session: ${option} must be an express-session store instance (with get, set and destroy), such as new RedisStore({ client })`);
  }
  return value;
}

/**
 * callStore calls `method` of an express-session store with `args` and a callback, and settles
 * with the callback's result. A store that also returns a promise and rejects it, or throws,
 * settles it with that error; whichever comes first wins.
 */
export function callStore<T>(store: ExpressSessionStore, method: 'get' | 'set' | 'destroy' | 'all' | 'clear', ...args: unknown[]): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const done: StoreCallback = (error, result) => {
      if (settled) return;
      settled = true;
      if (error) reject(error instanceof Error ? error : new Error(String(error)));
      else resolve(result as T);
    };
    try {
      const returned = (store[method] as (...all: unknown[]) => unknown).call(store, ...args, done);
      if (returned instanceof Promise) returned.catch((error: unknown) => done(error ?? new Error(`${method} rejected`)));
    } catch (error) {
      done(error ?? new Error(`${method} threw`));
    }
  });
}
