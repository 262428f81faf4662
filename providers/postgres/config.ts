import { configError, decodeComponent, givenTwiceError, parseInteger, rejectUnknown, shownName, shownValue } from '../shared/dsn.ts';
import { DEFAULT_TABLE, parseTableName, type SqlTable } from '../shared/sql-table.ts';

const NAME = 'postgres';

/** SslMode lists the lib/pq `sslmode` values sessionkit can honour with node-postgres. */
export type SslMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

/**
 * PostgresOptions is what {@link parseConfig} reads from a provider config string. Durations are
 * milliseconds; `user`, `password` and `database` stay undefined when the string omits them, so
 * node-postgres falls back to `PGUSER`, `PGPASSWORD`, `PGDATABASE` and the login name as lib/pq does.
 */
export interface PostgresOptions {
  /** host is a name, an address, or a directory holding the Unix socket; default `localhost`. */
  host: string;
  /** port defaults to 5432. */
  port: number;
  user?: string;
  password?: string;
  /** database is lib/pq's `dbname`. */
  database?: string;
  /**
   * sslmode: `disable` (default, plain TCP), `require` (TLS without certificate checks, as lib/pq),
   * `verify-ca` (certificate checked, host name not) or `verify-full` (both checked).
   */
  sslmode: SslMode;
  /** sslrootcert is a PEM file of trusted CAs for the verify modes, read by `open()`. */
  sslrootcert?: string;
  /** connectTimeoutMs bounds each new connection (lib/pq `connect_timeout`, seconds); default 5000; 0 waits forever. */
  connectTimeoutMs: number;
  /** queryTimeoutMs bounds each statement, on the server and on the client (`statement_timeout`, ms); default 10000. */
  queryTimeoutMs: number;
  applicationName?: string;
  /** table holds the sessions; default `sessionkit_sessions`, optionally `schema.table`. */
  table: SqlTable;
}

/** KEYS are the keys accepted in both config forms (URL query parameters use the same names). */
const KEYS = ['host', 'port', 'user', 'password', 'dbname', 'sslmode', 'sslrootcert', 'connect_timeout', 'statement_timeout', 'application_name', 'table'] as const;
const SSL_MODES: readonly SslMode[] = ['disable', 'require', 'verify-ca', 'verify-full'];

/**
 * parseConfig reads a PostgreSQL provider config, pure: either the lib/pq key/value form
 * `user=postgres password= host=127.0.0.1 port=5432 dbname=test sslmode=disable` (values may be
 * single-quoted with `\'` and `\\` escapes; `key=` followed by another key is an empty value) or a
 * `postgres://user:pass@host:port/db?sslmode=…&table=…` URL (`postgresql://` too). Both accept the
 * keys host, port, user, password, dbname, sslmode, sslrootcert, connect_timeout, statement_timeout,
 * application_name and table. An unknown key, a key given twice, a bad number or an unsafe table
 * name is an `ERR_SESSION_PROVIDER_CONFIG` error naming the key and never showing the password.
 * `sslmode` defaults to `disable` (lib/pq defaults to `require`; write it out to be explicit).
 */
