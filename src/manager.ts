import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decode, freshState, type SessionState } from './codec.ts';
import { readCookie, serializeCookie, sign, VerifiedCookies } from './cookie.ts';
import { SessionError, storeError } from './errors.ts';
import { generateId, isValidId } from './id.ts';
import { resolveOptions, type ManagerOptions, type RejectedId, type ResolvedOptions } from './options.ts';
import { missingIndexMethods, type Provider, type Store } from './provider.ts';
import { lookupProvider } from './registry.ts';
import { Session, type SessionCore } from './session.ts';
import { withStoreTimeout } from './store-timeout.ts';
import { destroyUserSessions, listUserSessions } from './user-index.ts';
import { adoptLegacy } from './express-session/legacy.ts';
import { expressSession, type ConnectMiddleware } from './http/express.ts';
import { startSession } from './http/node.ts';

/** ALL_SESSIONS is what `onDestroy` receives when `destroyAll` removed every session at once. */
export const ALL_SESSIONS = '*';

/**
 * ClientId is the id a request presented, after signature and format checks. A usable one keeps
 * `raw`, the value as presented, only to hash it for onRejectedId.
 */
type ClientId = UsableId | { id: undefined; presented: boolean; resign: false };

/** UsableId is a {@link ClientId} that passed the checks. */
type UsableId = { id: string; raw: string; presented: true; resign: boolean };

/** LOAD_NOW is the adapters' name for {@link Manager.[LOAD_NOW]}. */
export const LOAD_NOW = Symbol('sessionkit.loadNow');

/**
 * Manager owns one opened store and turns requests into {@link Session}s: it reads the id from
 * the cookie (or the id header), validates it before any store sees it, loads or creates the
 * session, and runs the gc ticker. Create it with {@link createManager}.
 */
export class Manager implements SessionCore {
  readonly store: Store;
  readonly options: ResolvedOptions;
  readonly providerName: string;
  readonly #verified: VerifiedCookies;
  /** #rejectKey keys the hash that onRejectedId gets instead of an id; it lives as long as the Manager. */
  readonly #rejectKey = randomBytes(32);
  #timer: NodeJS.Timeout | undefined;
  #gcRunning = false;
  #closed: Promise<void> | undefined;

  constructor(store: Store, options: ResolvedOptions, providerName: string) {
    this.store = store;
    this.options = options;
    this.providerName = providerName;
    this.#verified = new VerifiedCookies(options.secrets, (id) => isValidId(id, options.idLength));
    if (options.gcIntervalMs > 0 && store.gc) {
      this.#timer = setInterval(() => void this.#tick(), options.gcIntervalMs);
      this.#timer.unref();
    }
  }

  /**
   * newId returns a fresh random id of `idLength` hex characters, or one from the `idGenerator`
   * option (given the request when there is one), checked like every id.
   */
  newId(req?: IncomingMessage): string {
    const { idGenerator, idLength } = this.options;
    if (idGenerator === undefined) return generateId(idLength);
    const id = idGenerator(req);
    if (!isValidId(id, idLength)) {
      throw new SessionError('ERR_SESSION_CONFIG', `session: idGenerator returned an id that is not ${idLength} lowercase hex characters; ids need at least 128 bits from crypto, e.g. randomBytes(${idLength / 2}).toString('hex')`);
    }
    return id;
  }

  /** report passes a non-fatal problem to `onError`, which must never throw into a request. */
  report(error: Error): void {
    reportTo(this.options.onError, error);
  }

  /**
   * start reads the session of a request (beego's SessionStart): a valid id that the store knows
   * loads that session; anything else — no cookie, a forged, malformed or unknown id — gives a
   * fresh session with a new server-made id, which is stored and sent only once it holds data.
   * Given the response, it makes it carry the session's headers and saves the session before
   * the response ends (see `startSession` in src/http/node.ts).
   */
  start(req: IncomingMessage, res?: ServerResponse): Promise<Session> {
    return startSession(this, req, res);
  }

  /** load is {@link Manager.start} without touching a response; adapters write headers themselves. */
  async load(req: IncomingMessage): Promise<Session> {
    return this[LOAD_NOW](req);
  }

  /**
   * [LOAD_NOW] is {@link Manager.load} for the adapters: when the store reads synchronously
   * (`Store.getNow`) and no legacy cookie is adopted, it returns the session itself, so the request
   * goes on in the same turn; otherwise a promise of it. A failure may be thrown or rejected.
   * Waiting for a promise here cost an Express request more than the wait: the router's and node's
   * code missed V8's inline caches more often after it (bench/README.md, "Inline-cache misses").
   * Express memory `ro`: 116.7 → 113.7 misses a request (ic-misses.ts), 562 → 558 k instructions
   * outside the collector and the compiler (instructions.ts).
   */
  [LOAD_NOW](req: IncomingMessage): Session | Promise<Session> {
    const client = this.#readClientId(req);
    const now = this.options.now();
    const staleIds: string[] = [];
    if (client.id === undefined) return this.#unknown(req, client, now, staleIds);
    const { store } = this;
    let read: string | undefined | Promise<string | undefined>;
    try {
      read = store.getNow === undefined ? store.get(client.id) : store.getNow(client.id);
    } catch (error) {
      // Also a get that throws instead of rejecting: it fails the load like any store failure.
      return this.#loadFailed(error, req, client, now, staleIds);
    }
    if (typeof read === 'string' || read === undefined) return this.#loaded(req, client, read, now, staleIds);
    return Promise.resolve(read).then(
      (record) => this.#loaded(req, client, record, now, staleIds),
      (error: unknown) => this.#loadFailed(error, req, client, now, staleIds),
    );
  }

