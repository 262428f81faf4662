import { readFile } from 'node:fs/promises';
import type { ClientBase, Pool, PoolConfig, QueryResult } from 'pg';
import { configError, decodeComponent, givenTwiceError, parseInteger, rejectUnknown, shownName, shownValue } from '../../config/dsn.ts';
import { SessionError } from '../../src/errors.ts';
import { loadOptional } from '../../src/load.ts';
import type { OpenOptions, Provider, Store } from '../../src/provider.ts';
import { register } from '../../src/registry.ts';
import {
  DEFAULT_TABLE,
  deleteInBatches,
  expiryIndexName,
  formatTableName,
  GC_BATCH,
  indexExpiryIndexName,
  indexKeyHash,
  indexTable,
  parseTableName,
  quoteTable,
  sqlStoreError,
  type SqlTable,
} from '../../src/sql-table.ts';

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

/** address names where the store connects, for messages: `host:port`, never credentials. */
function address(options: PostgresOptions): string {
  return options.host.includes(':') ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
}

/**
 * PostgresStore keeps each session as one row of `(sid, data, expires_at)`, and each index entry
 * as one row of `(key_hash, sid, expires_at)` in the index table beside it. Every expiry decision
 * reads the application clock (`OpenOptions.now`), passed into each statement, so clock skew
 * between the application and the database never expires a session early or keeps it alive.
 */
export class PostgresStore implements Store {
  private readonly pool: Pool;
  private readonly options: PostgresOptions;
  private readonly now: () => number;
  private readonly table: string;
  private readonly index: string;
  private closed: Promise<void> | undefined;

  constructor(pool: Pool, options: PostgresOptions, openOptions: OpenOptions) {
    this.pool = pool;
    this.options = options;
    this.now = openOptions.now ?? Date.now;
    this.table = quoteTable(options.table, '"');
    this.index = quoteTable(indexTable(options.table), '"');
  }

  async get(sid: string): Promise<string | undefined> {
    const result = await this.query<{ data: string }>('get', `SELECT data FROM ${this.table} WHERE sid = $1 AND expires_at > $2`, [sid, this.now()]);
    return result.rows[0]?.data;
  }

  async set(sid: string, record: string, expiresAt: number): Promise<void> {
    if (expiresAt <= this.now()) return this.destroy(sid);
    await this.query(
      'set',
      `INSERT INTO ${this.table} (sid, data, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (sid) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at`,
      [sid, record, expiresAt],
    );
  }

  async destroy(sid: string): Promise<void> {
    await this.query('destroy', `DELETE FROM ${this.table} WHERE sid = $1`, [sid]);
  }

  async compareAndSet(sid: string, expected: string | undefined, record: string, expiresAt: number): Promise<boolean> {
    // Both statements lock the row, and READ COMMITTED re-checks the WHERE clause against the
    // newest version after waiting, so of many writers expecting one record exactly one wins.
    const result =
      expected === undefined
        ? await this.query(
            'compareAndSet',
            `INSERT INTO ${this.table} AS s (sid, data, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (sid) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at
             WHERE s.expires_at <= $4`,
            [sid, record, expiresAt, this.now()],
          )
        : await this.query(
            'compareAndSet',
            `UPDATE ${this.table} SET data = $3, expires_at = $4 WHERE sid = $1 AND data = $2 AND expires_at > $5`,
            [sid, expected, record, expiresAt, this.now()],
          );
    return result.rowCount === 1;
  }

  async touch(sid: string, expiresAt: number): Promise<void> {
    await this.query('touch', `UPDATE ${this.table} SET expires_at = $2 WHERE sid = $1 AND expires_at > $3`, [sid, expiresAt, this.now()]);
  }

