import type { IncomingMessage } from 'node:http';
import { ATTRIBUTE, TOKEN } from './cookie.ts';
import { SessionError } from './errors.ts';
import { foreignOption, normalizeOptionName } from './foreign-options.ts';
import { resolveLegacy, type LegacyOptions, type ResolvedLegacy } from './express-session/legacy-options.ts';
import { checkIdLength } from './id.ts';
import type { Provider } from './provider.ts';
import { readDurationMs } from './read-value.ts';
import { closest } from './suggest.ts';

/** SameSite is the cookie's SameSite attribute; `false` leaves it out (not recommended). */
export type SameSite = 'lax' | 'strict' | 'none' | false;

/**
 * RejectedId describes an id a request presented that was not used. `idHash` is 16 hex characters
 * of an HMAC of the presented value under a key made when the Manager starts: equal values give
 * equal hashes within one process, so repeats can be counted, and the id itself is never exposed.
 */
export interface RejectedId {
  reason: 'malformed' | 'bad-signature' | 'unknown' | 'expired';
  idHash: string;
}

/**
 * Duration is a number of seconds, or a string as the INI takes it: a bare number of seconds or a
 * Go-style duration (`250ms`, `30s`, `15m`, `1.5h`). Never negative.
 */
export type Duration = number | string;

/** StoreErrorPolicy: on a store error in a request, fail it (`'fail'`) or go on without a session (`'continue'`). */
export type StoreErrorPolicy = 'fail' | 'continue';

/**
 * ManagerOptions configure {@link createManager}. Durations are seconds, as in the beego and
 * macaron lineage, or duration strings such as `'30m'`; they become milliseconds once, in
 * {@link resolveOptions}. Defaults in brackets. A name that is not listed here (a typo, or a Go
 * library's `CookieName`) is refused by `createManager` with the option it most likely means.
 */
export interface ManagerOptions {
  /** provider is a registered name or a Provider object ["memory"]. */
  provider?: string | Provider;
  /** providerConfig is the provider's connection string [""]. */
  providerConfig?: string;
  /** cookieName is the session cookie's name ["sid"]. */
  cookieName?: string;
  /** cookiePath is the cookie's Path ["/"]. */
  cookiePath?: string;
  /** domain is the cookie's Domain [unset: host-only, the safe choice]. */
  domain?: string;
  /** secure marks the cookie Secure [false]; set it behind HTTPS. */
  secure?: boolean;
  /** httpOnly marks the cookie HttpOnly [true]. */
  httpOnly?: boolean;
  /** sameSite is the cookie's SameSite ["lax"]; "none" requires `secure`. */
  sameSite?: SameSite;
  /** cookieLifeTime is the cookie's Max-Age ({@link Duration}) [0: a browser-session cookie]. */
  cookieLifeTime?: Duration;
  /** gcInterval is the time between gc passes ({@link Duration}) [3600 s]; 0 turns the ticker off. */
  gcInterval?: Duration;
  /** maxLifetime is the idle timeout ({@link Duration}) [3600 s]; must be positive. */
  maxLifetime?: Duration;
  /** absoluteLifetime caps a session's total age ({@link Duration}) [unset: no cap]; must be positive. */
  absoluteLifetime?: Duration;
  /**
   * touchInterval is how long after the last write a read-only request refreshes the idle expiry,
   * a {@link Duration} [60 s, at most half of maxLifetime]; requests sooner than that cost no write.
   */
  touchInterval?: Duration;
  /** idLength is the id length in hex characters [32 = 128 bits]; fewer than 32 is refused. */
  idLength?: number;
  /** secret signs the cookie (HMAC-SHA256) when set; an array rotates: the first signs, all verify. */
  secret?: string | string[];
  /** idHeader also reads the id from, and returns it in, this header (e.g. "X-Session-Id") [unset]. */
  idHeader?: string;
  /**
   * cacheControl is sent, with `Vary: Cookie`, on every response that sets the session cookie (in
   * place of the handler's) and on every response to a request that carried a live session
   * (unless the handler set its own) ["no-store"]; false sends none.
   */
  cacheControl?: string | false;
  /** maxRecordSize limits an encoded session in bytes [1 MiB]; a bigger one fails at save. */
  maxRecordSize?: number;
  /** maxRetries bounds the conflict retries of one save before ERR_SESSION_CONTENDED [100]. */
  maxRetries?: number;
  /**
   * storeTimeout bounds each store call a request waits on ({@link Duration}) [2 s]; 0 leaves only the
   * client library's own timeouts. A call past it fails with ERR_SESSION_STORE ("timed out"); a
   * timed-out write may still be applied later, and is never retried.
   */
  storeTimeout?: Duration;
  /** onStoreError is the outage policy for store errors while loading a session ["fail"]. */
  onStoreError?: StoreErrorPolicy;
  /** onError receives background errors (gc) and reports such as corrupt records [console.error]. */
  onError?: (error: Error) => void;
  /** onDestroy is called with the id of each session destroyed through this manager. */
  onDestroy?: (sid: string) => void;
  /**
   * onRejectedId is called when a request presents an id that is not used: malformed, badly
   * signed, unknown (never issued, or expired) or past the absolute lifetime — OWASP's
   * "suspicious activity" signal. It gets a salted hash of the value, never the value.
   */
  onRejectedId?: (event: RejectedId) => void;
  /**
   * saveUninitialized stores a new session and sends its cookie on the first visit, before
   * anything is written, as beego and macaron do [false: a request that writes nothing stores
   * nothing]. Turn it on when code keys something (a CSRF token, a cart) on the id of an anonymous
   * visitor; every anonymous request then costs a store write.
   */
  saveUninitialized?: boolean;
  /**
   * flashProperty is the name under which a session offers its leveled flash as a property
   * ["flash"]; `false` offers it under no name. Set another name (e.g. "flashes") when a library
   * such as connect-flash keeps its own data in `session.flash`; `session.flash` is then data.
   */
  flashProperty?: string | false;
  /**
   * idGenerator makes the ids of new sessions instead of the built-in generator (iris's
   * SessionIDGenerator, express-session's genid). Each id must pass the same check as every id:
   * `idLength` lowercase hex characters (at least 128 bits), or the request fails. It is handed
   * the request, also for the ids that regenerate and destroy make later in it; to that end the
   * session keeps its request, which costs each request some time in the garbage collector.
   */
  idGenerator?: (req?: IncomingMessage) => string;
  /**
   * legacy moves the sessions of an express-session deployment over as their users come back
   * [unset]: a request with the old signed cookie and no session here gets the old session's data
   * under a new id, once; the old record is removed and the old cookie cleared. See
   * docs/express-session.md.
   */
  legacy?: LegacyOptions;
  /** now returns epoch ms [Date.now]; tests pass a fake clock. */
  now?: () => number;
}

