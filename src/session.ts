import { setTimeout as sleep } from 'node:timers/promises';
import { checkKey, checkValue, decode, encode, freshState, valueOf, type SessionState, type StoredFlash } from './codec.ts';
import { SessionError, storeError } from './errors.ts';
import { Flash } from './flash.ts';
import { applyOp, type Op } from './ops.ts';
import type { ResolvedOptions } from './options.ts';
import type { Store } from './provider.ts';
import { checkUserId, indexUntil, MOVED_GRACE_MS, movedKey, userKey } from './user-index.ts';

/**
 * RawStore is the per-request session interface of the macaron lineage: read and write values,
 * know the id, and release (persist) at the end of the request.
 */
export interface RawStore<T extends object = Record<string, unknown>> {
  readonly id: string;
  get<K extends keyof T & string>(key: K): T[K] | undefined;
  set<K extends keyof T & string>(key: K, value: T[K]): void;
  delete(key: keyof T & string): void;
  has(key: keyof T & string): boolean;
  keys(): (keyof T & string)[];
  flush(): void;
  release(): Promise<void>;
}

/** SessionCore is what a Session needs from its Manager. */
export interface SessionCore {
  readonly store: Store;
  readonly options: ResolvedOptions;
  readonly providerName: string;
  newId(): string;
  /** report sends a non-fatal problem to `onError`. */
  report(error: Error): void;
}

/** SessionInit is how the Manager hands a loaded or new session over. */
export interface SessionInit {
  id: string;
  /** record is the stored record as read, undefined for a new session. */
  record: string | undefined;
  state: SessionState;
  /** clientId is the valid id the client sent, if any; clientHadCookie tells whether it sent anything. */
  clientId: string | undefined;
  clientHadCookie: boolean;
  /** resign asks for the cookie to be written again (signed by an older secret). */
  resign: boolean;
  /** staleIds are ids whose records must go (corrupt, past the absolute lifetime); the Session takes the array over. */
  staleIds: string[];
  /** detached sessions (outage policy "continue") never touch the store. */
  detached: boolean;
}

/** MAX_HOPS bounds how many regenerations in a row one save follows. */
const MAX_HOPS = 4;
/** MAX_ID_ATTEMPTS bounds how many fresh ids one regenerate tries when an id is already in use. */
const MAX_ID_ATTEMPTS = 3;

/** CookieDecision says what the response should carry for this session. */
export type CookieDecision = { action: 'none' } | { action: 'set'; id: string } | { action: 'clear' };

/**
 * Session is the per-request view of one session, written once for every provider and adapter.
 * It records what the handler does as operations; {@link Session.release} replays them onto the
 * freshest stored record through `compareAndSet`, so concurrent requests of one session do not
 * lose each other's writes, and a destroyed session is never resurrected. A request that never
 * writes stores nothing and sets no cookie.
 */
export class Session<T extends object = Record<string, unknown>> implements RawStore<T> {
  #flash: Flash | undefined;
  readonly #core: SessionCore;
  #id: string;
  #record: string | undefined;
  #state: SessionState;
  #ops: Op[] = [];
  #clientId: string | undefined;
  readonly #clientHadCookie: boolean;
  #resign: boolean;
  #staleIds: string[];
  #destroyed = false;
  #refreshed = false;
  /** #forwarded is set when this request's save followed its session to an id regenerated meanwhile. */
  #forwarded = false;
  readonly #detached: boolean;
  /** #releasing is the latest release, which the next release, destroy and regenerate wait for. */
  #releasing: Promise<void> | undefined;

  constructor(core: SessionCore, init: SessionInit) {
    this.#core = core;
    this.#id = init.id;
    this.#record = init.record;
    this.#state = init.state;
    this.#clientId = init.clientId;
    this.#clientHadCookie = init.clientHadCookie;
    this.#resign = init.resign;
    this.#staleIds = init.staleIds;
    this.#detached = init.detached;
  }

