import type { IncomingMessage } from 'node:http';
import { inspect, type InspectOptionsStylized } from 'node:util';
import { settle, type Callback } from './callback.ts';
import { checkKey, checkValue, freshState, valueOf, type SessionState, type StoredFlash } from './codec.ts';
import { idTaken, isSessionError, SessionError, storeError } from './errors.ts';
import { Flash } from './flash.ts';
import { KeyedFlashes, UNKEYED } from './keyed-flash.ts';
import { applyOp, type Op } from './ops.ts';
import type { ResolvedOptions } from './options.ts';
import type { Store } from './provider.ts';
import { expiresAt, persistFirst, persistNow, rebase, refresh, type Saved, type SaveTarget } from './save.ts';
import { SessionCookie } from './session-cookie.ts';
import { propertyView } from './session-view.ts';
import { checkUserId, MOVED_GRACE_MS, movedKey, userKey } from './user-index.ts';

/**
 * SessionApi is the per-request session interface of the macaron lineage (macaron calls it
 * RawStore): read and write values, know the id, and release (persist) at the end of the request.
 */
export interface SessionApi<T extends object = Record<string, unknown>> {
  readonly id: string;
  get<K extends keyof T & string>(key: K): T[K] | undefined;
  set<K extends keyof T & string>(key: K, value: T[K] | undefined): void;
  delete(key: keyof T & string): boolean;
  has(key: keyof T & string): boolean;
  keys(): (keyof T & string)[];
  flush(): void;
  release(): Promise<void>;
}

/** RawStore is macaron's name for {@link SessionApi}, kept for code ported from it. */
export type RawStore<T extends object = Record<string, unknown>> = SessionApi<T>;

/** SessionCore is what a Session needs from its Manager. */
export interface SessionCore {
  readonly store: Store;
  readonly options: ResolvedOptions;
  readonly providerName: string;
  /** newId returns a fresh id, from the configured generator when there is one. */
  newId(req?: IncomingMessage): string;
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
  /** request is the request the session belongs to, handed to a custom id generator. */
  request?: IncomingMessage;
}

/** MAX_ID_ATTEMPTS bounds how many fresh ids one regenerate tries when an id is already in use. */
const MAX_ID_ATTEMPTS = 3;

/** CookieDecision says what the response should carry for this session. */
export type CookieDecision = { readonly action: 'none' } | { action: 'set'; id: string; maxAgeMs: number } | { readonly action: 'clear' };

/** The decisions without data, made once: most responses carry no cookie. */
const NO_COOKIE: CookieDecision = Object.freeze({ action: 'none' });
const CLEAR_COOKIE: CookieDecision = Object.freeze({ action: 'clear' });

/** SELF reaches the Session behind its property view, for the adapters and the save path. */
export const SELF = Symbol('sessionkit.session');
/** CARRIED is the adapters' name for {@link Session.[CARRIED]}; a symbol, so no data key is taken. */
export const CARRIED = Symbol('sessionkit.carried');
/** RELEASE_IF_NEEDED is the adapters' name for {@link Session.[RELEASE_IF_NEEDED]}. */
export const RELEASE_IF_NEEDED = Symbol('sessionkit.releaseIfNeeded');

/** NOTHING_TO_SAVE is what release returns when it has nothing to write: one settled promise serves every such call. */
const NOTHING_TO_SAVE: Promise<void> = Promise.resolve();

/** snapshot is the JSON of a value handed out to the application, to tell later whether it changed. */
function snapshot(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined; // not JSON any more (a BigInt, a cycle): it will be checked, and refused, on release
  }
}

/**
 * Session is the per-request view of one session, written once for every provider and adapter.
 * It records what the handler does as operations; {@link Session.release} replays them onto the
 * freshest stored record through `compareAndSet`, so concurrent requests of one session do not
 * lose each other's writes, and a destroyed session is never resurrected. A request that never
 * writes stores nothing and sets no cookie.
 *
 * Data is reachable two ways, which mix freely: the `get`/`set` API, and plain properties
 * (`session.views = 1`, `delete session.cart`) for the libraries written for express-session.
 * Objects stay live until the request saves: a value passed to `set`, or an object read with `get`
 * or as a property, is stored as it is at release, and a change made to it in place counts as a
 * write of its top-level key. What is stored is checked then, whichever way it got there.
 */