/**
 * OPTION_NAMES lists every {@link ManagerOptions} field — `createManager` refuses any other name —
 * each with the option names of the Go libraries' option structs that mean the same but are
 * another word (macaron's `Gclifetime`): a name that differs only in case or `_` (`CookieName`,
 * `cookie_name`) needs no entry. The INI accepts these names as keys; in code they get a
 * "did you mean". A field missing here is a type error, so a new option is one line.
 */
export const OPTION_NAMES = {
  provider: [],
  providerConfig: [],
  cookieName: [],
  cookiePath: [],
  domain: [],
  secure: [],
  httpOnly: [],
  sameSite: [],
  cookieLifeTime: [],
  gcInterval: ['Gclifetime'],
  maxLifetime: [],
  absoluteLifetime: [],
  touchInterval: [],
  idLength: [],
  secret: [],
  idHeader: [],
  cacheControl: [],
  maxRecordSize: [],
  maxRetries: [],
  storeTimeout: [],
  onStoreError: [],
  onError: [],
  onDestroy: [],
  onRejectedId: [],
  saveUninitialized: [],
  flashProperty: [],
  idGenerator: ['SessionIDGenerator', 'genid'],
  legacy: [],
  now: [],
} as const satisfies Record<keyof ManagerOptions, readonly string[]>;

/** ResolvedOptions are ManagerOptions with defaults applied and every duration in milliseconds. */
export interface ResolvedOptions {
  provider: string | Provider;
  providerConfig: string;
  cookieName: string;
  cookiePath: string;
  domain: string | undefined;
  secure: boolean;
  httpOnly: boolean;
  sameSite: SameSite;
  cookieMaxAgeMs: number;
  gcIntervalMs: number;
  maxLifetimeMs: number;
  absoluteLifetimeMs: number | undefined;
  touchIntervalMs: number;
  idLength: number;
  secrets: string[];
  idHeader: string | undefined;
  cacheControl: string | false;
  maxRecordSize: number;
  maxRetries: number;
  storeTimeoutMs: number;
  onStoreError: StoreErrorPolicy;
  onError: (error: Error) => void;
  onDestroy: ((sid: string) => void) | undefined;
  onRejectedId: ((event: RejectedId) => void) | undefined;
  saveUninitialized: boolean;
  flashProperty: string | false;
  idGenerator: ((req?: IncomingMessage) => string) | undefined;
  legacy: ResolvedLegacy | undefined;
  /** cookie holds the cookie attributes every session shares. */
  cookie: { path: string; domain: string | undefined; secure: boolean; httpOnly: boolean; sameSite: SameSite };
  now: () => number;
}

