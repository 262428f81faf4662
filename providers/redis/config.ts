import {
  configError,
  decodeComponent,
  givenTwiceError,
  parseBoolean,
  parseDurationMs,
  parseHostPort,
  parseInteger,
  parseKeyValues,
  rejectUnknown,
  shownName,
  shownValue,
  type HostPort,
} from '../shared/dsn.ts';
import type { SessionError } from '../../src/errors.ts';

const NAME = 'redis';

/** RedisMode is the deployment the store talks to: one server, a Redis Cluster, or a primary found through Sentinel. */
export type RedisMode = 'standalone' | 'cluster' | 'sentinel';

/**
 * RedisOptions is the parsed provider config. Durations are milliseconds. `poolSize`,
 * `idleTimeoutMs` and `idleCheckFrequencyMs` come from the Go configs (the size of go-redis's
 * connection pool and when it closes idle connections) and are validated but ignored: every
 * connection is multiplexed (ioredis's one per server, and a standalone store's request
 * connection), so there is no pool to size and no idle connection to close.
 */
export interface RedisOptions {
  /** mode is `standalone` (one address), `cluster` (seed nodes) or `sentinel` (sentinel addresses). */
  mode: RedisMode;
  /** nodes are the server, the cluster seed nodes, or the sentinels, in config order. */
  nodes: HostPort[];
  /** masterName is the Sentinel master name; present only in sentinel mode. */
  masterName?: string;
  /** username is the Redis 6 ACL user; absent means the default user. */
  username?: string;
  /** password authenticates against Redis (and, in sentinel mode, the primary it names). */
  password?: string;
  /** sentinelPassword authenticates against the sentinels themselves; absent means none. */
  sentinelPassword?: string;
  /** db is the logical database; default 0, and always 0 in cluster mode. */
  db: number;
  /** prefix starts every session key; default `session:`, never empty. */
  prefix: string;
  /** tls turns on TLS (`rediss://`, `tls=true`); the certificate is verified unless {@link tlsSkipVerify}. */
  tls: boolean;
  /** tlsSkipVerify disables certificate verification (`tls_skip_verify=true`); default false. */
  tlsSkipVerify: boolean;
  /** connectTimeoutMs bounds one connection attempt (`dial_timeout`); default 3000. */
  connectTimeoutMs: number;
  /** commandTimeoutMs bounds one command (max of `read_timeout` and `write_timeout`); default 3000. */
  commandTimeoutMs: number;
  /** maxRetries is how many reconnect attempts a queued command waits through (`max_retries`); default 0: it fails when the next attempt does. */
  maxRetries: number;
  /**
   * waitReplicas is how many replicas must confirm each write (`wait_replicas`, Redis `WAIT`)
   * before it succeeds; present only when above 0. Fewer confirmations within
   * {@link waitTimeoutMs} fail the call, though the primary has applied the write.
   */
  waitReplicas?: number;
  /** waitTimeoutMs bounds the wait for replica confirmations (`wait_timeout`); default 100, present only with {@link waitReplicas}. */
  waitTimeoutMs?: number;
  /** poolSize is accepted from the Go configs and ignored. */
  poolSize?: number;
  /** idleTimeoutMs is accepted from the Go configs and ignored. */
  idleTimeoutMs?: number;
  /** idleCheckFrequencyMs is accepted from the Go configs and ignored. */
  idleCheckFrequencyMs?: number;
}

/** DEFAULT_PREFIX is the key prefix used when the config names none. */
export const DEFAULT_PREFIX = 'session:';
const DEFAULT_PORT = 6379;
const DEFAULT_SENTINEL_PORT = 26379;
const DEFAULT_TIMEOUT_MS = 3000;
const DEFAULT_WAIT_TIMEOUT_MS = 100;
const MAX_DB = 2_147_483_647;