  /** flash holds the leveled messages (success, error, info, warning) for templates. */
  get flash(): Flash {
    // Made on first use: most requests never touch the flash.
    return (this.#flash ??= new Flash({
      pendingFlashes: () => this.#state.flashes,
      addFlash: (message: StoredFlash) => this.#apply({ kind: 'flash', message }),
      consumeFlashes: (ids) => this.#apply({ kind: 'consumeFlashes', ids }),
    }));
  }

  /** id is the session id; it changes on regenerate and on destroy. */
  get id(): string {
    return this.#id;
  }

  /** isNew tells whether the session has no stored record yet. */
  get isNew(): boolean {
    return this.#record === undefined;
  }

  /** userId is the user bound with {@link Session.bindUser}, if any. */
  get userId(): string | undefined {
    return this.#state.user;
  }

  /** createdAt is the epoch ms at which the session was first created. */
  get createdAt(): number {
    return this.#state.created;
  }

  /** get returns the value stored under `key`, or undefined. */
  get<K extends keyof T & string>(key: K): T[K] | undefined {
    return valueOf(this.#state.data, key) as T[K] | undefined;
  }

  /** set stores `value` under `key`. Values are JSON data; anything else throws `ERR_SESSION_INVALID_VALUE`. */
  set<K extends keyof T & string>(key: K, value: T[K]): void {
    checkKey(key);
    checkValue(value, key);
    this.#apply({ kind: 'set', key, value });
  }

  /** delete removes `key`; a missing key is a no-op. */
  delete(key: keyof T & string): void {
    if (Object.hasOwn(this.#state.data, key)) this.#apply({ kind: 'delete', key });
  }

  /** has tells whether `key` holds a value. */
  has(key: keyof T & string): boolean {
    return Object.hasOwn(this.#state.data, key);
  }

  /** keys returns the keys that hold values. */
  keys(): (keyof T & string)[] {
    return Object.keys(this.#state.data) as (keyof T & string)[];
  }

  /** flush removes every value; the emptied session is persisted on release. */
  flush(): void {
    this.#apply({ kind: 'flush' });
  }

  /** getString returns the value of `key` if it is a string, else `fallback` (default ''). */
  getString(key: keyof T & string, fallback = ''): string {
    const value = valueOf(this.#state.data, key);
    return typeof value === 'string' ? value : fallback;
  }

  /** getNumber returns the value of `key` if it is a finite number or numeric string, else `fallback` (default 0). */
  getNumber(key: keyof T & string, fallback = 0): number {
    const value = valueOf(this.#state.data, key);
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    return typeof n === 'number' && Number.isFinite(n) ? n : fallback;
  }

  /** getBoolean returns the value of `key` if it is a boolean or "true"/"false", else `fallback` (default false). */
  getBoolean(key: keyof T & string, fallback = false): boolean {
    const value = valueOf(this.#state.data, key);
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    return fallback;
  }

  /**
   * increment adds `by` (default 1) to the number under `key` (a missing or non-number value
   * counts as 0) and returns the result. Concurrent increments of one session all count.
   */
  increment(key: keyof T & string, by = 1): number {
    checkKey(key);
    if (!Number.isFinite(by)) throw new SessionError('ERR_SESSION_INVALID_VALUE', `session: increment of ${key} by ${by}`);
    this.#apply({ kind: 'increment', key, by });
    return valueOf(this.#state.data, key) as number;
  }

  /** decrement subtracts `by` (default 1); see {@link Session.increment}. */
  decrement(key: keyof T & string, by = 1): number {
    return this.increment(key, -by);
  }

  /** setFlash stores any JSON value under `key` until a request reads it with {@link Session.getFlash}. */
  setFlash(key: string, value: unknown): void {
    checkKey(key);
    checkValue(value, `flash ${key}`);
    this.#apply({ kind: 'setFlash', key, value });
  }

  /** getFlash returns the flash value under `key` and removes it, so it is seen once. */
  getFlash(key: string): unknown {
    if (!Object.hasOwn(this.#state.keyed, key)) return undefined;
    const value = this.#state.keyed[key];
    this.#apply({ kind: 'consumeFlash', key });
    return value;
  }

  /** peekFlash returns the flash value under `key` without removing it. */
  peekFlash(key: string): unknown {
    return valueOf(this.#state.keyed, key);
  }

  /** hasFlash tells whether a flash value is waiting under `key`. */
  hasFlash(key: string): boolean {
    return Object.hasOwn(this.#state.keyed, key);
  }

  /**
   * bindUser records the user this session belongs to, so the manager can list or destroy all of
   * one user's sessions. Regenerate the id when a user logs in; binding does not do it for you.
   */
  bindUser(userId: string): void {
    checkUserId(userId);
    this.#apply({ kind: 'bindUser', user: userId });
  }

  /**
   * regenerate gives the session a new id and keeps its data; the old id stops working at once
   * and the cookie is re-issued. Call it after login and after any privilege change. Where the
   * store has an index, the old id forwards for a short grace to the new one, but only for the
   * saves of requests that had loaded the session before: a new request with the old id gets a
   * fresh session, and a forwarded request never sends the new id to its client.
   */
  async regenerate(): Promise<void> {
    await this.#releasing;
    const oldId = this.#id;
    let newId = this.#core.newId();
    if (this.#record !== undefined && !this.#detached) {
      // A fresh id that is already in use is never written over: the session moves to another one.
      for (let attempt = 1; !(await this.#moveTo(oldId, newId)); attempt++) {
        if (attempt >= MAX_ID_ATTEMPTS) {
          throw new SessionError('ERR_SESSION_STORE', `session/${this.#core.providerName}: regenerate found ${attempt} new ids already in use`);
        }
        newId = this.#core.newId();
      }
    }
    this.#id = newId;
  }

  /**
   * #moveTo moves the stored session from `oldId` to `newId`, with its forward and its user's
   * index entry. It returns false, having moved nothing, when `newId` turns out to hold a session.
   */
  async #moveTo(oldId: string, newId: string): Promise<boolean> {
    const { store, options, providerName } = this.#core;
    const user = this.#state.user;
    try {
      // The forward goes first: a save that misses the old record must find where it went.
      await store.indexAdd?.(movedKey(oldId), newId, options.now() + MOVED_GRACE_MS);
      if (store.regenerate) {
        await store.regenerate(oldId, newId);
      } else {
        const record = await store.get(oldId);
        if (record !== undefined) {
          const expiresAt = this.#expiresAt(this.#state, options.now());
          if (!store.compareAndSet) await store.set(newId, record, expiresAt);
          else if (!(await store.compareAndSet(newId, undefined, record, expiresAt))) throw new Error('the new session id already exists');
        }
        await store.destroy(oldId);
      }
      if (user !== undefined && store.indexAdd && store.indexRemove) {
        const until = this.#state.indexedUntil ?? this.#expiresAt(this.#state, options.now());
        await store.indexAdd(userKey(user), newId, until);
        await store.indexRemove(userKey(user), oldId);
      }
      return true;
    } catch (error) {
      if (await this.#collided(oldId, newId)) return false;
      throw storeError(providerName, 'regenerate', error);
    }
  }

  /**
   * #collided tells whether a failed move failed because `newId` was taken: the session is still
   * at `oldId` and another one lives at `newId`. The forward to `newId` is withdrawn then, so no
   * racing save is ever sent into that other session.
   */
  async #collided(oldId: string, newId: string): Promise<boolean> {
    const { store } = this.#core;
    try {
      if ((await store.get(oldId)) === undefined || (await store.get(newId)) === undefined) return false;
      await store.indexRemove?.(movedKey(oldId), newId);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * destroy removes the stored session and expires the cookie. The session then reads as empty;
   * values set afterwards (a "logged out" flash) start a new session with a new id. If the store
   * call fails, destroy rejects, and release retries it.
   */
  async destroy(): Promise<void> {
    await this.#releasing;
    const oldId = this.#id;
    const existed = this.#record !== undefined;
    const user = this.#state.user;
    this.#id = this.#core.newId();
    this.#record = undefined;
    this.#state = freshState(this.#core.options.now());
    this.#ops = [];
    this.#destroyed = true;
    if (existed) {
      this.#staleIds.push(oldId);
      await this.#destroyStale();
      if (user !== undefined) await this.#unfileUser(user, oldId);
    }
  }

  /**
   * release persists what this request changed (beego's SessionRelease) and is safe to call more
   * than once. An unchanged session costs no write, except a throttled expiry refresh.
   */
  release(): Promise<void> {
    const next = this.#releasing === undefined ? this.#release() : this.#releasing.then(() => this.#release());
    this.#releasing = next.catch(() => undefined);
    return next;
  }

  /**
   * cookieDecision tells what the response must carry: a cookie with the current id when the
   * client does not have it yet (or it must be re-signed or rolled), a clearing cookie after a
   * destroy that left nothing, or nothing. It is decided from the session's state, so headers can
   * be written before the save completes.
   */
  cookieDecision(): CookieDecision {
    if (this.#detached || this.#forwarded) return { action: 'none' };
    const willExist = this.#record !== undefined || this.#ops.length > 0;
    if (!willExist) return this.#destroyed && this.#clientHadCookie ? { action: 'clear' } : { action: 'none' };
    const rolling = this.#core.options.cookieMaxAgeMs > 0 && (this.#ops.length > 0 || this.#refreshDue());
    if (this.#id !== this.#clientId || this.#resign || rolling) return { action: 'set', id: this.#id };
    return { action: 'none' };
  }

  /** markDelivered records that the client now has the current id, so it is not sent twice. */
  markDelivered(): void {
    this.#clientId = this.#id;
    this.#resign = false;
  }

  #apply(op: Op): void {
    applyOp(this.#state, op);
    this.#ops.push(op);
  }

  async #release(): Promise<void> {
    if (this.#detached) return;
    if (this.#staleIds.length > 0) await this.#destroyStale();
    if (this.#ops.length > 0) await this.#persist();
    else if (this.#refreshDue()) await this.#refresh();
  }

  async #destroyStale(): Promise<void> {
    const { store, options, providerName } = this.#core;
    while (this.#staleIds.length > 0) {
      const sid = this.#staleIds[0]!;
      try {
        await store.destroy(sid);
      } catch (error) {
        throw storeError(providerName, 'destroy', error);
      }
      this.#staleIds.shift();
      options.onDestroy?.(sid);
    }
  }

  #expiresAt(state: SessionState, now: number): number {
    const { maxLifetimeMs, absoluteLifetimeMs } = this.#core.options;
    const idle = now + maxLifetimeMs;
    return absoluteLifetimeMs === undefined ? idle : Math.min(idle, state.created + absoluteLifetimeMs);
  }

  /**
   * #fileUser files the session in its user's index before a write that moves its expiry past
   * the entry's, with room to spare: a session that stays active is re-filed about once per
   * `maxLifetime`, not on every write. Callers skip it for a session bound to no user, the usual
   * case, to spare the request an await.
   */
  async #fileUser(sid: string, state: SessionState, expiresAt: number): Promise<void> {
    const { store, providerName } = this.#core;
    if (state.user === undefined || !store.indexAdd || (state.indexedUntil ?? 0) >= expiresAt) return;
    const until = indexUntil(this.#core, state.created, expiresAt);
    try {
      await store.indexAdd(userKey(state.user), sid, until);
    } catch (error) {
      throw storeError(providerName, 'indexAdd', error);
    }
    state.indexedUntil = until;
  }

  /** #unfileUser takes a destroyed session out of its user's index; a failure only leaves an entry the listing skips. */
  async #unfileUser(user: string, sid: string): Promise<void> {
    const { store, providerName } = this.#core;
    try {
      await store.indexRemove?.(userKey(user), sid);
    } catch (error) {
      this.#core.report(storeError(providerName, 'indexRemove', error));
    }
  }

  #refreshDue(): boolean {
    return this.#record !== undefined && !this.#refreshed && this.#core.options.now() - this.#state.touched >= this.#core.options.touchIntervalMs;
  }

  /** #refresh moves the idle expiry of an unchanged session forward, at most once per touchInterval. */
  async #refresh(): Promise<void> {
    const { store, options, providerName } = this.#core;
    const now = options.now();
    const state = { ...this.#state, touched: now };
    const expiresAt = this.#expiresAt(state, now);
    this.#refreshed = true;
    if (state.user !== undefined) await this.#fileUser(this.#id, state, expiresAt);
    try {
      if (store.compareAndSet) {
        // Rewriting the record with the new time keeps the throttle honest for the next request;
        // if another request changed the session meanwhile, its write already moved the expiry.
        const record = encode(state, options.maxRecordSize);
        if (await store.compareAndSet(this.#id, this.#record, record, expiresAt)) {
          this.#record = record;
          this.#state = state;
        }
      } else if (store.touch) {
        await store.touch(this.#id, expiresAt);
      } else {
        await store.set(this.#id, this.#record!, expiresAt);
      }
    } catch (error) {
      throw storeError(providerName, 'refresh', error);
    }
  }

  /**
   * #persist replays this request's operations onto the stored record. The first attempt uses the
   * record read at the start of the request, so an uncontended write costs one conditional write.
   */
  async #persist(): Promise<void> {
    const { store, options, providerName } = this.#core;
    const ops = this.#ops;
    let base = this.#record;
    const existed = base !== undefined;
    let state = this.#state;
    let hops = 0;
    for (let attempt = 0; ; attempt++) {
      const now = options.now();
      if (attempt > 0) {
        try {
          base = await store.get(this.#id);
        } catch (error) {
          throw storeError(providerName, 'get', error);
        }
        if (base === undefined && existed) {
          const movedTo = hops < MAX_HOPS ? await this.#movedTo(this.#id) : undefined;
          if (movedTo !== undefined) {
            // Regenerated by another request meanwhile: land these writes under the new id.
            this.#id = movedTo;
            this.#forwarded = true;
            hops++;
            attempt--;
            continue;
          }
          // Destroyed (or expired) by another request meanwhile: its destroy wins.
          this.#ops = [];
          return;
        }
        state = this.#rebase(base, now);
        for (const op of ops) applyOp(state, op);
      }
      state.touched = now;
      const expiresAt = this.#expiresAt(state, now);
      if (state.user !== undefined) await this.#fileUser(this.#id, state, expiresAt);
      const record = encode(state, options.maxRecordSize);
      let written: boolean;
      try {
        if (store.compareAndSet) {
          written = await store.compareAndSet(this.#id, base, record, expiresAt);
        } else {
          await store.set(this.#id, record, expiresAt);
          written = true;
        }
      } catch (error) {
        throw storeError(providerName, 'save', error);
      }
      if (written) {
        this.#record = record;
        this.#state = state;
        this.#ops = [];
        return;
      }
      if (!existed) {
        // A new id that is already taken: never write into someone else's session.
        this.#id = this.#core.newId();
        if (attempt < options.maxRetries) continue;
      }
      if (attempt >= options.maxRetries) {
        throw new SessionError('ERR_SESSION_CONTENDED', `session: save gave up after ${attempt + 1} conflicting attempts (maxRetries)`);
      }
      // Jittered backoff spreads the retries of requests that keep colliding.
      await sleep(Math.random() * Math.min(50, 2 ** Math.min(attempt, 6)));
    }
  }

  /** #movedTo returns the id `sid` was regenerated to within the grace, if the store keeps an index. */
  async #movedTo(sid: string): Promise<string | undefined> {
    const { store, providerName } = this.#core;
    if (!store.indexList) return undefined;
    try {
      return (await store.indexList(movedKey(sid)))[0];
    } catch (error) {
      throw storeError(providerName, 'indexList', error);
    }
  }

  #rebase(base: string | undefined, now: number): SessionState {
    if (base === undefined) return freshState(now);
    try {
      return decode(base);
    } catch (error) {
      this.#core.report(error as Error);
      return freshState(now);
    }
  }
}