/** DEFAULTS are the documented defaults of {@link ManagerOptions}, in the option's own unit. */
export const DEFAULTS = {
  provider: 'memory',
  providerConfig: '',
  cookieName: 'sid',
  cookiePath: '/',
  secure: false,
  httpOnly: true,
  sameSite: 'lax',
  cookieLifeTime: 0,
  gcInterval: 3600,
  maxLifetime: 3600,
  touchInterval: 60,
  idLength: 32,
  cacheControl: 'no-store',
  maxRecordSize: 1024 * 1024,
  maxRetries: 100,
  storeTimeout: 2,
  onStoreError: 'fail',
  saveUninitialized: false,
  flashProperty: 'flash',
} as const satisfies ManagerOptions;

/** MIN_SECRET_LENGTH is the shortest accepted signing secret, in characters. */
export const MIN_SECRET_LENGTH = 32;

/** PLACEHOLDERS are words that mark a secret copied from an example rather than generated. */
const PLACEHOLDERS = /change[-_ ]?me|keyboard cat|your[-_ ]?secret|replace[-_ ]?me|placeholder|example/i;

/** weakSecret tells why a long enough secret is still unfit to sign with, or returns undefined. */
function weakSecret(secret: string): string | undefined {
  if (new Set(secret).size < 8) return 'secret has fewer than 8 different characters; generate one, e.g. openssl rand -hex 32';
  if (PLACEHOLDERS.test(secret)) return 'secret looks like a placeholder from an example; generate one, e.g. openssl rand -hex 32';
  return undefined;
}

function invalid(option: string, message: string): SessionError {
  return new SessionError('ERR_SESSION_CONFIG', `session: ${message}`, { option });
}

function seconds(name: string, value: Duration | undefined, fallback: number | undefined, allowZero: boolean): number | undefined {
  if (value === undefined) return fallback === undefined ? undefined : fallback * 1000;
  const ms = typeof value === 'number' ? (Number.isFinite(value) && value >= 0 ? value * 1000 : undefined)
    : typeof value === 'string' ? readDurationMs(value, 's') : undefined;
  if (ms === undefined || (!allowZero && ms === 0)) {
    const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
    throw invalid(name, `${name} must be a ${allowZero ? 'non-negative' : 'positive'} number of seconds or a duration such as 30s, 15m or 1h, got ${shown}`);
  }
  return ms;
}

/**
 * checkNames refuses a name that is not an option, with the option it most likely means: the same
 * word written another way (`CookieName`), a Go library's name for it (`Gclifetime`) or a close
 * typo (`cookeName`); a Go setting that has no counterpart says why and what to do instead.
 */
function checkNames(options: ManagerOptions): void {
  for (const name of Object.keys(options)) {
    if (Object.hasOwn(OPTION_NAMES, name)) continue;
    const foreign = foreignOption(name);
    if (foreign !== undefined) throw invalid(name, `${name} is not an option: ${foreign}`);
    const hint = suggestOption(name);
    throw invalid(name, `unknown option ${name}${hint === undefined ? '' : ` (did you mean ${hint}?${normalizeOptionName(hint) === normalizeOptionName(name) ? ' options are camelCase' : ''})`}`);
  }
}

/** suggestOption returns the option an unknown `name` most likely means, or undefined. */
export function suggestOption(name: string): string | undefined {
  const options = Object.keys(OPTION_NAMES) as (keyof typeof OPTION_NAMES)[];
  const written = normalizeOptionName(name);
  const same = options.find((option) => normalizeOptionName(option) === written);
  if (same !== undefined) return same;
  const lineage = options.find((option) => OPTION_NAMES[option].some((other: string) => normalizeOptionName(other) === written));
  return lineage ?? closest(name, options, normalizeOptionName);
}


/**
 * resolveOptions validates `options`, applies {@link DEFAULTS} and converts seconds to ms. Bad
 * values fail with `ERR_SESSION_CONFIG` naming the option; secrets are never echoed.
 */