/** Fields gathered by one dialect before the shared checks in {@link finish}. */
interface Draft {
  mode: RedisMode;
  nodes: HostPort[];
  masterName?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  sentinelPassword?: string | undefined;
  db?: number | undefined;
  prefix?: string | undefined;
  tls?: boolean | undefined;
  tlsSkipVerify?: boolean | undefined;
  connectTimeoutMs?: number | undefined;
  readTimeoutMs?: number | undefined;
  writeTimeoutMs?: number | undefined;
  maxRetries?: number | undefined;
  waitReplicas?: number | undefined;
  waitTimeoutMs?: number | undefined;
  poolSize?: number | undefined;
  idleTimeoutMs?: number | undefined;
  idleCheckFrequencyMs?: number | undefined;
}

/**
 * parseConfig reads the redis provider config in any of the forms users already have, and is
 * pure (it never connects). The form is chosen by the first characters:
 *
 * - `{` — beego JSON: `{"save_path":"127.0.0.1:6379","poolsize":100,"password":"","db_num":0,
 *   "idle_timeout":"30s","idle_check_frequency":"60s","max_retries":3}`; a `;` in `save_path`
 *   means cluster, a `"master_name"` means sentinel.
 * - `scheme://` — `redis://[user][:pass]@host[:port][/db][?opts]`, `rediss://` (TLS),
 *   `redis+cluster://h1:7000,h2:7001[/0]?opts`, `redis+sentinel://h1:26379,h2:26379/<master>[/db]?opts`
 *   (and `rediss+…`); ports default to 6379 (26379 for sentinels).
 * - `key=value,…` — macaron: `network=tcp,addr=127.0.0.1:6379,password=…,db=0,pool_size=100,
 *   idle_timeout=180,prefix=session:` (+ `tls=true`), or `ha_mode=sentinel,master_name=…,
 *   sentinel_addrs=h1:26379|h2:26379,…`; an unknown key is an error naming it.
 * - otherwise beego CSV: `addr,poolsize,password,dbnum[,idleTimeoutSec,idleCheckFreqSec,maxRetries]`;
 *   `h1:7000;h2:7001,…` is a cluster, and a 5th field that starts with a letter is a Sentinel
 *   master name (`h1:26379;h2:26379,100,pass,0,mymaster`).
 *
 * Empty config, bad numbers, missing ports, unknown keys and extra fields fail with
 * `ERR_SESSION_PROVIDER_CONFIG` naming the key; no message ever contains the password.
 */
export function parseConfig(config: string): RedisOptions {
  const text = config.trim();
  if (text === '') {
    throw configError(NAME, 'provider config is empty; give an address such as 127.0.0.1:6379 or redis://127.0.0.1:6379/0');
  }
  if (text.startsWith('{')) return finish(fromJson(text));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return finish(fromUrl(text));
  if ((text.split(',')[0] ?? '').includes('=')) return finish(fromKeyValues(text));
  return finish(fromCsv(text));
}

/** finish applies the defaults and the checks every dialect shares, and drops absent fields. */
function finish(draft: Draft): RedisOptions {
  const db = draft.db ?? 0;
  if (draft.mode === 'cluster' && db !== 0) throw configError(NAME, `db must be 0 in cluster mode, got ${db}`);
  if (draft.mode === 'sentinel' && !draft.masterName) throw configError(NAME, 'master_name is required in sentinel mode');
  const prefix = draft.prefix ?? DEFAULT_PREFIX;
  if (prefix === '') {
    // beego's raw-id keys: count and clear would then take any key that looks like a session id.
    throw configError(NAME, 'prefix must not be empty: count and clear find this store\'s keys by it, and with none they would count and delete every key in the database that looks like a session id; keep the default session: or name your own');
  }
  if (/[\s\0]/.test(prefix)) throw configError(NAME, 'prefix must not contain whitespace or control characters');
  const tls = draft.tls ?? false;
  const tlsSkipVerify = draft.tlsSkipVerify ?? false;
  if (tlsSkipVerify && !tls) throw configError(NAME, 'tls_skip_verify needs TLS (rediss:// or tls=true)');
  const options: RedisOptions = {
    mode: draft.mode,
    nodes: draft.nodes,
    db,
    prefix,
    tls,
    tlsSkipVerify,
    connectTimeoutMs: draft.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    commandTimeoutMs: Math.max(draft.readTimeoutMs ?? DEFAULT_TIMEOUT_MS, draft.writeTimeoutMs ?? DEFAULT_TIMEOUT_MS),
    maxRetries: draft.maxRetries ?? 0,
  };
  if (draft.mode === 'sentinel') options.masterName = draft.masterName!;
  if (draft.waitTimeoutMs !== undefined && !draft.waitReplicas) throw configError(NAME, 'wait_timeout needs wait_replicas of 1 or more');
  if (draft.waitReplicas) {
    options.waitReplicas = draft.waitReplicas;
    options.waitTimeoutMs = draft.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  }
  if (draft.username) options.username = draft.username;
  if (draft.password) options.password = draft.password;
  if (draft.sentinelPassword) options.sentinelPassword = draft.sentinelPassword;
  if (draft.poolSize !== undefined) options.poolSize = draft.poolSize;
  if (draft.idleTimeoutMs !== undefined) options.idleTimeoutMs = draft.idleTimeoutMs;
  if (draft.idleCheckFrequencyMs !== undefined) options.idleCheckFrequencyMs = draft.idleCheckFrequencyMs;
  return options;
}

