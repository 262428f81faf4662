import { configError, decodeComponent, givenTwiceError, parseBoolean, parseDurationMs, parseHostPort, parseInteger, shownValue, unknownOptionError } from '../shared/dsn.ts';
import { DEFAULT_TABLE, parseTableName, type SqlTable } from '../shared/sql-table.ts';

const NAME = 'mysql';

/** MysqlTls lists the go-sql-driver `tls` values sessionkit honours: off, verified, or unverified. */
export type MysqlTls = 'false' | 'true' | 'skip-verify';

/**
 * MysqlOptions is what {@link parseConfig} reads from a provider config string. Exactly one of
 * `host`/`port` and `socketPath` is set. Durations are milliseconds.
 */
export interface MysqlOptions {
  /** host and port of a TCP server; default `127.0.0.1:3306` as in go-sql-driver. */
  host?: string;
  port?: number;
  /** socketPath is set by the `unix(/path)` protocol; go-sql-driver's default is `/tmp/mysql.sock`. */
  socketPath?: string;
  user?: string;
  password?: string;
  /** database is required: the sessions table lives in it. */
  database: string;
  /** tls: `false` (default), `true` (certificate verified) or `skip-verify`. */
  tls: MysqlTls;
  /** connectTimeoutMs is go-sql-driver's `timeout`; default 5000. */
  connectTimeoutMs: number;
  /** queryTimeoutMs is go-sql-driver's `readTimeout`, bounding each statement; default 10000. */
  queryTimeoutMs: number;
  /** table holds the sessions; default `sessionkit_sessions`. */
  table: SqlTable;
}

type ParamKind = 'bool' | 'duration' | 'int' | 'text';

/**
 * IGNORED_PARAMS are go-sql-driver parameters accepted so existing DSNs keep working, checked
 * for shape, and otherwise ignored: the provider always talks utf8mb4 (so `charset=utf8` cannot
 * mangle 4-byte characters), never enables multi-statements or LOAD DATA LOCAL, and reads no dates.
 */
const IGNORED_PARAMS: Record<string, ParamKind> = {
  charset: 'text',
  collation: 'text',
  parseTime: 'bool',
  loc: 'text',
  writeTimeout: 'duration',
  timeTruncate: 'duration',
  allowAllFiles: 'bool',
  allowCleartextPasswords: 'bool',
  allowFallbackToPlaintext: 'bool',
  allowNativePasswords: 'bool',
  allowOldPasswords: 'bool',
  checkConnLiveness: 'bool',
  clientFoundRows: 'bool',
  columnsWithAlias: 'bool',
  interpolateParams: 'bool',
  multiStatements: 'bool',
  rejectReadOnly: 'bool',
  maxAllowedPacket: 'int',
  serverPubKey: 'text',
  connectionAttributes: 'text',
};
const USED_PARAMS = ['timeout', 'readTimeout', 'tls', 'table'];
const ALL_PARAMS = [...USED_PARAMS, ...Object.keys(IGNORED_PARAMS)];

/**
 * parseConfig reads a MySQL / MariaDB provider config, pure: the go-sql-driver DSN
 * `user:password@tcp(127.0.0.1:3306)/dbname?charset=utf8&parseTime=true&timeout=5s`
 * (also `unix(/run/mysqld/mysqld.sock)`, and a password may hold `@ : / ,` because the credentials
 * end at the last `@` before the protocol) or a `mysql://user:pass@host:3306/db?…` URL. Used
 * parameters: `timeout` (connect), `readTimeout` (per statement), `tls` (`true`, `false`,
 * `skip-verify`) and `table`; the other go-sql-driver parameters are checked and ignored, and an
 * unknown one is an `ERR_SESSION_PROVIDER_CONFIG` error naming it (go-sql-driver would send it as
 * a system variable). No message ever shows the password.
 */