export class Session<T extends object = Record<string, unknown>> implements SessionApi<T> {
  /** Any other name is a data key of the property view. */
  [key: string]: unknown;

  #flash: Flash | undefined;
  #cookie: SessionCookie | undefined;
  readonly #core: SessionCore;
  #id: string;
  #record: string | undefined;
  #state: SessionState;
  #ops: Op[] = [];
  /** #handedOut maps each key whose object the application got hold of to that object's JSON then. */
  #handedOut: Map<string, string | undefined> | undefined;
  #keyedFlashes: KeyedFlashes | undefined;
  #clientId: string | undefined;
  /** #clientHasCookie tells whether the client holds a session cookie, valid or not, that a destroy must clear. */
  #clientHasCookie: boolean;
  /** #carried tells whether the request came with this session live in the store. */
  readonly #carried: boolean;
  #resign: boolean;
  #staleIds: string[];
  #destroyed = false;
  #refreshed = false;
  /** #rolled is set when a save or refresh moved the expiry since the cookie was last sent, so a persistent cookie goes out again. */
  #rolled = false;
  /** #lifetimeChanged is set when this request gave the session its own lifetime or took it away, which changes its cookie's Max-Age. */
  #lifetimeChanged = false;
  #touchAsked = false;
  /** #unstored is set when saving a session that was never stored failed, so it gets no cookie. */
  #unstored = false;
  /** #forwarded is set when this request's save followed its session to an id regenerated meanwhile. */
  #forwarded = false;
  readonly #detached: boolean;
  /** #request is the request, kept only for a configured `idGenerator`, the one reader of it. */
  readonly #request: IncomingMessage | undefined;
  /** #releasing is the latest release, which the next release, destroy and regenerate wait for. */
  #releasing: Promise<void> | undefined;
  /** #releasesRunning counts the releases not finished yet. */
  #releasesRunning = 0;

  constructor(core: SessionCore, init: SessionInit) {
    this.#core = core;
    this.#id = init.id;
    this.#record = init.record;
    this.#state = init.state;
    this.#clientId = init.clientId;
    this.#clientHasCookie = init.clientHadCookie;
    this.#carried = init.record !== undefined;
    this.#resign = init.resign;
    this.#staleIds = init.staleIds;
    this.#detached = init.detached;
    // Holding the request makes a cycle through the adapters' WeakMaps (request or response →
    // session → request), and V8's young-generation collector keeps a WeakMap's values alive: the
    // whole request then lived on into the old generation. Measured on Express memory `ro`
    // (bench/README.md): 705 k → 665 k instructions a request, 13.6 → 9.4 KB a request surviving a scavenge.
    this.#request = core.options.idGenerator === undefined ? undefined : init.request;
    if (init.record === undefined && !init.detached && core.options.saveUninitialized) this.#apply({ kind: 'create' });
    // The constructor hands out the property view, so every holder of a session can use both styles.
    return propertyView(this, core.options.flashProperty);
  }

  /** [SELF] is this Session, also when reached through its property view. */
  get [SELF](): Session<T> {
    return this;
  }

  /**
   * [inspect.custom] is what `console.log(session)` and `util.inspect` show: "Session" and its data,
   * as express-session shows its sessions, but never the id, which would put a live credential in
   * logs. Node looks past the property view to the Session, so without this a session would always
   * look empty; it calls this on the view, hence `this[SELF]`.
   */
  [inspect.custom](depth: number, options: InspectOptionsStylized, show: typeof inspect): string {
    if (depth < 0) return options.stylize('[Session]', 'special');
    const data = this[SELF].#state.data;
    // `depth` is what is left at this level: the data shows as deep as the session's own properties would.
    return `Session ${show(data, { ...options, depth })}`;
  }

