/**
 * The provider contract: the registered {@link Provider} opens a {@link Store}, which keeps opaque
 * records keyed by session id. Providers only move strings; the core codec writes the records and
 * the Session logic lives once, in `src/session.ts`.
 */

/** OpenOptions are what the Manager passes to {@link Provider.open}. */
export interface OpenOptions {
  /** maxLifetime is the idle timeout in milliseconds; stores without per-record expiry use it for gc. */
  maxLifetime: number;
  /** now returns the current epoch milliseconds; defaults to `Date.now`. Tests pass a fake clock. */
  now?: () => number;
  /** report sends a notice about the opened store (say, a missing capability) to the manager's `onError`. */
  report?: (error: Error) => void;
}

/**
 * Provider is the value registered under a name. It is stateless: `open` parses the provider's
 * config string and connects, failing with a `SessionError` (`ERR_SESSION_PROVIDER_CONFIG` for a
 * bad string, `ERR_SESSION_STORE` for an unreachable backend, `ERR_SESSION_MISSING_DEPENDENCY`
 * for a client library that is not installed).
 */
export interface Provider {
  open(config: string, options: OpenOptions): Promise<Store>;
}

/** BaseStore is what every store has: read, write and remove one record. */
export interface BaseStore {
  /** get returns the record, or `undefined` when it is missing or expired. It never creates one. */
  get(sid: string): Promise<string | undefined>;
  /** set creates or replaces the record and its expiry. */
  set(sid: string, record: string, expiresAt: number): Promise<void>;
  /** destroy removes the record; a missing sid is a no-op. Idempotent. */
  destroy(sid: string): Promise<void>;
}

/** AtomicStore can write conditionally; with it concurrent requests of one session lose no update. */
export interface AtomicStore {
  /**
   * compareAndSet writes `record` only if the stored record still equals `expected` exactly
   * (`undefined`: only if no live record exists) and tells whether it wrote. An expired record
   * counts as missing. This is how the Manager avoids lost updates; without it, last writer wins.
   */
  compareAndSet(sid: string, expected: string | undefined, record: string, expiresAt: number): Promise<boolean>;
}

/** TouchingStore can move a record's expiry without writing its data. */
export interface TouchingStore {
  /** touch moves the expiry of a live record to `expiresAt`; never changes data, never creates. */
  touch(sid: string, expiresAt: number): Promise<void>;
}

/** MovingStore can move a record to a new id in one step, for regenerate. */
export interface MovingStore {
  /**
   * regenerate moves the live record of `oldSid` to `newSid`, keeping its data and expiry, and
   * removes `oldSid`; atomic where the backend allows it. A missing `oldSid` is a no-op, so of two
   * concurrent regenerates of one id only one moves the record. A live record at `newSid` is never
   * overwritten: regenerate rejects with `ERR_SESSION_ID_TAKEN` (build it with `idTaken(provider)`
   * from `sessionkit`) and leaves both records as they were (an expired one counts as missing).
   * The Manager, seeing that code, tries another id; any other rejection is a store failure.
   */
  regenerate(oldSid: string, newSid: string): Promise<void>;
}

/** CountingStore can count its live sessions exactly. */
export interface CountingStore {
  /** count returns the exact number of live sessions of this store only (not the whole backend). */
  count(): Promise<number>;
}

/** ClearingStore can remove all of its sessions at once. */
export interface ClearingStore {
  /** clear removes every session of this store, and nothing else. */
  clear(): Promise<void>;
}

/** CollectingStore removes expired records itself; stores with native expiry need not. */
export interface CollectingStore {
  /** gc removes expired records; only stores whose backend has no native expiry need it. */
  gc(): Promise<void>;
}

/** IndexedStore keeps small sets of session ids per key beside the sessions. Its three methods come
 * together: a store with some but not all of them is refused when the Manager opens it. */
export interface IndexedStore {
  /**
   * indexAdd files `sid` under `key` until `expiresAt`; adding it again replaces that expiry. The
   * index is a small set of session ids per key, kept beside the sessions: the Manager files a
   * user's sessions under `user:<userId>` and a regenerated id under `moved:<oldSid>`. `key` is any
   * non-empty string up to 512 characters; a store whose backend limits key names hashes it.
   * Index entries are not sessions: `count` leaves them out, `clear` removes them.
   */
  indexAdd(key: string, sid: string, expiresAt: number): Promise<void>;
  /** indexRemove takes `sid` out of `key`; a missing entry is a no-op. */
  indexRemove(key: string, sid: string): Promise<void>;
  /**
   * indexList returns the ids filed under `key` whose entry has not expired, in any order, with
   * work proportional to the entries of that key only. The Manager checks each listed session
   * before trusting it, so an entry may outlive its session, but a live entry must never be missed.
   */
  indexList(key: string): Promise<string[]>;
}

/** ClosingStore has connections or timers to release. */
export interface ClosingStore {
  /**
   * close releases connections and timers. Idempotent. Every built-in store rejects any later call
   * with `ERR_SESSION_CLOSED`; a third-party store should do the same.
   */
  close(): Promise<void>;
}

/**
 * Store is one opened backend. Session ids reaching a store are already validated by the Manager;
 * a store that touches a file system or builds keys still validates them on its own.
 *
 * Expiry is enforced on read: `get` never returns a record whose `expiresAt` has passed, whether
 * or not a gc ran. `expiresAt` is always epoch milliseconds, and a record (or an index entry) is
 * expired from the instant `now >= expiresAt`: live means `expiresAt > now`. `now` is
 * `OpenOptions.now` when given; a store that reads `Date.now()` instead cannot be tested with a
 * fake clock. Writing with an `expiresAt` that is not in the future removes the record.
 */
export interface Store
  extends BaseStore,
    Partial<AtomicStore>,
    Partial<TouchingStore>,
    Partial<MovingStore>,
    Partial<CountingStore>,
    Partial<ClearingStore>,
    Partial<CollectingStore>,
    Partial<IndexedStore>,
    Partial<ClosingStore> {
  /**
   * inProcess marks a store that answers from this process's memory and never waits on I/O, so
   * none of its calls can stall: the Manager's `storeTimeout` leaves them unwrapped, since a bound
   * that can never fire would still cost every call a promise and two closures (2–3.6 k
   * instructions a call, measured with `bench/instructions.ts`). The memory provider sets it.
   */
  readonly inProcess?: boolean;
  /**
   * getNow is {@link BaseStore.get} answered synchronously, for a store that reads without waiting
   * on I/O (the memory provider): the Manager then loads a session in the request's own
   * turn, and the request goes on without waiting for a promise. Same contract as `get`, with a
   * failure thrown instead of rejected. The Manager's `storeTimeout` does not bound it.
   */
  getNow?(sid: string): string | undefined;
  /**
   * compareAndSetNow is {@link AtomicStore.compareAndSet} answered synchronously, for the same kind
   * of store: a request's usual save then completes in its own turn, and the response ends without
   * waiting for a promise. Same contract, a failure thrown; not bounded by `storeTimeout` either.
   */
  compareAndSetNow?(sid: string, expected: string | undefined, record: string, expiresAt: number): boolean;
}

/**
 * missingIndexMethods names the index methods a store lacks while having another (the three come
 * together), or returns an empty list for a store with all three or none.
 */
export function missingIndexMethods(store: Store): string[] {
  const methods = ['indexAdd', 'indexRemove', 'indexList'] as const;
  const missing = methods.filter((name) => typeof store[name] !== 'function');
  return missing.length === methods.length ? [] : missing;
}
