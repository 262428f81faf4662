import { inspect } from 'node:util';
import { SessionError } from '../../src/errors.ts';
import { redact, shows } from './redact.ts';

export { idTaken, storeError } from '../../src/errors.ts';

/** Secrets are the passwords of one store's config: never shown in a message or a cause. */
export type Secrets = readonly (string | undefined)[];

/** MAX_CAUSE_DEPTH bounds how deep {@link scrubbed} follows a chain of causes. */
const MAX_CAUSE_DEPTH = 8;

/**
 * failure wraps a backend failure as `ERR_SESSION_STORE` with the message
 * `session/<provider>: <what>: <the cause's message>`, the secrets redacted from it. The cause is
 * kept for logs unless it shows a secret anywhere a logger looks (`util.inspect` at any depth,
 * `JSON.stringify`): ioredis, for one, keeps the arguments of a failed `AUTH` on its error. Then a
 * copy stands in for it, with the name, `code`, `errno` and redacted message and stack only. A
 * SessionError passes through unchanged, so codes chosen deeper down survive.
 */
export function failure(provider: string, what: string, cause: unknown, secrets: Secrets = []): SessionError {
  if (cause instanceof SessionError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new SessionError('ERR_SESSION_STORE', redact(`session/${provider}: ${what}: ${detail}`, secrets), { cause: scrubbed(cause, secrets) });
}

/** closedError is `ERR_SESSION_CLOSED`, `session/<provider>: <action> after close`: what every call of a closed store rejects with. */
export function closedError(provider: string, action: string): SessionError {
  return new SessionError('ERR_SESSION_CLOSED', `session/${provider}: ${action} after close`);
}

/** scrubbed returns `cause` itself when it shows none of the secrets, and otherwise a copy that holds none. */
function scrubbed(cause: unknown, secrets: Secrets, depth = 0): unknown {
  if (!secrets.some(Boolean) || !shows(printed(cause), secrets)) return cause;
  if (!(cause instanceof Error) || depth >= MAX_CAUSE_DEPTH) return redact(cause instanceof Error ? cause.message : String(cause), secrets);
  const inner = (cause as { cause?: unknown }).cause;
  const copy = new Error(redact(cause.message, secrets), inner === undefined ? undefined : { cause: scrubbed(inner, secrets, depth + 1) });
  copy.name = cause.name;
  copy.stack = redact(cause.stack ?? '', secrets);
  for (const key of ['code', 'errno'] as const) {
    const value = (cause as unknown as Record<string, unknown>)[key];
    if ((typeof value === 'string' || typeof value === 'number') && !shows(String(value), secrets)) Object.assign(copy, { [key]: value });
  }
  return copy;
}

/** printed is everything a logger may print of `value`: its full inspection and its JSON. */
function printed(value: unknown): string {
  let json = '';
  try {
    json = JSON.stringify(value) ?? '';
  } catch {
    // Circular or BigInt: a JSON logger fails the same way and prints nothing of it.
  }
  return `${inspect(value, { depth: Infinity, showHidden: true })}\n${json}`;
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