  /**
   * flash holds the leveled messages (success, error, info, warning) for templates. On the
   * property view it can live under another name (the `flashProperty` option).
   */
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

  /** sessionId is {@link Session.id}, by @fastify/session's name. */
  get sessionId(): string {
    return this.#id;
  }

  /** isNew tells whether the session has no stored record yet. */
  get isNew(): boolean {
    return this.#record === undefined;
  }

  /** populated tells whether the session holds any value (koa-session's name). */
  get populated(): boolean {
    return this.len() > 0;
  }

  /** [CARRIED] tells whether the request came with a live session, so its response is private to that client. */
  get [CARRIED](): boolean {
    return this.#carried;
  }

  /**
   * boundUserId is the user bound with {@link Session.bindUser}, if any. (`userId` is left free as
   * a data key: it is the name apps most often store their user under.)
   */
  get boundUserId(): string | undefined {
    return this.#state.user;
  }

  /** createdAt is the epoch ms at which the session was first created. */
  get createdAt(): number {
    return this.#state.created;
  }

  /**
   * lifetime is this session's own idle lifetime in seconds, set by {@link Session.updateExpiration}
   * or `cookie.maxAge`; undefined while the manager's `maxLifetime` applies.
   */
  get lifetime(): number | undefined {
    const ms = this.#state.lifetime;
    return ms === undefined ? undefined : ms / 1000;
  }

