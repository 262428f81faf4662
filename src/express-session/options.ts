import type { IncomingMessage } from 'node:http';
import { SessionError } from '../errors.ts';
import { MIN_SECRET_LENGTH, type ManagerOptions, type SameSite } from '../options.ts';
import type { Provider } from '../provider.ts';
import { DEFAULT_LEGACY_NAME, type LegacyOptions } from './legacy-options.ts';
import { isExpressSessionStore, type ExpressSessionStore } from './store-calls.ts';
import { storeProvider } from './store-provider.ts';

/** CookieOptions are express-session's `cookie` options that sessionkit honours. */
export interface CookieOptions {
  /** maxAge in ms makes the cookie persistent and the idle lifetime that long [null: a browser-session cookie]. */
  maxAge?: number | null;
  /** expires is turned into a `maxAge` from the moment the middleware is made; prefer `maxAge`. */
  expires?: Date | null | false;
  /** secure marks the cookie Secure [false]; "auto" is refused: set true behind HTTPS. */
  secure?: boolean;
  /** httpOnly [true]. */
  httpOnly?: boolean;
  /** sameSite: true is "strict", false leaves it out ["lax", where express-session sends none]. */
  sameSite?: boolean | 'lax' | 'strict' | 'none';
  /** domain [unset: host-only]. */
  domain?: string;
  /** path ["/"]; requests outside it get no session, as with express-session. */
  path?: string;
}

/** ProviderStore names a sessionkit provider for the drop-in's `store`: `{ provider: 'redis', config: '127.0.0.1:6379' }`. */
export interface ProviderStore {
  /** provider is a registered provider name (import `sessionkit/providers/<name>` first) or a Provider object. */
  provider: string | Provider;
  /** config is the provider's connection string [""]. */
  config?: string;
}

/**
 * SessionOptions are express-session's options, as `session(options)` of
 * `sessionkit/express-session` takes them, plus a few of sessionkit's own (marked). Defaults in
 * brackets; an unknown name is refused with `ERR_SESSION_CONFIG` naming it.
 */
export interface SessionOptions {
  /** name is the cookie's name ["connect.sid"]. */
  name?: string;
  /** key is express-session's old name for `name`. */
  key?: string;
  /** secret signs the cookie (a list rotates); at least 32 characters, unlike express-session [unset: unsigned ids]. */
  secret?: string | string[];
  cookie?: CookieOptions;
  /** rolling renews the expiry and re-sends a persistent cookie on every request, at a store write each [false]. */
  rolling?: boolean;
  /** resave is accepted and has no effect: changes are merged, and an unchanged session only has its expiry refreshed. */
  resave?: boolean;
  /** saveUninitialized stores a new session and sends its cookie before anything is written [true, as express-session]. */
  saveUninitialized?: boolean;
  /** genid makes new ids; each must be at least 32 lowercase hex characters, e.g. randomBytes(16).toString('hex'). */
  genid?(req: IncomingMessage): string;
  /** store is an express-session store instance or a sessionkit provider [the "memory" provider]. */
  store?: ExpressSessionStore | ProviderStore;
  /** unset: "destroy" destroys the session when `req.session` is set to null or deleted ["keep"]. */
  unset?: 'keep' | 'destroy';
  /** proxy is accepted and has no effect: the Secure flag is sent as `cookie.secure` says, whatever the connection. */
  proxy?: boolean;
  /** legacy (sessionkit) keeps the users of the express-session app this one replaces logged in; `true` takes the store, secret and cookie from these options. */
  legacy?: true | Partial<LegacyOptions>;
  /** flashProperty (sessionkit) is where sessions offer sessionkit's leveled flash ["flashes"], leaving `session.flash` to connect-flash. */
  flashProperty?: string | false;
  /** maxLifetime (sessionkit) is the idle timeout in seconds [cookie.maxAge, else 86400: the one-day ttl of the usual stores]. */
  maxLifetime?: number;
  /** absoluteLifetime (sessionkit) caps a session's total age in seconds [unset]. */
  absoluteLifetime?: number;
  /** onError (sessionkit) receives background errors and notices [console.error]. */
  onError?: (error: Error) => void;
}

