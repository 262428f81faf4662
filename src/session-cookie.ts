import { SessionError } from './errors.ts';
import type { SameSite } from './options.ts';

/** CookieHost is what a {@link SessionCookie} reads and changes on its session. */
export interface CookieHost {
  /** cookieMaxAgeMs is the cookie's Max-Age in force for this session; 0 is a browser-session cookie. */
  cookieMaxAgeMs(): number;
  /** expiresAt is the epoch ms at which the session expires if nothing touches it again. */
  expiresAt(): number;
  now(): number;
  /** setLifetime gives the session its own lifetime in ms, or takes it away with undefined. */
  setLifetime(ms: number | undefined): void;
  readonly attributes: { path: string; domain: string | undefined; secure: boolean; httpOnly: boolean; sameSite: SameSite };
}

/**
 * SessionCookie is `session.cookie`, the shape express-session and @fastify/session give: set
 * `maxAge` (ms) or `expires` for one session — "remember me" — and that session gets a persistent
 * cookie and an idle lifetime of that length, kept across requests and across regenerate;
 * `maxAge = null` or `expires = false` turns it back into a browser-session cookie with the
 * manager's lifetime. Path, domain and the flags are the manager's and read-only here.
 */
export class SessionCookie {
  readonly #host: CookieHost;

  constructor(host: CookieHost) {
    this.#host = host;
  }

  /** maxAge is the ms left until the session expires when its cookie is persistent, else null. */
  get maxAge(): number | null {
    return this.#host.cookieMaxAgeMs() > 0 ? Math.max(0, this.#host.expiresAt() - this.#host.now()) : null;
  }

  set maxAge(ms: number | null | undefined) {
    if (ms === null || ms === undefined) {
      this.#host.setLifetime(undefined);
      return;
    }
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
      throw new SessionError('ERR_SESSION_INVALID_VALUE', `session: cookie.maxAge must be a positive number of milliseconds or null, got ${String(ms)}`);
    }
    this.#host.setLifetime(Math.round(ms));
  }

  /** originalMaxAge is the full Max-Age in ms of a persistent cookie, else null. */
  get originalMaxAge(): number | null {
    return this.#host.cookieMaxAgeMs() || null;
  }

  set originalMaxAge(ms: number | null | undefined) {
    this.maxAge = ms;
  }

  /** expires is when the session expires if untouched, for a persistent cookie; else null. */
  get expires(): Date | null {
    return this.#host.cookieMaxAgeMs() > 0 ? new Date(this.#host.expiresAt()) : null;
  }

  set expires(when: Date | number | null | false | undefined) {
    if (when === null || when === false || when === undefined) {
      this.#host.setLifetime(undefined);
      return;
    }
    const at = when instanceof Date ? when.getTime() : when;
    this.maxAge = at - this.#host.now();
  }

  /** path is the cookie's Path, from the manager's `cookiePath`. */
  get path(): string {
    return this.#host.attributes.path;
  }

  /** domain is the cookie's Domain, from the manager's `domain`. */
  get domain(): string | undefined {
    return this.#host.attributes.domain;
  }

  /** secure tells whether the cookie is Secure, from the manager's `secure`. */
  get secure(): boolean {
    return this.#host.attributes.secure;
  }

  /** httpOnly tells whether the cookie is HttpOnly, from the manager's `httpOnly`. */
  get httpOnly(): boolean {
    return this.#host.attributes.httpOnly;
  }

  /** sameSite is the cookie's SameSite, from the manager's `sameSite`. */
  get sameSite(): SameSite {
    return this.#host.attributes.sameSite;
  }

  /** toJSON is what `JSON.stringify(session.cookie)` shows, as express-session writes it. */
  toJSON(): Record<string, unknown> {
    const { path, domain, secure, httpOnly, sameSite } = this;
    return { originalMaxAge: this.originalMaxAge, expires: this.expires?.toISOString() ?? null, path, domain, secure, httpOnly, sameSite };
  }
}

for (const name of ['path', 'domain', 'secure', 'httpOnly', 'sameSite'] as const) {
  // Assigning these per session (as express-session allows) would have no effect here, so it fails loudly.
  const descriptor = Object.getOwnPropertyDescriptor(SessionCookie.prototype, name)!;
  Object.defineProperty(SessionCookie.prototype, name, {
    ...descriptor,
    set() {
      throw new SessionError('ERR_SESSION_INVALID_VALUE', `session: cookie.${name} is set for every session by the manager's options, not per session`);
    },
  });
}
