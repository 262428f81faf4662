import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SameSite } from './options.ts';

/** MAX_COOKIE_HEADER is the longest Cookie header read; longer ones are treated as absent. */
const MAX_COOKIE_HEADER = 16 * 1024;

/**
 * readCookie returns the value of the first cookie called `name` in a Cookie header, or
 * undefined. It does no percent-decoding: session ids are plain ASCII, so an encoded value is
 * invalid anyway and is refused later by id validation.
 */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  const text = Array.isArray(header) ? header.join('; ') : header;
  if (!text || text.length > MAX_COOKIE_HEADER) return undefined;
  // Walked pair by pair with indexOf: this runs on every request, and splitting would copy all
  // pairs. The next '=' is searched once and kept while pairs without one go by, so a header of
  // many pairs without '=' costs one pass, not one pass per pair.
  let eq = text.indexOf('=');
  for (let start = 0; start < text.length && eq !== -1; ) {
    const semicolon = text.indexOf(';', start);
    const end = semicolon === -1 ? text.length : semicolon;
    if (eq < end && text.slice(start, eq).trim() === name) {
      let value = text.slice(eq + 1, end).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      return value === '' ? undefined : value;
    }
    start = end + 1;
    if (eq < start) eq = text.indexOf('=', start);
  }
  return undefined;
}

/** TOKEN matches a cookie or header name: RFC 6265 token characters. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** ATTRIBUTE matches a cookie attribute value (a path) that cannot break the Set-Cookie header. */
export const ATTRIBUTE = /^[\x21-\x3a\x3c-\x7e]+$/;

/** CookieAttributes are the attributes written with the session cookie. */
export interface CookieAttributes {
  path: string;
  domain: string | undefined;
  secure: boolean;
  httpOnly: boolean;
  sameSite: SameSite;
  /** maxAgeMs of 0 writes a browser-session cookie (no Max-Age). */
  maxAgeMs: number;
}

const SAME_SITE = { lax: 'Lax', strict: 'Strict', none: 'None' } as const;

/** serializeCookie writes a Set-Cookie value; `value` undefined writes the clearing cookie with the same name, path and domain. */
export function serializeCookie(name: string, value: string | undefined, attrs: CookieAttributes): string {
  let out = `${name}=${value ?? ''}; Path=${attrs.path}`;
  if (attrs.domain) out += `; Domain=${attrs.domain}`;
  if (value === undefined) out += '; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  else if (attrs.maxAgeMs > 0) out += `; Max-Age=${Math.floor(attrs.maxAgeMs / 1000)}`;
  if (attrs.httpOnly) out += '; HttpOnly';
  if (attrs.secure) out += '; Secure';
  if (attrs.sameSite) out += `; SameSite=${SAME_SITE[attrs.sameSite]}`;
  return out;
}

/** Mac computes the signature of a value under a secret, as text. */
export type Mac = (value: string, secret: string) => string;

const mac: Mac = (value, secret) => createHmac('sha256', secret).update(value).digest('base64url');

/** sign appends `.` and the HMAC-SHA256 of `value` under `secret`, base64url-encoded (43 chars). */
export function sign(value: string, secret: string): string {
  return `${value}.${mac(value, secret)}`;
}

/**
 * unsign checks a signed value against every secret of the rotation list with a timing-safe
 * comparison. It returns the value and whether a secret other than the first one matched (so
 * the cookie should be signed again), or undefined for a bad, truncated or missing signature.
 * `signature` is how the signature was made [sessionkit's own, as {@link sign} makes it].
 */
export function unsign(signed: string, secrets: readonly string[], signature: Mac = mac): { value: string; stale: boolean } | undefined {
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const value = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1));
  for (let i = 0; i < secrets.length; i++) {
    const expected = Buffer.from(signature(value, secrets[i]!));
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { value, stale: i > 0 };
  }
  return undefined;
}

/** Verified is a signed value that checked out: whether a secret other than the first signed it, and whether `accepts` took it. */
export interface Verified {
  value: string;
  stale: boolean;
  accepted: boolean;
}

/**
 * VerifiedCookies remembers cookie values whose signature checked out, so a client's repeated
 * requests cost one HMAC rather than one each, and one run of `accepts` (the manager's id check,
 * a regular expression: about 0.2 µs a request, bench/perf-split.ts). Only values that verified are
 * kept, keyed by their exact text, so a forged value never gets in; at most `size` are kept,
 * oldest dropped first.
 */
export class VerifiedCookies {
  readonly #secrets: readonly string[];
  readonly #accepts: (value: string) => boolean;
  readonly #size: number;
  readonly #known = new Map<string, Verified>();

  constructor(secrets: readonly string[], accepts: (value: string) => boolean = () => true, size = 10_000) {
    this.#secrets = secrets;
    this.#accepts = accepts;
    this.#size = size;
  }

  /** unsign is {@link unsign} over this rotation list, with `accepts`' verdict, answered from memory for a value seen before. */
  unsign(signed: string): Verified | undefined {
    const known = this.#known.get(signed);
    if (known !== undefined) return known;
    const verified = unsign(signed, this.#secrets);
    if (verified === undefined) return undefined;
    const entry = { value: verified.value, stale: verified.stale, accepted: this.#accepts(verified.value) };
    if (this.#known.size >= this.#size) this.#known.delete(this.#known.keys().next().value!);
    this.#known.set(signed, entry);
    return entry;
  }
}