  /** #loaded makes the session of a record read for a client's id, or a fresh one when it is missing or unreadable. */
  #loaded(req: IncomingMessage, client: UsableId, record: string | undefined, now: number, staleIds: string[]): Session | Promise<Session> {
    if (record === undefined) {
      this.#rejected('unknown', client.raw);
    } else {
      const state = this.#readRecord(record, client.id, client.raw, now, staleIds);
      if (state) {
        return new Session(this, { id: client.id, record, state, clientId: client.id, clientHadCookie: true, resign: client.resign, staleIds, detached: false, request: req });
      }
    }
    return this.#unknown(req, client, now, staleIds);
  }

  /** #unknown makes the fresh session of a request without a usable session, adopting an express-session cookie when configured. */
  #unknown(req: IncomingMessage, client: ClientId, now: number, staleIds: string[]): Session | Promise<Session> {
    const fresh = this.#fresh(req, client.presented, now, staleIds, false);
    return this.options.legacy === undefined ? fresh : adoptLegacy(this, req, fresh);
  }

  /** #loadFailed throws the store's failure, or with `onStoreError: "continue"` reports it and gives a detached session. */
  #loadFailed(error: unknown, req: IncomingMessage, client: ClientId, now: number, staleIds: string[]): Session {
    const failure = storeError(this.providerName, 'load', error);
    if (this.options.onStoreError === 'fail') throw failure;
    this.report(failure);
    return this.#fresh(req, client.presented, now, staleIds, true);
  }

  /** #fresh makes a new, empty session under a new id; a detached one never touches the store. */
  #fresh(req: IncomingMessage, clientHadCookie: boolean, now: number, staleIds: string[], detached: boolean): Session {
    return new Session(this, { id: this.newId(req), record: undefined, state: freshState(now), clientId: undefined, clientHadCookie, resign: false, staleIds, detached, request: req });
  }

  /**
   * cookieFor returns the Set-Cookie value carrying `id`, with a Max-Age of `maxAgeMs` (default:
   * the `cookieLifeTime` option; 0 for a browser-session cookie), or the clearing cookie when `id`
   * is undefined.
   */
  cookieFor(id: string | undefined, maxAgeMs = this.options.cookieMaxAgeMs): string {
    const value = id === undefined ? undefined : this.options.secrets.length > 0 ? sign(id, this.options.secrets[0]!) : id;
    return serializeCookie(this.options.cookieName, value, { ...this.options.cookie, maxAgeMs });
  }

  /** middleware returns connect/Express middleware that sets `req.session` and `res.locals.flash` and saves before the response ends (see `expressSession`). */
  middleware(): ConnectMiddleware {
    // `app.use(manager.middleware)`, the call left out, runs this for each request with no Manager.
    if (!(this instanceof Manager)) throw new SessionError('ERR_SESSION_CONFIG', 'session: manager.middleware makes the middleware: app.use(manager.middleware()), with the parentheses');
    return expressSession(this);
  }

  /** count returns the exact number of live sessions; `ERR_SESSION_UNSUPPORTED` when the store cannot count. */
  async count(): Promise<number> {
    if (!this.store.count) throw this.#unsupported('count');
    try {
      return await this.store.count();
    } catch (error) {
      throw storeError(this.providerName, 'count', error);
    }
  }

  /** destroy removes the session `sid` (iris DestroyByID); an invalid or unknown id is a no-op. */
  async destroy(sid: string): Promise<void> {
    if (!isValidId(sid, this.options.idLength)) return;
    try {
      await this.store.destroy(sid);
    } catch (error) {
      throw storeError(this.providerName, 'destroy', error);
    }
    this.options.onDestroy?.(sid);
  }

  /**
   * listUserSessions returns the ids of the live sessions bound to `userId` with `bindUser`, at a
   * cost proportional to that user's sessions; `ERR_SESSION_UNSUPPORTED` when the store has no index.
   */
  listUserSessions(userId: string): Promise<string[]> {
    return listUserSessions(this, userId);
  }

  /** destroyUserSessions destroys every live session bound to `userId` ("log out everywhere") and returns how many. */
  destroyUserSessions(userId: string): Promise<number> {
    return destroyUserSessions(this, userId);
  }

  /**
   * destroyAll removes every session of this store (iris DestroyAll) and then calls `onDestroy`
   * once with {@link ALL_SESSIONS}; needs `Store.clear`.
   */
  async destroyAll(): Promise<void> {
    if (!this.store.clear) throw this.#unsupported('destroyAll');
    try {
      await this.store.clear();
    } catch (error) {
      throw storeError(this.providerName, 'clear', error);
    }
    this.options.onDestroy?.(ALL_SESSIONS);
  }

  /** gc runs one gc pass now; stores with native expiry need none, and then it does nothing. */
  async gc(): Promise<void> {
    if (!this.store.gc) return;
    try {
      await this.store.gc();
    } catch (error) {
      throw storeError(this.providerName, 'gc', error);
    }
  }

  /** close stops the gc ticker and closes the store. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      clearInterval(this.#timer);
      await this.store.close?.();
    })();
    return this.#closed;
  }

  async #tick(): Promise<void> {
    if (this.#gcRunning) return;
    this.#gcRunning = true;
    try {
      await this.gc();
    } catch (error) {
      this.report(error as Error);
    } finally {
      this.#gcRunning = false;
    }
  }

  #unsupported(what: string): SessionError {
    return new SessionError('ERR_SESSION_UNSUPPORTED', `session/${this.providerName}: ${what} is not supported by this provider`);
  }

  #readClientId(req: IncomingMessage): ClientId {
    const { idHeader, cookieName, secrets, idLength } = this.options;
    let raw: string | undefined;
    if (idHeader !== undefined) {
      const header = req.headers[idHeader];
      raw = (Array.isArray(header) ? header[0] : header)?.trim() || undefined;
    }
    raw ??= readCookie(req.headers.cookie, cookieName);
    if (raw === undefined) return { id: undefined, presented: false, resign: false };
    let id: string = raw;
    let resign = false;
    let valid: boolean;
    if (secrets.length > 0) {
      const verified = raw.length <= 2 * idLength + 64 ? this.#verified.unsign(raw) : undefined;
      if (verified === undefined) {
        this.#rejected(raw.length <= 2 * idLength + 64 ? 'bad-signature' : 'malformed', raw);
        return { id: undefined, presented: true, resign: false };
      }
      id = verified.value;
      resign = verified.stale;
      valid = verified.accepted;
    } else {
      valid = isValidId(id, idLength);
    }
    if (!valid) {
      this.#rejected('malformed', raw);
      return { id: undefined, presented: true, resign: false };
    }
    return { id, presented: true, resign, raw };
  }

  /** #rejected tells onRejectedId about an id that was not used, by a keyed hash, never the value. */
  #rejected(reason: RejectedId['reason'], raw: string): void {
    const hook = this.options.onRejectedId;
    if (!hook) return;
    try {
      hook({ reason, idHash: createHmac('sha256', this.#rejectKey).update(raw).digest('hex').slice(0, 16) });
    } catch (error) {
      this.report(error as Error);
    }
  }

  /** #readRecord decodes a stored record; a corrupt or over-age one reads as no session and is scheduled for removal. */
  #readRecord(record: string, sid: string, raw: string, now: number, staleIds: string[]): SessionState | undefined {
    let state: SessionState;
    try {
      state = decode(record);
    } catch (error) {
      this.report(error as Error);
      staleIds.push(sid);
      return undefined;
    }
    const { absoluteLifetimeMs } = this.options;
    if (absoluteLifetimeMs !== undefined && state.created + absoluteLifetimeMs <= now) {
      this.#rejected('expired', raw);
      staleIds.push(sid);
      return undefined;
    }
    return state;
  }
}