/** DropInSettings are {@link SessionOptions} turned into what the drop-in runs on. */
export interface DropInSettings {
  manager: ManagerOptions;
  unset: 'keep' | 'destroy';
  /** path is the cookie path; requests outside it get no session. */
  path: string;
}

/** DROP_IN_DEFAULTS are where the drop-in's defaults differ from `createManager`'s, to be express-session's. */
export const DROP_IN_DEFAULTS = { name: DEFAULT_LEGACY_NAME, saveUninitialized: true, maxLifetime: 86_400, flashProperty: 'flashes' } as const;

const OPTIONS = new Set(['name', 'key', 'secret', 'cookie', 'rolling', 'resave', 'saveUninitialized', 'genid', 'store', 'unset', 'proxy', 'legacy', 'flashProperty', 'maxLifetime', 'absoluteLifetime', 'onError']);
const COOKIE_OPTIONS = new Set(['maxAge', 'expires', 'secure', 'httpOnly', 'sameSite', 'domain', 'path']);
/** UNSUPPORTED_COOKIE_OPTIONS are cookie options express-session passes on that sessionkit does not write. */
const UNSUPPORTED_COOKIE_OPTIONS = new Set(['partitioned', 'priority', 'encode', 'signed']);

function invalid(message: string): SessionError {
  return new SessionError('ERR_SESSION_CONFIG', `session: ${message}`);
}

/** checkNames refuses a name `known` lacks, naming it and the ones that exist. */
function checkNames(given: object, known: ReadonlySet<string>, prefix: string, unsupported: ReadonlySet<string> = new Set()): void {
  for (const name of Object.keys(given)) {
    if (unsupported.has(name)) throw invalid(`${prefix}${name} is an express-session option sessionkit does not support`);
    if (!known.has(name)) throw invalid(`${prefix}${name} is not an option of sessionkit/express-session (known: ${[...known].map((n) => prefix + n).join(', ')})`);
  }
}

/**
 * checkSecrets refuses express-session's short secrets with the way out, before the core refuses
 * them with its shorter message; placeholders such as "keyboard cat" are the core's to refuse.
 */
function checkSecrets(secret: unknown): void {
  const secrets = Array.isArray(secret) ? secret : [secret];
  if (secrets.length === 0) throw invalid('secret must not be an empty list');
  if (secrets.some((s) => typeof s !== 'string' || s.length < MIN_SECRET_LENGTH)) {
    throw invalid(
      `secret must be at least ${MIN_SECRET_LENGTH} characters; express-session took shorter ones, sessionkit does not: generate one (openssl rand -hex 32) and, to keep users signed in, pass the old one as legacy.secret`,
    );
  }
}

/** sameSiteOf maps express-session's sameSite (true is strict) to sessionkit's. */
function sameSiteOf(value: CookieOptions['sameSite']): SameSite | undefined {
  if (value === undefined) return undefined;
  if (value === true) return 'strict';
  if (value === false) return false;
  const lower = typeof value === 'string' ? value.toLowerCase() : value;
  if (lower === 'lax' || lower === 'strict' || lower === 'none') return lower;
  throw invalid(`cookie.sameSite must be true, false, "lax", "strict" or "none", got ${JSON.stringify(value)}${lower === 'auto' ? ' ("auto" depends on the connection; sessionkit sends one value to every client)' : ''}`);
}

/** cookieMaxAge is the cookie's lifetime in ms from `maxAge` or `expires`, or undefined for a browser-session cookie. */
function cookieMaxAge(cookie: CookieOptions): number | undefined {
  const { maxAge, expires } = cookie;
  const hasMaxAge = maxAge !== undefined && maxAge !== null;
  const hasExpires = expires !== undefined && expires !== null && expires !== false;
  if (hasMaxAge && hasExpires) throw invalid('set one of cookie.maxAge and cookie.expires, not both');
  if (hasMaxAge) {
    if (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge <= 0) throw invalid(`cookie.maxAge must be a positive number of milliseconds, got ${String(maxAge)}`);
    return maxAge;
  }
  if (!hasExpires) return undefined;
  const ms = expires instanceof Date ? expires.getTime() - Date.now() : NaN;
  if (!(ms > 0)) throw invalid('cookie.expires must be a Date in the future; prefer cookie.maxAge');
  return ms;
}

