import { SessionError } from './errors.ts';
import type { Store } from './provider.ts';

/**
 * BOUNDED lists the store methods a request waits on. `count`, `clear`, `gc` and `close` are
 * maintenance calls whose honest duration grows with the number of sessions, so they keep only
 * the client's own timeouts.
 */
const BOUNDED = ['get', 'set', 'destroy', 'compareAndSet', 'touch', 'regenerate', 'indexAdd', 'indexRemove', 'indexList'] as const satisfies readonly (keyof Store)[];

/** PASSED are the other methods, handed through as they are. */
const PASSED = ['count', 'clear', 'gc', 'close'] as const satisfies readonly (keyof Store)[];

type Method = (...args: unknown[]) => Promise<unknown>;

/**
 * withStoreTimeout returns `store` with every call a request waits on (get, set, destroy,
 * compareAndSet, touch, regenerate and the index methods) bounded to `ms`: a call that has not
 * settled by then rejects with `ERR_SESSION_STORE` and the message
 * `session/<provider>: <method> timed out after <ms> ms`. The optional methods present stay
 * exactly those of `store`; the others (count, clear, gc, close) are passed through unbounded.
 * `ms` of 0 returns `store` itself.
 *
 * A timeout only stops the waiting: the backend call goes on and may still complete. A timed-out
 * write may therefore have been applied; the request that made it reports failure and never
 * retries it, so a counter may end higher than the writes a client saw succeed, never lower.
 * A late rejection of the underlying call is absorbed, never an unhandled rejection.
 */
export function withStoreTimeout(store: Store, ms: number, provider: string): Store {
  if (ms <= 0) return store;
  const bounded: Record<string, Method> = {};
  for (const name of PASSED) {
    const method = store[name] as Method | undefined;
    if (method) bounded[name] = (...args) => method.apply(store, args);
  }
  for (const name of BOUNDED) {
    const method = store[name] as Method | undefined;
    if (method) bounded[name] = (...args) => within(method.apply(store, args), ms, provider, name);
  }
  return bounded as unknown as Store;
}

/** within settles like `call`, or rejects with a timeout error once `ms` have passed without an answer. */
function within<T>(call: Promise<T>, ms: number, provider: string, method: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new SessionError('ERR_SESSION_STORE', `session/${provider}: ${method} timed out after ${ms} ms`));
    }, ms);
    call.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