export function parseConfig(config: string): MysqlOptions {
  const text = config.trim();
  if (text === '') throw configError(NAME, 'provider config is empty; give a DSN such as "user:password@tcp(127.0.0.1:3306)/app"');
  const dsn = /^mysql:\/\//i.test(text) ? splitUrl(text) : splitDsn(text);
  if (!dsn.database) throw configError(NAME, 'the database name is missing (…/dbname)');

  const options: MysqlOptions = {
    database: dsn.database,
    tls: 'false',
    connectTimeoutMs: 5000,
    queryTimeoutMs: 10_000,
    table: parseTableName(NAME, DEFAULT_TABLE, false),
  };
  if (dsn.user) options.user = dsn.user;
  if (dsn.password) options.password = dsn.password;
  if (dsn.socketPath !== undefined) options.socketPath = dsn.socketPath;
  else Object.assign(options, parseHostPort(NAME, 'address', dsn.address || '127.0.0.1:3306', 3306));

  for (const [key, value] of dsn.params) {
    const kind = IGNORED_PARAMS[key];
    if (kind === 'bool') parseBoolean(NAME, key, value);
    else if (kind === 'duration') parseDurationMs(NAME, key, value);
    else if (kind === 'int') parseInteger(NAME, key, value);
    else if (key === 'timeout') options.connectTimeoutMs = parseDurationMs(NAME, key, value);
    else if (key === 'readTimeout') options.queryTimeoutMs = parseDurationMs(NAME, key, value);
    else if (key === 'table') options.table = parseTableName(NAME, value, false);
    else if (key === 'tls') {
      if (value !== 'true' && value !== 'false' && value !== 'skip-verify') {
        throw configError(NAME, `tls must be true, false or skip-verify, got ${shownValue(value)}`);
      }
      options.tls = value;
    } else if (kind === undefined) {
      throw unknownOptionError(NAME, key, ALL_PARAMS);
    }
  }
  return options;
}

interface DsnParts {
  user?: string;
  password?: string;
  address?: string;
  socketPath?: string;
  database: string;
  params: Map<string, string>;
}

/** splitDsn splits a go-sql-driver DSN the way its ParseDSN does; messages never echo credentials. */
function splitDsn(text: string): DsnParts {
  const slash = text.lastIndexOf('/');
  if (slash === -1) throw configError(NAME, 'expected a DSN such as user:password@tcp(host:3306)/dbname (no "/" found)');
  const left = text.slice(0, slash);
  const at = left.lastIndexOf('@');
  const parts: DsnParts = { database: '', params: new Map() };
  if (at !== -1) {
    const credentials = left.slice(0, at);
    const colon = credentials.indexOf(':');
    parts.user = colon === -1 ? credentials : credentials.slice(0, colon);
    if (colon !== -1) parts.password = credentials.slice(colon + 1);
  }
  const target = left.slice(at + 1);
  const paren = target.indexOf('(');
  const protocol = paren === -1 ? target : target.slice(0, paren);
  let address = '';
  if (paren !== -1) {
    if (!target.endsWith(')')) throw configError(NAME, 'the address must be written protocol(address), as in tcp(127.0.0.1:3306)');
    address = target.slice(paren + 1, -1);
  }
  if (protocol === 'unix') parts.socketPath = address || '/tmp/mysql.sock';
  else if (protocol === '' || protocol === 'tcp' || protocol === 'tcp6') parts.address = address;
  else {
    // A protocol that is not a plain word may be the tail of a password holding "/": do not echo it.
    const shown = /^\w+$/.test(protocol) ? ` ${JSON.stringify(protocol)}` : '';
    throw configError(NAME, `unsupported protocol${shown}; use tcp(host:port) or unix(/path/to/socket)`);
  }
  const rest = text.slice(slash + 1);
  const question = rest.indexOf('?');
  parts.database = decodeComponent(NAME, 'dbname', question === -1 ? rest : rest.slice(0, question));
  if (question !== -1) parts.params = splitParams(rest.slice(question + 1));
  return parts;
}

/** splitUrl reads `mysql://user:pass@host:port/db?params` into the same parts as a DSN. */
function splitUrl(text: string): DsnParts {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // TypeError keeps the whole URL, password included, in its `input`: it is not kept as the cause.
    throw configError(NAME, 'invalid mysql:// URL (percent-encode special characters in the user name and password)');
  }
  const path = url.pathname.replace(/^\//, '');
  if (path.includes('/')) throw configError(NAME, 'the URL path must be just the database name');
  const parts: DsnParts = {
    address: url.host,
    database: decodeComponent(NAME, 'dbname', path),
    params: splitParams(url.search.replace(/^\?/, '')),
  };
  if (url.username) parts.user = decodeComponent(NAME, 'user', url.username);
  if (url.password) parts.password = decodeComponent(NAME, 'password', url.password);
  return parts;
}

/** splitParams reads `a=1&b=2`, decoding values as go's url.QueryUnescape does; a repeated key is an error. */
function splitParams(query: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw configError(NAME, 'expected key=value parameters after "?"');
    const key = pair.slice(0, eq);
    // go-sql-driver parameter names are camelCase; match them case-insensitively.
    const name = ALL_PARAMS.find((known) => known.toLowerCase() === key.toLowerCase()) ?? key;
    if (params.has(name)) throw givenTwiceError(NAME, name);
    params.set(name, decodeComponent(NAME, name, pair.slice(eq + 1).replace(/\+/g, ' ')));
  }
  return params;
}