/** providerOf maps the drop-in's `store` to the manager's provider options. */
function providerOf(store: SessionOptions['store']): Pick<ManagerOptions, 'provider' | 'providerConfig'> {
  if (store === undefined) return {};
  if (isExpressSessionStore(store)) return { provider: storeProvider(store) };
  if (typeof store === 'object' && store !== null && 'provider' in store) {
    const { provider, config, ...rest } = store;
    checkNames(rest, new Set(), 'store.');
    if (config !== undefined && typeof config !== 'string') throw invalid('store.config must be the provider\'s connection string');
    return { provider, providerConfig: config ?? '' };
  }
  throw invalid('store must be an express-session store instance (such as new RedisStore({ client })) or a sessionkit provider: { provider: "redis", config: "127.0.0.1:6379" }');
}

/** legacyOf completes the drop-in's `legacy` from its other options. */
function legacyOf(options: SessionOptions, name: string, cookie: CookieOptions): LegacyOptions | undefined {
  const { legacy } = options;
  if (legacy === undefined) return undefined;
  const given = legacy === true ? {} : legacy;
  const store = given.store ?? (isExpressSessionStore(options.store) ? options.store : undefined);
  if (store === undefined) throw invalid('legacy needs the express-session store the old app used: legacy: { store }');
  const secret = given.secret ?? options.secret;
  if (secret === undefined) throw invalid("legacy needs the old app's secret: legacy: { secret }");
  return { store, secret, name: given.name ?? name, path: given.path ?? cookie.path, domain: given.domain ?? cookie.domain };
}

/**
 * dropInSettings turns express-session's options into the drop-in's settings, refusing unknown
 * names and values sessionkit cannot honour with `ERR_SESSION_CONFIG` naming them. The manager
 * options it returns are checked again, as every option is, by `createManager`.
 */
export function dropInSettings(options: SessionOptions = {}): DropInSettings {
  if (typeof options !== 'object' || options === null) throw invalid('session() takes an options object');
  checkNames(options, OPTIONS, '');
  const cookie = options.cookie ?? {};
  if (typeof cookie !== 'object' || cookie === null) throw invalid("cookie must be an object; a function of the request is not supported, as every session shares the cookie's attributes");
  checkNames(cookie, COOKIE_OPTIONS, 'cookie.', UNSUPPORTED_COOKIE_OPTIONS);
  if (options.secret !== undefined) checkSecrets(options.secret);
  if (cookie.secure !== undefined && typeof cookie.secure !== 'boolean') {
    throw invalid(`cookie.secure must be true or false, got ${JSON.stringify(cookie.secure)}; for "auto", set true when the app is served over HTTPS (behind a proxy too)`);
  }
  const unset = options.unset ?? 'keep';
  if (unset !== 'keep' && unset !== 'destroy') throw invalid(`unset must be "keep" or "destroy", got ${JSON.stringify(unset)}`);
  if (options.genid !== undefined && typeof options.genid !== 'function') throw invalid('genid must be a function returning an id');
  const name = options.name ?? options.key ?? DROP_IN_DEFAULTS.name;
  const maxAgeMs = cookieMaxAge(cookie);
  const { genid } = options;
  const manager: ManagerOptions = {
    ...providerOf(options.store),
    cookieName: name,
    cookiePath: cookie.path,
    domain: cookie.domain,
    secure: cookie.secure,
    httpOnly: cookie.httpOnly,
    sameSite: sameSiteOf(cookie.sameSite),
    cookieLifeTime: maxAgeMs === undefined ? 0 : maxAgeMs / 1000,
    maxLifetime: options.maxLifetime ?? (maxAgeMs === undefined ? DROP_IN_DEFAULTS.maxLifetime : maxAgeMs / 1000),
    absoluteLifetime: options.absoluteLifetime,
    secret: options.secret,
    saveUninitialized: options.saveUninitialized ?? DROP_IN_DEFAULTS.saveUninitialized,
    flashProperty: options.flashProperty ?? DROP_IN_DEFAULTS.flashProperty,
    idGenerator: genid && ((req) => genid(req!)),
    legacy: legacyOf(options, name, cookie),
    onError: options.onError,
  };
  // rolling: every request refreshes the expiry, and a persistent cookie goes out with each refresh.
  if (options.rolling === true) manager.touchInterval = 0;
  return { manager, unset, path: cookie.path ?? '/' };
}
