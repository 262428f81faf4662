import { SessionError } from '../../src/errors.ts';
import { readBoolean, readDurationMs, readInteger } from '../../src/read-value.ts';
import { closest } from '../../src/suggest.ts';

/**
 * Helpers shared by the providers' pure `parseConfig` functions. Each names the provider and the
 * offending key in its error and never echoes a password.
 */

/** configError builds the `ERR_SESSION_PROVIDER_CONFIG` error of `provider`. */
export function configError(provider: string, message: string, cause?: unknown): SessionError {
  return new SessionError('ERR_SESSION_PROVIDER_CONFIG', `session/${provider}: ${message}`, { cause });
}

/**
 * shownValue quotes a refused value for an error message when it is one plain word (ASCII letters,
 * digits and `. : / + - _ [ ]`, at most 64). Anything else may have swallowed the keys after it,
 * password included (an escaped space in `port=\ password=…`, a misplaced quote), so it is not shown.
 */
export function shownValue(value: string): string {
  if (/^[\w.:/+\-[\]]{0,64}$/.test(value)) return JSON.stringify(value);
  return 'a value that is not shown, as it is not a plain word and may hold part of a password';
}

const PLAIN_NAME = /^[A-Za-z_][\w.-]{0,63}$/;

/**
 * shownName gives an option name for a message when it is a plain word; any other may be the tail
 * of a misquoted password (`password='a b'c=d`, a quote closed early), so it is not shown.
 */
export function shownName(key: string, quote = false): string {
  if (!PLAIN_NAME.test(key)) return '(name not shown: it is not a plain word and may be part of a misquoted password)';
  return quote ? JSON.stringify(key) : key;
}

/**
 * unknownOptionError names an option `provider` does not take, suggests the allowed one it most
 * likely means when one is close (`sslmod` → did you mean "sslmode"?), and lists the allowed ones.
 */
export function unknownOptionError(provider: string, key: string, allowed: readonly string[]): SessionError {
  const near = closest(key, allowed);
  const hint = near === undefined ? '' : `did you mean ${JSON.stringify(near)}? `;
  return configError(provider, `unsupported option ${shownName(key, true)} (${hint}allowed: ${allowed.join(', ')})`);
}

/** givenTwiceError names an option written twice in one config. */
export function givenTwiceError(provider: string, key: string): SessionError {
  return configError(provider, PLAIN_NAME.test(key) ? `${key} is given twice` : `an option is given twice ${shownName(key)}`);
}

/** parseInteger reads a whole decimal number for `key` within [min, max]; garbage is an error, never 0. */
export function parseInteger(provider: string, key: string, value: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = readInteger(value);
  if (n === undefined) throw configError(provider, `${key} must be a whole number, got ${shownValue(value)}`);
  if (n < min || n > max) throw configError(provider, `${key} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** parseBoolean reads true/false/1/0/yes/no/on/off for `key`. */
export function parseBoolean(provider: string, key: string, value: string): boolean {
  const flag = readBoolean(value);
  if (flag === undefined) throw configError(provider, `${key} must be true or false, got ${shownValue(value)}`);
  return flag;
}

/**
 * parseDurationMs reads a duration for `key` as Go writes it (`30s`, `1.5m`, `250ms`, `2h`) or a bare
 * number in `bareUnit` (seconds by default, as in the macaron and beego configs) and returns ms.
 */
export function parseDurationMs(provider: string, key: string, value: string, bareUnit: 's' | 'ms' = 's'): number {
  const ms = readDurationMs(value, bareUnit);
  if (ms === undefined) throw configError(provider, `${key} must be a duration such as 30s or 180, got ${shownValue(value)}`);
  return ms;
}

/** HostPort is one `host:port` address. */
export interface HostPort {
  host: string;
  port: number;
}

/** formatHostPort writes an address for messages as it is read back: `host:port`, or `[v6]:port` for an IPv6 host. */
export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** parseHostPort reads `host:port` or `[v6]:port` for `key`; the port is required unless `defaultPort` is given. */
export function parseHostPort(provider: string, key: string, value: string, defaultPort?: number): HostPort {
  const text = value.trim();
  const match = /^(?:\[([^\]]+)\]|([^:/\s]+))(?::(\d+))?$/.exec(text);
  if (!match) throw configError(provider, `${key} must be host:port, got ${shownValue(value)}`);
  const host = match[1] ?? match[2]!;
  if (match[3] === undefined) {
    if (defaultPort === undefined) throw configError(provider, `${key} is missing its port in ${shownValue(value)}`);
    return { host, port: defaultPort };
  }
  return { host, port: parseInteger(provider, `${key} port`, match[3], 1, 65535) };
}

/**
 * parseKeyValues splits `a=1<sep>b=2` into ordered pairs (macaron's form, lib/pq's form with
 * `sep` = whitespace). Values may be single-quoted with `\'` and `\\` escapes as lib/pq allows.
 * A key given twice or an entry without `=` is an error naming it.
 */
export function parseKeyValues(provider: string, text: string, sep: ',' | 'space'): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const isSep = (ch: string) => (sep === ',' ? ch === ',' : /\s/.test(ch));
  while (i < text.length) {
    while (i < text.length && (isSep(text[i]!) || /\s/.test(text[i]!))) i++;
    if (i >= text.length) break;
    const eq = text.indexOf('=', i);
    const keyEnd = eq === -1 ? text.length : eq;
    const rawKey = text.slice(i, keyEnd).trim();
    if (eq === -1 || rawKey === '' || /[\s,]/.test(rawKey)) {
      throw configError(provider, `expected key=value, got ${JSON.stringify(rawKey.split(/[\s,]/)[0] || text.slice(i, i + 20))}`);
    }
    i = eq + 1;
    let value = '';
    if (sep === 'space') while (i < text.length && text[i] === ' ') i++;
    const quoted = text[i] === "'";
    if (quoted) {
      i++;
      for (; i < text.length && text[i] !== "'"; i++) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i];
      }
      if (text[i] !== "'") throw configError(provider, `unterminated quote in the value of ${shownName(rawKey)}`);
      i++;
    } else {
      while (i < text.length && !isSep(text[i]!)) value += text[i++];
    }
    const key = rawKey.toLowerCase();
    if (out.has(key)) throw givenTwiceError(provider, rawKey);
    out.set(key, sep === ',' && !quoted ? value.trim() : value);
  }
  return out;
}