export function resolveOptions(options: ManagerOptions): ResolvedOptions {
  checkNames(options);
  const cookieName = options.cookieName ?? DEFAULTS.cookieName;
  if (!TOKEN.test(cookieName)) throw invalid('cookieName', `cookieName ${JSON.stringify(cookieName)} is not a valid cookie name`);
  const cookiePath = options.cookiePath ?? DEFAULTS.cookiePath;
  if (!ATTRIBUTE.test(cookiePath) || !cookiePath.startsWith('/')) throw invalid('cookiePath', `cookiePath ${JSON.stringify(cookiePath)} must start with / and hold no ; or spaces`);
  const domain = options.domain === '' ? undefined : options.domain;
  if (domain !== undefined && !/^[A-Za-z0-9.-]+$/.test(domain)) throw invalid('domain', `domain ${JSON.stringify(domain)} is not a host name`);
  const secure = options.secure ?? DEFAULTS.secure;
  const sameSite = options.sameSite ?? DEFAULTS.sameSite;
  if (!['lax', 'strict', 'none', false].includes(sameSite)) throw invalid('sameSite', `sameSite must be lax, strict, none or false, got ${JSON.stringify(sameSite)}`);
  if (sameSite === 'none' && !secure) throw invalid('sameSite', 'sameSite "none" requires secure: true');
  if (cookieName.startsWith('__Host-') && (!secure || domain !== undefined || cookiePath !== '/')) {
    throw invalid('cookieName', 'a __Host- cookie needs secure: true, no domain and cookiePath "/"');
  }
  if (cookieName.startsWith('__Secure-') && !secure) throw invalid('cookieName', 'a __Secure- cookie needs secure: true');

  const maxLifetimeMs = seconds('maxLifetime', options.maxLifetime, DEFAULTS.maxLifetime, false)!;
  const touchIntervalMs = Math.min(seconds('touchInterval', options.touchInterval, DEFAULTS.touchInterval, true)!, maxLifetimeMs / 2);
  const secrets = options.secret === undefined ? [] : Array.isArray(options.secret) ? options.secret : [options.secret];
  if (options.secret !== undefined && secrets.length === 0) throw invalid('secret', 'secret must not be an empty list');
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
      throw invalid('secret', `secret must be a string of at least ${MIN_SECRET_LENGTH} characters`);
    }
    const weak = weakSecret(secret);
    if (weak !== undefined) throw invalid('secret', weak);
  }
  const idHeader = options.idHeader === '' ? undefined : options.idHeader;
  if (idHeader !== undefined && !TOKEN.test(idHeader)) throw invalid('idHeader', `idHeader ${JSON.stringify(idHeader)} is not a header name`);
  const onStoreError = options.onStoreError ?? DEFAULTS.onStoreError;
  if (onStoreError !== 'fail' && onStoreError !== 'continue') throw invalid('onStoreError', `onStoreError must be "fail" or "continue", got ${JSON.stringify(onStoreError)}`);
  const positiveInt = (name: string, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value <= 0) throw invalid(name, `${name} must be a positive whole number, got ${String(value)}`);
    return value;
  };
  const flashProperty = options.flashProperty ?? DEFAULTS.flashProperty;
  if (flashProperty !== false && (typeof flashProperty !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(flashProperty))) {
    throw invalid('flashProperty', `flashProperty must be a property name or false, got ${JSON.stringify(flashProperty)}`);
  }
  if (options.idGenerator !== undefined && typeof options.idGenerator !== 'function') throw invalid('idGenerator', 'idGenerator must be a function returning an id');
  const httpOnly = options.httpOnly ?? DEFAULTS.httpOnly;
  const cacheControl = options.cacheControl ?? DEFAULTS.cacheControl;
  if (cacheControl !== false && (typeof cacheControl !== 'string' || /[\r\n]/.test(cacheControl))) throw invalid('cacheControl', 'cacheControl must be a header value or false');

  return {
    provider: options.provider ?? DEFAULTS.provider,
    providerConfig: options.providerConfig ?? DEFAULTS.providerConfig,
    cookieName,
    cookiePath,
    domain,
    secure,
    httpOnly,
    sameSite,
    cookieMaxAgeMs: seconds('cookieLifeTime', options.cookieLifeTime, DEFAULTS.cookieLifeTime, true)!,
    gcIntervalMs: seconds('gcInterval', options.gcInterval, DEFAULTS.gcInterval, true)!,
    maxLifetimeMs,
    absoluteLifetimeMs: seconds('absoluteLifetime', options.absoluteLifetime, undefined, false),
    touchIntervalMs,
    idLength: checkIdLength(options.idLength ?? DEFAULTS.idLength),
    secrets,
    idHeader: idHeader?.toLowerCase(),
    cacheControl,
    maxRecordSize: positiveInt('maxRecordSize', options.maxRecordSize, DEFAULTS.maxRecordSize),
    maxRetries: positiveInt('maxRetries', options.maxRetries, DEFAULTS.maxRetries),
    storeTimeoutMs: seconds('storeTimeout', options.storeTimeout, DEFAULTS.storeTimeout, true)!,
    onStoreError,
    onError: options.onError ?? ((error) => console.error(error)),
    onDestroy: options.onDestroy,
    onRejectedId: options.onRejectedId,
    saveUninitialized: options.saveUninitialized ?? DEFAULTS.saveUninitialized,
    flashProperty,
    idGenerator: options.idGenerator,
    legacy: resolveLegacy(options.legacy),
    cookie: { path: cookiePath, domain, secure, httpOnly, sameSite },
    now: options.now ?? Date.now,
  };
}