/** Parsers for the options whose names are the same in every dialect. */
const SHARED: Record<string, (draft: Draft, value: string, key: string) => void> = {
  prefix: (d, v) => (d.prefix = v),
  username: (d, v) => (d.username = v),
  sentinel_password: (d, v) => (d.sentinelPassword = v),
  master_name: (d, v) => (d.masterName = v),
  tls_skip_verify: (d, v, k) => (d.tlsSkipVerify = parseBoolean(NAME, k, v)),
  dial_timeout: (d, v, k) => (d.connectTimeoutMs = positiveDuration(k, v)),
  read_timeout: (d, v, k) => (d.readTimeoutMs = positiveDuration(k, v)),
  write_timeout: (d, v, k) => (d.writeTimeoutMs = positiveDuration(k, v)),
  max_retries: (d, v, k) => (d.maxRetries = Math.max(0, parseInteger(NAME, k, v, -1, 100))),
  wait_replicas: (d, v, k) => (d.waitReplicas = parseInteger(NAME, k, v, 0, 100)),
  // WAIT counts milliseconds, so a bare number here does too.
  wait_timeout: (d, v, k) => (d.waitTimeoutMs = positiveDuration(k, v, 'ms')),
  pool_size: (d, v, k) => (d.poolSize = parseInteger(NAME, k, v, 0, 1_000_000)),
  idle_timeout: (d, v, k) => (d.idleTimeoutMs = parseDurationMs(NAME, k, v)),
  idle_check_frequency: (d, v, k) => (d.idleCheckFrequencyMs = parseDurationMs(NAME, k, v)),
  db: (d, v, k) => (d.db = parseInteger(NAME, k, v, 0, MAX_DB)),
};

function positiveDuration(key: string, value: string, bareUnit: 's' | 'ms' = 's'): number {
  const ms = parseDurationMs(NAME, key, value, bareUnit);
  if (ms <= 0) throw configError(NAME, `${key} must be greater than zero`);
  return ms;
}

function hostList(key: string, text: string, separator: string, defaultPort?: number): HostPort[] {
  const parts = text.split(separator).map((part) => part.trim());
  if (parts.some((part) => part === '')) throw configError(NAME, `${key} has an empty address`);
  return parts.map((part) => parseHostPort(NAME, key, part, defaultPort));
}

// ---- beego CSV -------------------------------------------------------------------------------

const CSV_FIELDS = ['pool_size', 'password', 'db', 'idle_timeout', 'idle_check_frequency', 'max_retries'] as const;

