import {
  configError,
  givenTwiceError,
  type HostPort,
  parseDurationMs,
  parseHostListUrl,
  parseHostPort,
  parseInteger,
  rejectUnknown,
  shownValue,
} from '../shared/dsn.ts';
import { MAX_ID_LENGTH } from '../../src/id.ts';

const NAME = 'memcache';

/** DEFAULT_PREFIX is put in front of every session id to form the memcached key. */
export const DEFAULT_PREFIX = 'session:';
/** DEFAULT_SERVER is used for an empty config string. */
export const DEFAULT_SERVER: HostPort = { host: '127.0.0.1', port: 11211 };
/** MAX_KEY_BYTES is memcached's key limit; a prefix plus the longest session id must fit. */
export const MAX_KEY_BYTES = 250;

/**
 * MemcacheOptions are the parsed memcache config. `servers` holds one or more addresses (keys are
 * spread over them by memjs's hash); `username`/`password` are SASL credentials, present only
 * when given; `prefix` defaults to {@link DEFAULT_PREFIX}; `timeoutMs` (default 1000) bounds each
 * request and each connection attempt; `retries` (default 2) is how many times memjs tries an
 * idempotent request before it rejects.
 */
export interface MemcacheOptions {
  servers: HostPort[];
  username?: string;
  password?: string;
  prefix: string;
  timeoutMs: number;
  retries: number;
}

const URL_KEYS = ['prefix', 'timeout', 'retries'] as const;

/**
 * parseConfig reads the memcache config string. Accepted forms:
 *
 * - `''` → {@link DEFAULT_SERVER};
 * - macaron / beego: `127.0.0.1:11211` or a `;`-separated list `127.0.0.1:11211;127.0.0.1:11212`
 *   (a missing port is 11211);
 * - URL: `memcache://[user:pass@]host:11211[,host2:11212][?prefix=app:&timeout=2s&retries=2]`
 *   (`memcached://` too); user and password are SASL credentials, percent-encoded.
 *
 * A bad port, an unknown option or a prefix that cannot be part of a memcached key (spaces,
 * control characters, non-ASCII, or longer than 250 bytes minus the longest session id) is an
 * `ERR_SESSION_PROVIDER_CONFIG` error naming the key; the password never appears in a message.
 */
export function parseConfig(config: string): MemcacheOptions {
  const text = config.trim();
  const options: MemcacheOptions = { servers: [DEFAULT_SERVER], prefix: DEFAULT_PREFIX, timeoutMs: 1000, retries: 2 };
  if (text === '') return options;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    // The text is never echoed: a user:password@ written here would show the password.
    if (text.includes('@')) throw configError(NAME, 'credentials go in the memcache://user:password@host:11211 url form, with the password percent-encoded');
    if (text.includes(',')) throw configError(NAME, "servers are separated by ';', not ','");
    options.servers = text.split(';').map((part, i) => {
      if (part.trim() === '') throw configError(NAME, `server ${i + 1} of the ';'-separated list is empty`);
      return parseHostPort(NAME, 'server', part, DEFAULT_SERVER.port);
    });
    return options;
  }

  const url = parseHostListUrl(NAME, text, ['memcache', 'memcached']);
  if (url.path !== '' && url.path !== '/') throw configError(NAME, `the url takes no path, got ${shownValue(url.path)}`);
  options.servers = url.hosts.split(',').map((part) => parseHostPort(NAME, 'host', part, DEFAULT_SERVER.port));
  if (url.username !== '' || url.password !== undefined) {
    if (url.username === '') throw configError(NAME, 'the url has a password but no username');
    options.username = url.username;
    options.password = url.password ?? '';
  }
  const params = new URLSearchParams(url.query);
  const keys = [...params.keys()];
  rejectUnknown(NAME, keys, URL_KEYS);
  for (const key of new Set(keys)) {
    const values = params.getAll(key);
    if (values.length > 1) throw givenTwiceError(NAME, key);
    const value = values[0]!;
    if (key === 'prefix') options.prefix = value;
    else if (key === 'timeout') options.timeoutMs = parseTimeout(value);
    else options.retries = parseInteger(NAME, 'retries', value, 1, 10);
  }
  checkPrefix(options.prefix);
  return options;
}

function parseTimeout(value: string): number {
  const ms = parseDurationMs(NAME, 'timeout', value);
  if (ms < 10 || ms > 60_000) throw configError(NAME, `timeout must be between 10ms and 60s, got ${shownValue(value)}`);
  return ms;
}

/** checkPrefix refuses a prefix that would make an invalid memcached key with the longest id. */
function checkPrefix(prefix: string): void {
  if (!/^[\x21-\x7e]*$/.test(prefix)) {
    throw configError(NAME, 'prefix may hold only printable ASCII without spaces or control characters (memcached key rules)');
  }
  const room = MAX_KEY_BYTES - MAX_ID_LENGTH;
  if (prefix.length > room) {
    throw configError(NAME, `prefix is ${prefix.length} bytes; memcached keys are at most ${MAX_KEY_BYTES} bytes, so it may be at most ${room}`);
  }
}