/** reportTo hands `error` to an `onError` hook; a hook that throws is ignored, as it must never fail a request. */
function reportTo(onError: (error: Error) => void, error: Error): void {
  try {
    onError(error);
  } catch {
    // onError is the last resort; a failing reporter must not fail the request.
  }
}

/**
 * createManager opens the provider's store and starts the gc ticker (unref'd, so it never keeps
 * the process alive). `provider` is a registered name — import `sessionkit/providers/<name>`
 * first — or a Provider object. Bad options fail with `ERR_SESSION_CONFIG` naming the option.
 */
export async function createManager(options: ManagerOptions = {}): Promise<Manager> {
  const resolved = resolveOptions(options);
  const provider: Provider = typeof resolved.provider === 'string' ? lookupProvider(resolved.provider) : resolved.provider;
  const name = typeof resolved.provider === 'string' ? resolved.provider : 'custom';
  let store: Store;
  try {
    store = await provider.open(resolved.providerConfig, { maxLifetime: resolved.maxLifetimeMs, now: resolved.now, report: (error) => reportTo(resolved.onError, error) });
  } catch (error) {
    throw storeError(name, 'open', error);
  }
  const missing = missingIndexMethods(store);
  if (missing.length > 0) {
    await store.close?.();
    throw new SessionError('ERR_SESSION_INVALID_PROVIDER', `session/${name}: a store with an index needs indexAdd, indexRemove and indexList together; this one lacks ${missing.join(', ')}`);
  }
  return new Manager(withStoreTimeout(store, resolved.storeTimeoutMs, name), resolved, name);
}