function fromCsv(text: string): Draft {
  const [addr = '', ...rest] = text.split(',');
  const sentinel = /^[A-Za-z_]/.test(rest[3]?.trim() ?? '');
  const names: string[] = sentinel
    ? ['pool_size', 'password', 'db', 'master_name', 'idle_timeout', 'idle_check_frequency', 'max_retries']
    : [...CSV_FIELDS];
  if (rest.length > names.length) {
    throw configError(NAME, `too many comma-separated fields (at most ${names.length + 1}: addr,poolsize,password,dbnum,…); percent-encode a password with commas in the redis:// URL form`);
  }
  const addrKey = 'addr (1st field)';
  const draft: Draft = {
    mode: sentinel ? 'sentinel' : addr.includes(';') ? 'cluster' : 'standalone',
    nodes: hostList(addrKey, addr, ';'),
  };
  rest.forEach((raw, i) => {
    const key = names[i]!;
    if (key === 'password') {
      if (raw !== '') draft.password = raw;
      return;
    }
    const value = raw.trim();
    if (value === '') return;
    // Fields after the password are never echoed: a password holding a comma spills into them.
    withoutValue(`${key} (${ordinal(i + 2)} field)`, () => SHARED[key]!(draft, value, key));
  });
  return draft;
}

function withoutValue(label: string, parse: () => void): void {
  try {
    parse();
  } catch (err) {
    const message = (err as SessionError).message;
    const rule = /must be [^,]*?(?=, got|$)/.exec(message)?.[0] ?? 'is invalid';
    throw configError(NAME, `${label} ${rule}`);
  }
}

function ordinal(n: number): string {
  return n === 1 ? '1st' : n === 2 ? '2nd' : n === 3 ? '3rd' : `${n}th`;
}

// ---- beego JSON ------------------------------------------------------------------------------

const JSON_KEYS: Record<string, string> = {
  save_path: 'save_path',
  poolsize: 'pool_size',
  password: 'password',
  db_num: 'db',
  idle_timeout: 'idle_timeout',
  idle_check_frequency: 'idle_check_frequency',
  max_retries: 'max_retries',
  master_name: 'master_name',
  username: 'username',
  sentinel_password: 'sentinel_password',
  prefix: 'prefix',
  tls: 'tls',
  tls_skip_verify: 'tls_skip_verify',
  dial_timeout: 'dial_timeout',
  read_timeout: 'read_timeout',
  write_timeout: 'write_timeout',
  wait_replicas: 'wait_replicas',
  wait_timeout: 'wait_timeout',
};

function fromJson(text: string): Draft {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The parser's own message quotes the input, password included, so it is not kept.
    throw configError(NAME, 'provider config starts with "{" but is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw configError(NAME, 'JSON provider config must be an object');
  }
  const entries = Object.entries(parsed as Record<string, unknown>);
  rejectUnknown(NAME, entries.map(([key]) => key), Object.keys(JSON_KEYS));
  const values = new Map<string, string>();
  for (const [key, value] of entries) {
    if (typeof value === 'string') values.set(key, value);
    else if (typeof value === 'number' || typeof value === 'boolean') values.set(key, String(value));
    else throw configError(NAME, `${key} must be a string or a number`);
  }
  const savePath = values.get('save_path');
  if (savePath === undefined || savePath.trim() === '') throw configError(NAME, 'save_path is required');
  const masterName = values.get('master_name');
  const draft: Draft = {
    mode: masterName ? 'sentinel' : savePath.includes(';') ? 'cluster' : 'standalone',
    nodes: hostList('save_path', savePath, ';'),
  };
  for (const [key, value] of values) {
    if (key === 'save_path') continue;
    if (key === 'password') {
      if (value !== '') draft.password = value;
    } else if (key === 'tls') {
      draft.tls = parseBoolean(NAME, key, value);
    } else if (key === 'master_name' || key === 'prefix' || key === 'username' || key === 'sentinel_password') {
      SHARED[key]!(draft, value, key);
    } else if (value.trim() !== '' || key === 'idle_timeout' || key === 'idle_check_frequency') {
      // beego fails on an empty duration string, so it is an error here too.
      SHARED[JSON_KEYS[key]!]!(draft, value, key);
    }
  }
  return draft;
}