  async regenerate(oldSid: string, newSid: string): Promise<void> {
    const move = () => this.query('regenerate', `UPDATE ${this.table} SET sid = $2 WHERE sid = $1 AND expires_at > $3`, [oldSid, newSid, this.now()]);
    try {
      await move();
    } catch (err) {
      // Only an expired row left at the new id (not yet collected) may be replaced.
      if (!(err instanceof SessionError) || (err.cause as { code?: string } | undefined)?.code !== '23505') throw err;
      const stale = await this.query('regenerate', `DELETE FROM ${this.table} WHERE sid = $1 AND expires_at <= $2`, [newSid, this.now()]);
      if (stale.rowCount !== 1) throw new SessionError('ERR_SESSION_STORE', 'session/postgres: regenerate failed: the new id is already in use');
      await move();
    }
  }

  async indexAdd(key: string, sid: string, expiresAt: number): Promise<void> {
    await this.query(
      'indexAdd',
      `INSERT INTO ${this.index} (key_hash, sid, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (key_hash, sid) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
      [indexKeyHash(NAME, key), sid, expiresAt],
    );
  }

  async indexRemove(key: string, sid: string): Promise<void> {
    await this.query('indexRemove', `DELETE FROM ${this.index} WHERE key_hash = $1 AND sid = $2`, [indexKeyHash(NAME, key), sid]);
  }

  async indexList(key: string): Promise<string[]> {
    const result = await this.query<{ sid: string }>('indexList', `SELECT sid FROM ${this.index} WHERE key_hash = $1 AND expires_at > $2`, [
      indexKeyHash(NAME, key),
      this.now(),
    ]);
    return result.rows.map((row) => row.sid);
  }

  async count(): Promise<number> {
    const result = await this.query<{ n: string }>('count', `SELECT count(*) AS n FROM ${this.table} WHERE expires_at > $1`, [this.now()]);
    return Number(result.rows[0]?.n ?? 0);
  }

  /** clear empties both tables in one statement (a data-modifying WITH), so it is atomic. */
  async clear(): Promise<void> {
    await this.query('clear', `WITH sessions AS (DELETE FROM ${this.table}) DELETE FROM ${this.index}`, []);
  }

  /** gc deletes expired sessions, then expired index entries, 1000 rows a statement through each expiry index. */
  async gc(): Promise<void> {
    const now = this.now();
    await deleteInBatches(() => this.deleteExpired(this.table, 'sid', now));
    await deleteInBatches(() => this.deleteExpired(this.index, 'key_hash, sid', now));
  }

  async close(): Promise<void> {
    this.closed ??= this.pool.end().catch(() => undefined);
    await this.closed;
  }

  /**
   * deleteExpired deletes up to GC_BATCH rows of `table` (primary key `columns`) that expired by
   * `now`. SKIP LOCKED lets several processes collect at once without waiting on each other.
   */
  private async deleteExpired(table: string, columns: string, now: number): Promise<number> {
    const result = await this.query(
      'gc',
      `DELETE FROM ${table} WHERE (${columns}) IN (
         SELECT ${columns} FROM ${table} WHERE expires_at <= $1 LIMIT ${GC_BATCH} FOR UPDATE SKIP LOCKED
       ) AND expires_at <= $1`,
      [now],
    );
    return result.rowCount ?? 0;
  }

  private async query<R extends object = object>(action: string, sql: string, params: unknown[]): Promise<QueryResult<R>> {
    if (this.closed) throw new SessionError('ERR_SESSION_CLOSED', `session/postgres: ${action} after close`);
    try {
      return await this.pool.query<R>(sql, params);
    } catch (err) {
      throw this.fail(action, err);
    }
  }

  private fail(action: string, cause: unknown): SessionError {
    return sqlStoreError(NAME, `${action} on ${address(this.options)}`, cause, this.options.password);
  }
}

/** createTableSql is the DDL of the sessions table and the index table, each with its expiry index; schema.sql holds the same. */
function createTableSql(table: SqlTable): string[] {
  const sessions = quoteTable(table, '"');
  const index = quoteTable(indexTable(table), '"');
  return [
    `CREATE TABLE IF NOT EXISTS ${sessions} (
       sid        VARCHAR(128) COLLATE "C" PRIMARY KEY,
       data       TEXT NOT NULL,
       expires_at BIGINT NOT NULL
     )`,
    `CREATE INDEX IF NOT EXISTS "${expiryIndexName(table)}" ON ${sessions} (expires_at)`,
    `CREATE TABLE IF NOT EXISTS ${index} (
       key_hash   BYTEA NOT NULL,
       sid        VARCHAR(128) COLLATE "C" NOT NULL,
       expires_at BIGINT NOT NULL,
       PRIMARY KEY (key_hash, sid)
     )`,
    `CREATE INDEX IF NOT EXISTS "${indexExpiryIndexName(table)}" ON ${index} (expires_at)`,
  ];
}

/** createTable creates the tables and their expiry indexes if missing; an advisory lock serialises racing processes. */
async function createTable(pool: Pool, options: PostgresOptions): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`sessionkit:${formatTableName(options.table)}`]);
    for (const sql of createTableSql(options.table)) await client.query(sql);
    await client.query('COMMIT');
    client.release();
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release(err as Error);
    throw err;
  }
}

/**
 * checkClientConnection has the server poll, every second while a statement runs, whether this
 * connection is still open (PostgreSQL 14+, `client_connection_check_interval`). Without it, a
 * statement whose connection was lost while it waited on a row lock still applies once it gets
 * the lock, seconds after its request was answered with a failure; with it, the server ends the
 * statement and rolls it back. Older servers refuse the setting, and then work as before.
 */
async function checkClientConnection(client: ClientBase): Promise<void> {
  await client.query('SET client_connection_check_interval = 1000').catch(() => undefined);
}

async function sslConfig(options: PostgresOptions): Promise<PoolConfig['ssl']> {
  if (options.sslmode === 'disable') return false;
  if (options.sslmode === 'require') return { rejectUnauthorized: false };
  const ca = options.sslrootcert === undefined ? undefined : await readFile(options.sslrootcert, 'utf8');
  return options.sslmode === 'verify-ca' ? { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined } : { ca, rejectUnauthorized: true };
}

/**
 * provider opens a {@link PostgresStore} on a `pg` pool of up to 10 connections: it connects and
 * creates the tables and indexes if missing, failing within the connect timeout with an
 * `ERR_SESSION_STORE` error that names `host:port` (never the password) when the server is down.
 */
export const provider: Provider = {
  async open(config, openOptions) {
    const options = parseConfig(config);
    const pg = await loadOptional<typeof import('pg')>(NAME, 'pg');
    const Pool = pg.Pool ?? (pg as unknown as { default: typeof import('pg') }).default.Pool;
    let ssl: PoolConfig['ssl'];
    try {
      ssl = await sslConfig(options);
    } catch (cause) {
      throw configError(NAME, 'cannot read the sslrootcert file', cause);
    }
    const pool = new Pool({
      host: options.host,
      port: options.port,
      user: options.user,
      password: options.password,
      database: options.database,
      ssl,
      application_name: options.applicationName,
      connectionTimeoutMillis: options.connectTimeoutMs,
      statement_timeout: options.queryTimeoutMs,
      query_timeout: options.queryTimeoutMs + 1000,
      keepAlive: true,
      max: 10,
      idleTimeoutMillis: 30_000,
      onConnect: checkClientConnection,
    });
    // An idle client that loses its server emits 'error' on the pool, which removes it; without a
    // listener that event would crash the process. The next query opens a fresh connection.
    pool.on('error', () => undefined);
    try {
      await createTable(pool, options);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw sqlStoreError(NAME, `connect to ${address(options)}`, err, options.password);
    }
    return new PostgresStore(pool, options, openOptions);
  },
};

register('postgres', provider);