/** decodeComponent percent-decodes a URL part for `key`, naming the key on a bad escape. */
export function decodeComponent(provider: string, key: string, value: string): string {
  try {
    return decodeURIComponent(value);
  } catch (cause) {
    throw configError(provider, `${key} has an invalid percent escape`, cause);
  }
}

/** rejectUnknown fails on the first key of `entries` not in `allowed`, naming it. */
export function rejectUnknown(provider: string, entries: Iterable<string>, allowed: readonly string[]): void {
  for (const key of entries) {
    if (!allowed.includes(key)) throw unknownOptionError(provider, key, allowed);
  }
}

/** HostListUrl is a URL whose authority may list several hosts, as MongoDB and Couchbase write them. */
export interface HostListUrl {
  scheme: string;
  username: string;
  password: string | undefined;
  /** hosts is the raw authority after any userinfo, e.g. `a:27017,b:27017`. */
  hosts: string;
  /** path is the raw path including its leading `/`, or `''`. */
  path: string;
  /** query is the raw query without its `?`, or `''`. */
  query: string;
}

/**
 * parseHostListUrl splits `scheme://[user[:pass]@]h1[:p1][,h2[:p2]…][/path][?query]`, which WHATWG
 * URL rejects once there are two hosts. User and password are percent-decoded; the other parts stay
 * raw. An `@` inside the userinfo must be percent-encoded. Messages never include the password.
 */
export function parseHostListUrl(provider: string, text: string, schemes: readonly string[]): HostListUrl {
  const match = /^([a-z][a-z0-9+.-]*):\/\/(?:([^:@/?]*)(?::([^@/?]*))?@)?([^/?@]*)(\/[^?]*)?(?:\?(.*))?$/i.exec(text.trim());
  if (!match || !schemes.includes(match[1]!.toLowerCase())) {
    // The text is not echoed: a malformed userinfo is exactly where an unencoded password hides.
    throw configError(provider, `expected a ${schemes.map((s) => `${s}://`).join(' or ')} url with any @, / or ? in the password percent-encoded`);
  }
  if (match[2] === undefined && /@/.test(`${match[5] ?? ''}?${match[6] ?? ''}`)) {
    // An unencoded / or ? in a password ends the host list before the @: the rest must not be echoed.
    throw configError(provider, `expected a ${schemes.map((s) => `${s}://`).join(' or ')} url with any @, / or ? in the password percent-encoded`);
  }
  if (match[4] === '') throw configError(provider, `the ${match[1]!.toLowerCase()}:// url has no host`);
  return {
    scheme: match[1]!.toLowerCase(),
    username: decodeComponent(provider, 'username', match[2] ?? ''),
    password: match[3] === undefined ? undefined : decodeComponent(provider, 'password', match[3]),
    hosts: match[4]!,
    path: match[5] ?? '',
    query: match[6] ?? '',
  };
}

/**
 * takeQueryOptions splits a raw URL query into the provider's own options (`own`, percent-decoded,
 * each allowed once) and the rest, kept raw and in order so it can be handed on to a client library.
 * A key of `own` given twice is an error naming it; a value-less `key` reads as `''`.
 */
export function takeQueryOptions(provider: string, query: string, own: readonly string[]): { own: Map<string, string>; passed: string[] } {
  const taken = new Map<string, string>();
  const passed: string[] = [];
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeComponent(provider, 'query option', eq === -1 ? pair : pair.slice(0, eq));
    if (!own.includes(key)) {
      passed.push(pair);
      continue;
    }
    if (taken.has(key)) throw givenTwiceError(provider, key);
    taken.set(key, decodeComponent(provider, key, eq === -1 ? '' : pair.slice(eq + 1)));
  }
  return { own: taken, passed };
}