// ---- macaron key=value -----------------------------------------------------------------------

const MACARON_KEYS = [
  'network',
  'addr',
  'password',
  'db',
  'pool_size',
  'idle_timeout',
  'prefix',
  'tls',
  'ha_mode',
  'master_name',
  'sentinel_addrs',
  'dial_timeout',
  'read_timeout',
  'write_timeout',
  'username',
  'sentinel_password',
  'tls_skip_verify',
  'max_retries',
  'idle_check_frequency',
  'wait_replicas',
  'wait_timeout',
];

function fromKeyValues(text: string): Draft {
  let pairs: Map<string, string>;
  try {
    pairs = parseKeyValues(NAME, text, ',');
  } catch (err) {
    // The helper quotes the offending entry, which may be the tail of a password holding a comma.
    const twice = /^session\/redis: (\S+) is given twice$/.exec((err as SessionError).message);
    if (twice && MACARON_KEYS.includes(twice[1]!.toLowerCase())) throw err;
    throw configError(NAME, 'expected comma-separated key=value pairs; values cannot contain "," (percent-encode them in the redis:// URL form)');
  }
  rejectUnknown(NAME, pairs.keys(), MACARON_KEYS);
  const network = pairs.get('network') ?? 'tcp';
  if (!['tcp', 'tcp4', 'tcp6'].includes(network)) throw configError(NAME, `network must be tcp, got ${shownValue(network)}`);
  const haMode = pairs.get('ha_mode') ?? '';
  if (haMode !== '' && haMode !== 'sentinel') throw configError(NAME, `ha_mode must be sentinel or empty, got ${shownValue(haMode)}`);
  let draft: Draft;
  if (haMode === 'sentinel') {
    if (pairs.has('addr')) throw configError(NAME, 'addr is not used with ha_mode=sentinel; list the sentinels in sentinel_addrs');
    const addrs = pairs.get('sentinel_addrs');
    if (!addrs) throw configError(NAME, 'sentinel_addrs is required with ha_mode=sentinel');
    draft = { mode: 'sentinel', nodes: hostList('sentinel_addrs', addrs, '|') };
  } else {
    if (pairs.has('sentinel_addrs')) throw configError(NAME, 'sentinel_addrs needs ha_mode=sentinel');
    if (pairs.has('master_name')) throw configError(NAME, 'master_name needs ha_mode=sentinel');
    const addr = pairs.get('addr');
    if (!addr) throw configError(NAME, 'addr is required');
    draft = { mode: 'standalone', nodes: [parseHostPort(NAME, 'addr', addr)] };
  }
  for (const [key, value] of pairs) {
    if (key === 'password') {
      if (value !== '') draft.password = value;
    } else if (key === 'tls') {
      draft.tls = parseBoolean(NAME, key, value);
    } else if (SHARED[key] && (value !== '' || key === 'prefix')) {
      SHARED[key](draft, value, key);
    }
  }
  return draft;
}

// ---- URLs ------------------------------------------------------------------------------------

const SCHEMES: Record<string, { mode: RedisMode; tls: boolean }> = {
  redis: { mode: 'standalone', tls: false },
  rediss: { mode: 'standalone', tls: true },
  'redis+cluster': { mode: 'cluster', tls: false },
  'rediss+cluster': { mode: 'cluster', tls: true },
  'redis+sentinel': { mode: 'sentinel', tls: false },
  'rediss+sentinel': { mode: 'sentinel', tls: true },
};

const QUERY_KEYS = [
  'db',
  'prefix',
  'master_name',
  'sentinel_password',
  'tls_skip_verify',
  'dial_timeout',
  'read_timeout',
  'write_timeout',
  'max_retries',
  'pool_size',
  'idle_timeout',
  'idle_check_frequency',
  'wait_replicas',
  'wait_timeout',
];

/**
 * fromUrl splits the URL by hand: WHATWG URL rejects the comma-separated host lists of the
 * cluster and sentinel forms, and its errors carry the input, password included.
 */
