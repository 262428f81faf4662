import { SessionError } from '../../src/errors.ts';
import { redact } from './redact.ts';

export { idTaken } from '../../src/errors.ts';

/** Secrets are the passwords of one store's config: never shown in a message or a cause. */
export type Secrets = readonly (string | undefined)[];

/** MAX_CAUSE_DEPTH bounds how deep {@link scrubbed} follows a chain of causes. */
const MAX_CAUSE_DEPTH = 8;

/**
 * failure wraps a backend failure as `ERR_SESSION_STORE` with the message
 * `session/<provider>: <what>: <the cause's message>`, the secrets redacted from it. The cause is
 * replaced by a copy that keeps only what a logger needs and no password or session id can hide
 * in: the name, the message and stack redacted, every own string, number and boolean property
 * (strings redacted), and the cause chain copied the same way. Objects and arrays are dropped:
 * ioredis, for one, keeps the arguments of a failed command on its error (`['AUTH', 'default',
 * <password>]`, or a key holding a session id), and `util.inspect` or a JSON logger would print
 * them. A SessionError passes through unchanged, so codes chosen deeper down survive.
 */
export function failure(provider: string, what: string, cause: unknown, secrets: Secrets = []): SessionError {
  if (cause instanceof SessionError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new SessionError('ERR_SESSION_STORE', redact(`session/${provider}: ${what}: ${detail}`, secrets), { cause: scrubbed(cause, secrets) });
}

/** checkExpiresAt refuses an expiry that is not a finite number (`ERR_SESSION_INVALID_VALUE`), before it reaches the backend. */
export function checkExpiresAt(provider: string, expiresAt: number): void {
  if (!Number.isFinite(expiresAt)) {
    throw new SessionError('ERR_SESSION_INVALID_VALUE', `session/${provider}: expiresAt must be a finite epoch-ms number`);
  }
}

/** closedError is `ERR_SESSION_CLOSED`, `session/<provider>: <action> after close`: what every call of a closed store rejects with. */
function closedError(provider: string, action: string): SessionError {
  return new SessionError('ERR_SESSION_CLOSED', `session/${provider}: ${action} after close`);
}

/** SET_BY_COPY are the properties {@link scrubbed} sets itself rather than copies. */
const SET_BY_COPY = new Set(['name', 'message', 'stack', 'cause', '__proto__']);

/** scrubbed copies `cause` as {@link failure} describes, redacting `secrets` from every string it keeps. */
function scrubbed(cause: unknown, secrets: Secrets, depth = 0): unknown {
  if (typeof cause === 'string') return redact(cause, secrets);
  if (cause === null || typeof cause !== 'object') return cause;
  const source = cause as { name?: unknown; message?: unknown; stack?: unknown; cause?: unknown };
  const message = redact(typeof source.message === 'string' ? source.message : 'backend error', secrets);
  const inner = source.cause !== undefined && depth < MAX_CAUSE_DEPTH ? { cause: scrubbed(source.cause, secrets, depth + 1) } : undefined;
  const copy = new Error(message, inner);
  copy.name = typeof source.name === 'string' ? redact(source.name, secrets) : 'Error';
  copy.stack = typeof source.stack === 'string' ? redact(source.stack, secrets) : `${copy.name}: ${message}`;
  let entries: [string, unknown][] = [];
  try {
    entries = Object.entries(cause);
  } catch {
    // A hostile getter or proxy: nothing more is copied.
  }
  for (const [key, value] of entries) {
    if (SET_BY_COPY.has(key)) continue;
    if (typeof value === 'string') Object.assign(copy, { [key]: redact(value, secrets) });
    else if (typeof value === 'number' || typeof value === 'boolean') Object.assign(copy, { [key]: value });
  }
  return copy;
}

/** GuardOptions configure a {@link StoreGuard}. */
export interface GuardOptions {
  /** secrets are the passwords to keep out of every error, e.g. `[options.password]`; default none. */
  secrets?: Secrets;
  /** where names the backend in messages, `<action> on <where> failed`, e.g. `127.0.0.1:5432`; default unnamed. */
  where?: string;
}

/**
 * StoreGuard is the one wrapper around a built-in store's backend calls: `run(action, call)`
 * rejects with {@link closedError} once `close` has begun, and turns whatever `call` throws into
 * {@link failure} (`session/<provider>: <action> failed: …`, secrets redacted). `close(release)`
 * runs `release` once; every later `close` returns the same promise.
 */
export class StoreGuard {
  readonly #provider: string;
  readonly #secrets: Secrets;
  readonly #where: string;
  #closing: Promise<void> | undefined;

  constructor(provider: string, options: GuardOptions = {}) {
    this.#provider = provider;
    this.#secrets = options.secrets ?? [];
    this.#where = options.where === undefined ? '' : ` on ${options.where}`;
  }

  /** closed tells whether `close` has been called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** check throws {@link closedError} for `action` once the store is closed. */
  check(action: string): void {
    if (this.#closing !== undefined) throw closedError(this.#provider, action);
  }

  /** run checks that the store is open, then awaits `call`, wrapping what it throws with {@link StoreGuard.fail}. */
  async run<T>(action: string, call: () => T | PromiseLike<T>): Promise<T> {
    this.check(action);
    try {
      return await call();
    } catch (cause) {
      throw this.fail(action, cause);
    }
  }

  /** fail is {@link failure} for `action`: `session/<provider>: <action> [on <where>] failed: …`, secrets redacted. */
  fail(action: string, cause: unknown): SessionError {
    return failure(this.#provider, `${action}${this.#where} failed`, cause, this.#secrets);
  }

  /** close marks the store closed and runs `release` the first time; later calls return the same promise. */
  close(release: () => Promise<void>): Promise<void> {
    return (this.#closing ??= release());
  }
}