  /**
   * cookie is the session cookie as express-session shows it; setting `cookie.maxAge` (ms) is
   * "remember me": this session alone gets a persistent cookie and an idle lifetime that long.
   */
  get cookie(): SessionCookie {
    return (this.#cookie ??= new SessionCookie({
      cookieMaxAgeMs: () => this.#cookieMaxAgeMs(),
      expiresAt: () => expiresAt(this.#core, this.#state, this.#ops.length > 0 ? this.#core.options.now() : this.#state.touched),
      now: () => this.#core.options.now(),
      setLifetime: (ms) => {
        this.#apply({ kind: 'lifetime', ms });
        this.#lifetimeChanged = true;
      },
      attributes: this.#core.options.cookie,
    }));
  }

  /** maxAge is koa-session's view of the cookie's lifetime: ms, or "session" for a browser-session cookie. */
  get maxAge(): number | 'session' {
    return this.#cookieMaxAgeMs() || 'session';
  }

  set maxAge(value: number | 'session') {
    this.cookie.maxAge = value === 'session' ? null : value;
  }

  /**
   * updateExpiration gives this session its own idle lifetime of `seconds` (iris's
   * UpdateExpiration; "remember me") and a persistent cookie of that length; `undefined` returns
   * it to the manager's `maxLifetime` and cookie. The absolute lifetime still caps it.
   */
  updateExpiration(seconds: number | undefined): void {
    this.cookie.maxAge = seconds === undefined ? null : seconds * 1000;
  }

  /** get returns the value stored under `key`, or undefined. An object returned is live until the request saves. */
  get<K extends keyof T & string>(key: K): T[K] | undefined {
    const value = valueOf(this.#state.data, key);
    if (typeof value === 'object' && value !== null && !this.#handedOut?.has(key)) {
      (this.#handedOut ??= new Map()).set(key, snapshot(value));
    }
    return value as T[K] | undefined;
  }

  /**
   * set stores `value` under `key`; `undefined` deletes the key, as @fastify/session does. Values
   * are JSON data; anything else throws `ERR_SESSION_INVALID_VALUE` naming the bad part.
   */
  set<K extends keyof T & string>(key: K, value: T[K] | undefined): void {
    if (value === undefined) {
      this.delete(key);
      return;
    }
    checkKey(key);
    checkValue(value, key);
    this.#apply({ kind: 'set', key, value });
  }

  /** delete removes `key` and tells whether it held a value; a missing key is a no-op. */
  delete(key: keyof T & string): boolean {
    if (!Object.hasOwn(this.#state.data, key)) return false;
    this.#apply({ kind: 'delete', key });
    return true;
  }

  /** has tells whether `key` holds a value. */
  has(key: keyof T & string): boolean {
    return Object.hasOwn(this.#state.data, key);
  }

  /** keys returns the keys that hold values. */
  keys(): (keyof T & string)[] {
    return Object.keys(this.#state.data) as (keyof T & string)[];
  }

  /** getAll returns a shallow copy of every value, by key (iris's GetAll); objects in it are live, as with `get`. */
  getAll(): Partial<T> {
    const all: Record<string, unknown> = {};
    for (const key of this.keys()) all[key] = this.get(key);
    return all as Partial<T>;
  }

  /** len returns how many keys hold values (iris's Len). */
  len(): number {
    return this.keys().length;
  }

  /** flush removes every value; the emptied session is persisted on release. */
  flush(): void {
    this.#apply({ kind: 'flush' });
  }

  /**
   * getString returns the value of `key` as a string: a string as it is, a number or boolean in
   * its usual text (iris's GetString), anything else or nothing as `fallback` (default '').
   */
  getString(key: keyof T & string, fallback = ''): string {
    return textOf(valueOf(this.#state.data, key), fallback);
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

  /** decrement subtracts `by` (default 1), counting a missing key as 0, so it gives `-by`; see {@link Session.increment}. */
  decrement(key: keyof T & string, by = 1): number {
    return this.increment(key, -by);
  }

  /**
   * setFlash stores a flash value, any JSON, until a request reads it: under `key` (iris), or,
   * given only a value, as the session's one unkeyed flash (flamego's `SetFlash(value)`), which
   * `getFlash()` without a key returns.
   */
  setFlash(key: string, value: unknown): void;
  setFlash(value: unknown): void;
  setFlash(...args: [string, unknown] | [unknown]): void {
    if (args.length === 1) this.#keyed.set(UNKEYED, args[0]);
    else this.#keyed.set(args[0], args[1]);
  }

  /**
   * getFlash returns the flash value under `key` (or the unkeyed flash) and removes it from the
   * session, so later requests do not see it; it stays readable until this request ends.
   */
  getFlash(key: string = UNKEYED): unknown {
    return this.#keyed.get(key);
  }

  /** getFlashString is {@link Session.getFlash} as a string (see {@link Session.getString}), `fallback` when absent (iris's GetFlashStringDefault). */
  getFlashString(key: string, fallback = ''): string {
    return textOf(this.getFlash(key), fallback);
  }

  /** getFlashes returns every keyed flash by key and removes them all, as {@link Session.getFlash} does each. */
  getFlashes(): Record<string, unknown> {
    return this.#keyed.getAll();
  }

  /** peekFlash returns the flash value under `key` (or the unkeyed flash) without removing it. */
  peekFlash(key: string = UNKEYED): unknown {
    return this.#keyed.peek(key);
  }

  /** hasFlash tells whether a flash value is waiting under `key`, or, without a key, whether any keyed or unkeyed flash is. */
  hasFlash(key?: string): boolean {
    return this.#keyed.has(key);
  }

  /** deleteFlash removes the flash value under `key` (or the unkeyed flash) unread. */
  deleteFlash(key: string = UNKEYED): void {
    this.#keyed.delete(key);
  }

  /** clearFlashes removes every flash, keyed and leveled, unread. */
  clearFlashes(): void {
    this.#keyed.clear();
    if (this.#state.flashes.length > 0) this.#apply({ kind: 'consumeFlashes', ids: new Set(this.#state.flashes.map((m) => m.id)) });
  }

  /** #keyed holds the keyed flashes, made on first use, and again once a destroy or reload replaced the state. */
  get #keyed(): KeyedFlashes {
    return (this.#keyedFlashes ??= new KeyedFlashes({
      waiting: () => this.#state.keyedFlashes,
      store: (key, value) => this.#apply({ kind: 'setFlash', key, value }),
      consume: (key) => this.#apply({ kind: 'consumeFlash', key }),
    }));
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
   * regenerate gives the session a new id; the old id stops working at once and the cookie is
   * re-issued. Call it after login and after any privilege change.
   *
   * Without `keep` the data stays (the lineage's regenerate): where the store has an index, the
   * old id forwards for a short grace to the new one, but only for the saves of requests that had
   * loaded the session before; a new request with the old id gets a fresh session. With `keep`
   * (@fastify/session's `regenerate(keysToKeep)`) the old session is destroyed and the new one
   * starts with only those keys. The session's own lifetime ("remember me") is kept either way.
   * With a `callback` it is called once, error first; without, a promise is returned.
   */
  regenerate(): Promise<void>;
  regenerate(keep: readonly string[]): Promise<void>;
  regenerate(callback: Callback): void;
  regenerate(keep: readonly string[], callback: Callback): void;
  regenerate(keepOrCallback?: readonly string[] | Callback, callback?: Callback): Promise<void> | void {
    if (typeof keepOrCallback === 'function') return settle(this.#regenerate(undefined), keepOrCallback);
    return settle(this.#regenerate(keepOrCallback), callback);
  }

  async #regenerate(keep: readonly string[] | undefined): Promise<void> {
    if (keep !== undefined) return this.#renew(keep);
    await this.#releasing;
    const oldId = this.#id;
    let newId = this.#core.newId(this.#request);
    if (this.#record !== undefined && !this.#detached) {
      // A fresh id that is already in use is never written over: the session moves to another one.
      for (let attempt = 1; !(await this.#moveTo(oldId, newId)); attempt++) {
        if (attempt >= MAX_ID_ATTEMPTS) {
          throw new SessionError('ERR_SESSION_ID_TAKEN', `session/${this.#core.providerName}: regenerate found ${attempt} new ids already in use`);
        }
        newId = this.#core.newId(this.#request);
      }
    }
    this.#id = newId;
  }

  /** #renew ends this session and starts a new one that holds only the `keep` keys and the session's own lifetime. */
  async #renew(keep: readonly string[]): Promise<void> {
    const kept = keep.filter((key) => this.has(key as keyof T & string)).map((key) => [key, this.#state.data[key]] as const);
    const lifetime = this.#state.lifetime;
    await this.#destroy();
    for (const [key, value] of kept) this.set(key as keyof T & string, value as T[keyof T & string]);
    if (lifetime !== undefined) this.#apply({ kind: 'lifetime', ms: lifetime });
  }

  /**
   * #moveTo moves the stored session from `oldId` to `newId`, with its forward and its user's
   * index entry. It returns false, having moved nothing, when `newId` turns out to hold a session
   * (the store rejects with `ERR_SESSION_ID_TAKEN`).
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
          const expiry = expiresAt(this.#core, this.#state, options.now());
          if (!store.compareAndSet) await store.set(newId, record, expiry);
          else if (!(await store.compareAndSet(newId, undefined, record, expiry))) throw idTaken(providerName);
        }
        await store.destroy(oldId);
      }
      if (user !== undefined && store.indexAdd && store.indexRemove) {
        const until = this.#state.indexedUntil ?? expiresAt(this.#core, this.#state, options.now());
        await store.indexAdd(userKey(user), newId, until);
        await store.indexRemove(userKey(user), oldId);
      }
      return true;
    } catch (error) {
      if (!isSessionError(error, 'ERR_SESSION_ID_TAKEN')) throw storeError(providerName, 'regenerate', error);
      // Both records are as they were; withdraw the forward so no racing save lands in the other session.
      await store.indexRemove?.(movedKey(oldId), newId);
      return false;
    }
  }

  /**
   * destroy removes the stored session and expires the cookie. The session then reads as empty;
   * values set afterwards (a "logged out" flash) start a new session with a new id. If the store
   * call fails, destroy rejects, and release retries it. With a `callback` it is called once,
   * error first; without, a promise is returned.
   */
  destroy(): Promise<void>;
  destroy(callback: Callback): void;
  destroy(callback?: Callback): Promise<void> | void {
    return settle(this.#destroy(), callback);
  }

  async #destroy(): Promise<void> {
    await this.#releasing;
    const oldId = this.#id;
    const existed = this.#record !== undefined;
    const user = this.#state.user;
    this.#id = this.#core.newId(this.#request);
    this.#record = undefined;
    this.#state = freshState(this.#core.options.now());
    this.#dropChanges();
    this.#destroyed = true;
    if (existed) this.#staleIds.push(oldId);
    // Also retries what an earlier destroy of this request failed to remove.
    if (this.#staleIds.length > 0) await this.#destroyStale();
    if (existed && user !== undefined) await this.#unfileUser(user, oldId);
  }

  /**
   * release persists what this request changed (beego's SessionRelease) and is safe to call more
   * than once. An unchanged session costs no write, except a throttled expiry refresh.
   */
  release(): Promise<void> {
    return this[RELEASE_IF_NEEDED]() ?? NOTHING_TO_SAVE;
  }

  /**
   * [RELEASE_IF_NEEDED] is {@link Session.release} for the end of a request, which returns
   * undefined when nothing is left to wait for: there was nothing to save (no change, no expiry
   * refresh due, no earlier release still running: a handler that saved already leaves nothing to
   * do), or the save was made in this turn ({@link Session.#savedNow}). The response then ends
   * without waiting a turn of the event loop.
   */
  [RELEASE_IF_NEEDED](): Promise<void> | undefined {
    if (this.#releasesRunning === 0 && (this.#nothingToSave() || this.#savedNow())) return undefined;
    const next = this.#releasing === undefined ? this.#release() : this.#releasing.then(() => this.#release());
    this.#releasesRunning++;
    this.#releasing = next.then(
      () => void this.#releasesRunning--,
      () => void this.#releasesRunning--,
    );
    return next;
  }

  /** #nothingToSave tells whether a release now would write nothing, counting the changes made in place. */
  #nothingToSave(): boolean {
    if (this.#staleIds.length > 0) return false;
    if (this.#detached) return true;
    this.#recordChangesInPlace();
    return this.#ops.length === 0 && !this.#refreshDue();
  }

  /**
   * #savedNow makes the save in this turn when {@link persistNow} can, so the response ends without
   * waiting for a promise. What it cannot settle, or an error, which the full save then reports, is
   * left to the full save, which starts over. Call it after {@link Session.#nothingToSave}.
   * Express memory `rw`: 577.1 → 571.7 k instructions a request outside the collector and the
   * compiler (bench/instructions.ts), 114.8 → 113.6 inline-cache misses (bench/ic-misses.ts).
   */
  #savedNow(): boolean {
    if (this.#staleIds.length > 0 || this.#ops.length === 0) return false;
    const state = this.#state;
    let saved: Saved | undefined;
    try {
      saved = persistNow(this.#core, this.#saveTarget(state, this.#ops));
    } catch {
      return false;
    }
    if (saved === undefined) return false;
    this.#ops = [];
    this.#adopt(saved, state);
    return true;
  }

  /** save is {@link Session.release} by express-session's name, with an optional error-first callback. */
  save(): Promise<void>;
  save(callback: Callback): void;
  save(callback?: Callback): Promise<void> | void {
    return settle(this.release(), callback);
  }

  /**
   * reload reads the session again from the store and drops this request's unsaved changes; a
   * session the store no longer holds reads as empty. With a `callback` it is called once, error
   * first; without, a promise is returned.
   */
  reload(): Promise<void>;
  reload(callback: Callback): void;
  reload(callback?: Callback): Promise<void> | void {
    return settle(this.#reload(), callback);
  }

  async #reload(): Promise<void> {
    await this.#releasing;
    const { store, options, providerName } = this.#core;
    let record: string | undefined;
    if (!this.#detached) {
      try {
        record = await store.get(this.#id);
      } catch (error) {
        throw storeError(providerName, 'reload', error);
      }
    }
    this.#record = record;
    this.#state = rebase(this.#core, record, options.now());
    this.#dropChanges();
  }

  /** #dropChanges forgets what this request changed and read, for a state that replaced the one it changed. */
  #dropChanges(): void {
    this.#ops = [];
    this.#handedOut = undefined;
    this.#keyedFlashes = undefined;
  }

  /** touch asks for the session's expiry (and a persistent cookie) to be renewed when the request ends, even if nothing changed. */
  touch(): void {
    this.#touchAsked = true;
  }

  /** resetMaxAge is {@link Session.touch} by express-session's name. */
  resetMaxAge(): void {
    this.touch();
  }

  /**
   * options sets this session's cookie lifetime, as @fastify/session's `options({ maxAge })` does
   * (ms; `expires` a Date). The other cookie attributes are the manager's, for every session, and
   * are refused here.
   */
  options(options: { maxAge?: number | null; expires?: Date | null | false }): void {
    for (const name of Object.keys(options)) {
      if (name !== 'maxAge' && name !== 'expires') {
        throw new SessionError('ERR_SESSION_INVALID_VALUE', `session: cookie option ${name} is set for every session by the manager's options, not per session`);
      }
    }
    if ('maxAge' in options) this.cookie.maxAge = options.maxAge;
    if ('expires' in options) this.cookie.expires = options.expires;
  }

  /** isModified tells whether this request changed the session so far (@fastify/session's name), counting changes made in place. */
  isModified(): boolean {
    if (this.#ops.length > 0) return true;
    const data = this.#state.data;
    for (const [key, before] of this.#handedOut ?? []) if (Object.hasOwn(data, key) && snapshot(data[key]) !== before) return true;
    return false;
  }

  /** isSaved tells whether the session is stored and holds no unsaved change (@fastify/session's name). */
  isSaved(): boolean {
    return this.#record !== undefined && !this.isModified();
  }

  /** toJSON returns a copy of the data, as `JSON.stringify(session)` writes it (koa-session's toJSON). */
  toJSON(): Record<string, unknown> {
    return JSON.parse(JSON.stringify(this.#state.data)) as Record<string, unknown>;
  }

  /**
   * cookieDecision tells what the response must carry: a cookie with the current id when the
   * client does not have it yet (or it must be re-signed or rolled), a clearing cookie after a
   * destroy that left nothing, or nothing. It is decided from the session's state, so headers can
   * be written before the save completes.
   */
  cookieDecision(): CookieDecision {
    if (this.#detached || this.#forwarded) return NO_COOKIE;
    if (!this.#willExist()) return this.#destroyed && this.#clientHasCookie ? CLEAR_COOKIE : NO_COOKIE;
    const maxAgeMs = this.#cookieMaxAgeMs();
    // A lifetime taken away sends the cookie again without Max-Age, so the browser drops it on close.
    const rolling = (maxAgeMs > 0 && (this.#ops.length > 0 || this.#rolled || this.#refreshDue())) || this.#lifetimeChanged;
    if (this.#id !== this.#clientId || this.#resign || rolling) return { action: 'set', id: this.#id, maxAgeMs };
    return NO_COOKIE;
  }

  /** markDelivered records that the client now has the current id (or no cookie, after a clear), so it is not sent twice. */
  markDelivered(): void {
    this.#clientId = this.#id;
    this.#clientHasCookie = this.#willExist();
    this.#resign = false;
    this.#rolled = false;
    this.#lifetimeChanged = false;
  }

  /** #willExist tells whether the session is stored, or will be at the end of this request. */
  #willExist(): boolean {
    return this.#record !== undefined || (this.#ops.length > 0 && !this.#unstored);
  }

  #apply(op: Op): void {
    applyOp(this.#state, op);
    this.#addOp(op);
  }

  /**
   * #addOp records an operation. The first of a request makes an array of one: a push onto the
   * empty array makes room for 17 (152 bytes). The handler's `increment` in the bench's `rw`: 243 →
   * 147 bytes allocated a request (bench/alloc-sites.ts).
   */
  #addOp(op: Op): void {
    if (this.#ops.length === 0) this.#ops = [op];
    else this.#ops.push(op);
  }

  #cookieMaxAgeMs(): number {
    return this.#state.lifetime ?? this.#core.options.cookieMaxAgeMs;
  }

  /**
   * #recordChangesInPlace turns each handed-out object that changed since into a write of its
   * key, so it merges with concurrent requests like any `set`. Their JSON is taken again, so a
   * change after this save is seen by the next one.
   */
  #recordChangesInPlace(): void {
    const handedOut = this.#handedOut;
    if (handedOut === undefined) return;
    const data = this.#state.data;
    for (const [key, before] of handedOut) {
      if (!Object.hasOwn(data, key)) continue;
      const now = snapshot(data[key]);
      if (now !== before || now === undefined) {
        this.#addOp({ kind: 'set', key, value: data[key] });
        handedOut.set(key, now);
      }
    }
  }

  /**
   * #release writes what there is to write. It returns the promise of the step that does the work
   * instead of awaiting it in an async function of its own: one layer of promises fewer on every
   * save (a tight loop of load, increment and release on the memory store: 4.80 → 4.57 µs, three
   * interleaved runs of each).
   */
  #release(): Promise<void> {
    if (this.#detached) return NOTHING_TO_SAVE;
    if (this.#staleIds.length > 0) return this.#destroyStale().then(() => this.#releaseChanges());
    return this.#releaseChanges();
  }

  #releaseChanges(): Promise<void> {
    this.#recordChangesInPlace();
    if (this.#ops.length > 0) return this.#save();
    return this.#refreshDue() ? this.#refresh() : NOTHING_TO_SAVE;
  }

  /**
   * #save persists the operations recorded so far. Operations recorded while it runs stay for the
   * next release, and are applied again to the state it returns when that is a fresh one.
   */
  #save(): Promise<void> {
    const ops = this.#ops;
    const state = this.#state;
    this.#ops = [];
    let saving: Promise<Saved>;
    try {
      saving = persistFirst(this.#core, this.#saveTarget(state, ops));
    } catch (error) {
      return Promise.reject(this.#saveFailed(ops, error));
    }
    return saving.then(
      (saved) => this.#adopt(saved, state),
      (error: unknown) => {
        throw this.#saveFailed(ops, error);
      },
    );
  }

  /** #saveFailed keeps the operations of a failed save for the next release, and returns its error. */
  #saveFailed(ops: Op[], error: unknown): unknown {
    this.#ops = [...ops, ...this.#ops];
    if (this.#record === undefined) this.#unstored = true;
    return error;
  }

  /** #saveTarget is what a save of `ops`, already applied to `state`, writes. */
  #saveTarget(state: SessionState, ops: readonly Op[]): SaveTarget {
    return { id: this.#id, record: this.#record, state, ops, request: this.#request };
  }

  /** #adopt takes on what a save of `state` wrote; operations recorded since are applied again to a state it rebased. */
  #adopt(saved: Saved, state: SessionState): void {
    // Destroyed by another request meanwhile: its destroy wins.
    if (saved.dropped) return;
    if (saved.forwarded) this.#forwarded = true;
    this.#rolled = true;
    this.#id = saved.id;
    this.#record = saved.record;
    this.#state = saved.state;
    if (saved.state !== state) for (const op of this.#ops) applyOp(saved.state, op);
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
    if (this.#record === undefined || this.#refreshed) return false;
    if (this.#touchAsked) return true;
    const { now, touchIntervalMs } = this.#core.options;
    // A session with a short lifetime of its own refreshes at least twice within it.
    const interval = this.#state.lifetime === undefined ? touchIntervalMs : Math.min(touchIntervalMs, this.#state.lifetime / 2);
    return now() - this.#state.touched >= interval;
  }

  /** #refresh moves the idle expiry of an unchanged session forward, at most once per touchInterval. */
  async #refresh(): Promise<void> {
    this.#refreshed = true;
    this.#rolled = true;
    const refreshed = await refresh(this.#core, this.#id, this.#record!, this.#state);
    if (refreshed !== undefined) {
      this.#record = refreshed.record;
      this.#state = refreshed.state;
    }
  }
}

/** textOf is a value as text: a string as it is, a finite number or a boolean in its usual text, else `fallback`. */
function textOf(value: unknown, fallback: string): string {
  if (typeof value === 'string') return value;
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return String(value);
  return fallback;
}