function fromUrl(text: string): Draft {
  const schemeEnd = text.indexOf('://');
  const scheme = text.slice(0, schemeEnd).toLowerCase();
  const kind = SCHEMES[scheme];
  if (!kind) throw configError(NAME, `unsupported URL scheme ${JSON.stringify(scheme)} (use ${Object.keys(SCHEMES).join(', ')})`);
  let rest = text.slice(schemeEnd + 3);
  if (rest.includes('#')) throw configError(NAME, 'URL must not have a #fragment; percent-encode "#" in a password as %23');
  const queryStart = rest.indexOf('?');
  const query = queryStart === -1 ? '' : rest.slice(queryStart + 1);
  rest = queryStart === -1 ? rest : rest.slice(0, queryStart);
  const pathStart = rest.indexOf('/');
  const path = pathStart === -1 ? '' : rest.slice(pathStart + 1);
  const authority = pathStart === -1 ? rest : rest.slice(0, pathStart);
  const at = authority.lastIndexOf('@');
  const hosts = authority.slice(at + 1);
  const userinfo = at === -1 ? undefined : authority.slice(0, at);

  let nodes: HostPort[];
  const defaultPort = kind.mode === 'sentinel' ? DEFAULT_SENTINEL_PORT : DEFAULT_PORT;
  try {
    nodes = hostList('URL host', hosts, ',', defaultPort);
  } catch (err) {
    // With credentials in play a malformed host may be a piece of an unencoded password.
    if (!text.includes('@')) throw err;
    throw configError(NAME, 'URL host must be host[:port][,host[:port]…]; percent-encode "@", "/", "?" and "#" in the password');
  }
  if (kind.mode === 'standalone' && nodes.length > 1) {
    throw configError(NAME, `${scheme}:// takes one host; use ${scheme}+cluster:// or ${scheme}+sentinel:// for several`);
  }
  const draft: Draft = { mode: kind.mode, nodes, tls: kind.tls };
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    const user = decodeComponent(NAME, 'URL username', colon === -1 ? userinfo : userinfo.slice(0, colon));
    if (user !== '' && user !== 'default') draft.username = user;
    if (colon !== -1) {
      const password = decodeComponent(NAME, 'URL password', userinfo.slice(colon + 1));
      if (password !== '') draft.password = password;
    }
  }

  const params = new Map<string, string>();
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decodeComponent(NAME, 'URL query', eq === -1 ? part : part.slice(0, eq)).toLowerCase();
    if (eq === -1) throw configError(NAME, `URL query option ${shownName(key, true)} needs a value`);
    if (params.has(key)) throw givenTwiceError(NAME, key);
    params.set(key, decodeComponent(NAME, key, part.slice(eq + 1)));
  }
  rejectUnknown(NAME, params.keys(), QUERY_KEYS);

  const segments = path === '' ? [] : path.replace(/\/$/, '').split('/').map((s) => decodeComponent(NAME, 'URL path', s));
  if (kind.mode === 'sentinel') {
    // /<master>[/<db>], or gitea's /<db>?master_name=<master>.
    const [first, second, ...extra] = segments;
    if (extra.length > 0) throw configError(NAME, 'URL path must be /<master_name>[/<db>]');
    if (params.has('master_name')) {
      if (second !== undefined) throw configError(NAME, 'URL path must be /<db> when master_name is in the query');
      if (first !== undefined) SHARED.db!(draft, first, 'db (URL path)');
    } else {
      if (first !== undefined && first !== '') draft.masterName = first;
      if (second !== undefined) SHARED.db!(draft, second, 'db (URL path)');
    }
  } else {
    if (segments.length > 1) throw configError(NAME, 'URL path must be /<db>');
    if (segments[0] !== undefined && segments[0] !== '') SHARED.db!(draft, segments[0], 'db (URL path)');
  }
  if (params.has('db') && draft.db !== undefined) throw configError(NAME, 'db is given both in the URL path and in the query');
  for (const [key, value] of params) {
    if (key === 'prefix' || value !== '') SHARED[key]!(draft, value, key);
  }
  return draft;
}