export function parseConfig(config: string): PostgresOptions {
  const text = config.trim();
  if (text === '') {
    throw configError(NAME, 'provider config is empty; give a DSN such as "host=127.0.0.1 port=5432 user=postgres dbname=app sslmode=disable"');
  }
  const values = /^postgres(?:ql)?:\/\//i.test(text) ? urlValues(text) : conninfoValues(text);
  rejectUnknown(NAME, values.keys(), KEYS);

  const sslmode = values.get('sslmode') ?? 'disable';
  if (!(SSL_MODES as readonly string[]).includes(sslmode)) {
    throw configError(NAME, `sslmode must be one of ${SSL_MODES.join(', ')}, got ${shownValue(sslmode)}`);
  }
  const options: PostgresOptions = {
    host: values.get('host') || 'localhost',
    port: values.has('port') ? parseInteger(NAME, 'port', values.get('port')!, 1, 65535) : 5432,
    sslmode: sslmode as SslMode,
    connectTimeoutMs: values.has('connect_timeout') ? parseInteger(NAME, 'connect_timeout', values.get('connect_timeout')!, 0, 3600) * 1000 : 5000,
    // lib/pq passes keys it does not know, such as statement_timeout, to the server as settings (ms).
    queryTimeoutMs: values.has('statement_timeout') ? parseInteger(NAME, 'statement_timeout', values.get('statement_timeout')!, 1, 3_600_000) : 10_000,
    table: parseTableName(NAME, values.get('table') ?? DEFAULT_TABLE, true),
  };
  const optional = { user: 'user', password: 'password', database: 'dbname', sslrootcert: 'sslrootcert', applicationName: 'application_name' } as const;
  for (const [field, key] of Object.entries(optional)) {
    const value = values.get(key);
    if (value !== undefined && value !== '') options[field as keyof typeof optional] = value;
  }
  if (options.sslrootcert !== undefined && options.sslmode === 'disable') {
    throw configError(NAME, 'sslrootcert needs sslmode=verify-ca or sslmode=verify-full');
  }
  return options;
}

/** conninfoValues splits the lib/pq key/value form; messages never echo a value. */
function conninfoValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const isSpace = (ch: string | undefined) => ch !== undefined && /\s/.test(ch);
  let i = 0;
  const skipSpaces = () => {
    while (isSpace(text[i])) i++;
  };
  for (skipSpaces(); i < text.length; skipSpaces()) {
    let key = '';
    while (i < text.length && !isSpace(text[i]) && text[i] !== '=') key += text[i++];
    skipSpaces();
    if (text[i] !== '=' || key === '') {
      // The stray word may be the tail of an unquoted password: name it only if it is a known key.
      const shown = (KEYS as readonly string[]).includes(key.toLowerCase()) ? ` after ${key}` : '';
      throw configError(NAME, `expected key=value${shown}; quote values that contain spaces, as in password='a b'`);
    }
    i++;
    const valueStart = i;
    skipSpaces();
    // `password= host=x` means an empty password (a templated config), although lib/pq would
    // read "host=x" as the password; `host = x` still means host x.
    const next = /^([A-Za-z_]+)\s*=/.exec(text.slice(i));
    const emptyValue = i > valueStart && next !== null && (KEYS as readonly string[]).includes(next[1]!.toLowerCase());
    let value = '';
    if (emptyValue || i >= text.length) {
      // empty value
    } else if (text[i] === "'") {
      for (i++; i < text.length && text[i] !== "'"; i++) {
        if (text[i] === '\\') i++;
        value += text[i] ?? '';
      }
      if (text[i] !== "'") throw configError(NAME, `unterminated quote in the value of ${shownName(key)}`);
      i++;
    } else {
      for (; i < text.length && !isSpace(text[i]); i++) {
        if (text[i] === '\\') i++;
        value += text[i] ?? '';
      }
    }
    const name = key.toLowerCase();
    if (out.has(name)) throw givenTwiceError(NAME, key);
    out.set(name, value);
  }
  return out;
}

/** urlValues maps a `postgres://` URL onto the key/value names; messages never echo the URL. */
function urlValues(text: string): Map<string, string> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // TypeError keeps the whole URL, password included, in its `input`: it is not kept as the cause.
    throw configError(NAME, 'invalid postgres:// URL (percent-encode special characters in the user name and password)');
  }
  const out = new Map<string, string>();
  const put = (key: string, value: string) => {
    if (out.has(key)) throw givenTwiceError(NAME, key);
    out.set(key, value);
  };
  if (url.hostname) put('host', url.hostname.replace(/^\[(.*)\]$/, '$1'));
  if (url.port) put('port', url.port);
  if (url.username) put('user', decodeComponent(NAME, 'user', url.username));
  if (url.password) put('password', decodeComponent(NAME, 'password', url.password));
  const path = url.pathname.replace(/^\//, '');
  if (path.includes('/')) throw configError(NAME, 'the URL path must be just the database name');
  if (path) put('dbname', decodeComponent(NAME, 'dbname', path));
  for (const [key, value] of url.searchParams) put(key.toLowerCase(), value);
  return out;
}
