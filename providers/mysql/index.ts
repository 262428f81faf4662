import type { Pool, PoolConnection, PoolOptions, ResultSetHeader, RowDataPacket } from 'mysql2';
import type { PoolConnection as PromisePoolConnection, Pool as PromisePool } from 'mysql2/promise';
import { configError, decodeComponent, givenTwiceError, parseBoolean, parseDurationMs, parseHostPort, parseInteger, shownValue, unknownOptionError } from '../../config/dsn.ts';
import { SessionError } from '../../src/errors.ts';
import { loadOptional } from '../../src/load.ts';
import type { OpenOptions, Provider, Store } from '../../src/provider.ts';
import { register } from '../../src/registry.ts';
import {
  DEFAULT_TABLE,
  deleteInBatches,
  expiryIndexName,
  GC_BATCH,
  indexExpiryIndexName,
  indexKeyHash,
  indexTable,
  parseTableName,
  quoteTable,
  sqlStoreError,
  type SqlTable,
} from '../../src/sql-table.ts';

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

/** address names where the store connects, for messages: `host:port` or the socket path, never credentials. */
function address(options: MysqlOptions): string {
  if (options.socketPath !== undefined) return options.socketPath;
  return options.host!.includes(':') ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
}

/** isDuplicate tells whether a wrapped driver error is a primary-key collision. */
function isDuplicate(err: unknown): boolean {
  return err instanceof SessionError && (err.cause as { code?: string } | undefined)?.code === 'ER_DUP_ENTRY';
}

/** MAX_RECORD is the capacity of a MEDIUMTEXT column in bytes. */
const MAX_RECORD = 16_777_215;

/**
 * MysqlStore keeps each session as one InnoDB row of `(sid, data, expires_at)`, and each index
 * entry as one row of `(key_hash, sid, expires_at)` in the index table beside it. Every statement
 * is a server-side prepared statement, and every expiry decision uses the application clock
 * (`OpenOptions.now`) passed in as a parameter, never the database's `NOW()`.
 */
export class MysqlStore implements Store {
  private readonly db: PromisePool;
  private readonly options: MysqlOptions;
  private readonly now: () => number;
  private readonly table: string;
  private readonly index: string;
  private closed: Promise<void> | undefined;

  constructor(pool: Pool, options: MysqlOptions, openOptions: OpenOptions) {
    this.db = pool.promise();
    this.options = options;
    this.now = openOptions.now ?? Date.now;
    this.table = quoteTable(options.table, '`');
    this.index = quoteTable(indexTable(options.table), '`');
  }

  async get(sid: string): Promise<string | undefined> {
    const rows = await this.run<RowDataPacket[]>('get', `SELECT data FROM ${this.table} WHERE sid = ? AND expires_at > ?`, [sid, this.now()]);
    return rows[0]?.data as string | undefined;
  }

  async set(sid: string, record: string, expiresAt: number): Promise<void> {
    if (expiresAt <= this.now()) return this.destroy(sid);
    this.checkSize('set', record);
    await this.run(
      'set',
      `INSERT INTO ${this.table} (sid, data, expires_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE data = ?, expires_at = ?`,
      [sid, record, expiresAt, record, expiresAt],
    );
  }

  async destroy(sid: string): Promise<void> {
    await this.run('destroy', `DELETE FROM ${this.table} WHERE sid = ?`, [sid]);
  }

  async compareAndSet(sid: string, expected: string | undefined, record: string, expiresAt: number): Promise<boolean> {
    this.checkSize('compareAndSet', record);
    if (expected !== undefined) {
      // An UPDATE reads the newest committed row under its lock, so one of many writers wins.
      // The BINARY comparison keeps trailing spaces significant (utf8mb4_bin pads on MariaDB).
      const result = await this.run<ResultSetHeader>(
        'compareAndSet',
        `UPDATE ${this.table} SET data = ?, expires_at = ? WHERE sid = ? AND CAST(data AS BINARY) = CAST(? AS BINARY) AND expires_at > ?`,
        [record, expiresAt, sid, expected, this.now()],
      );
      return result.affectedRows === 1;
    }
    // "Must not exist": an INSERT wins outright. On a duplicate key, only an expired row may be
    // replaced. Two statements, because ON DUPLICATE KEY UPDATE reports 1 both for an insert and
    // for a matched row it left unchanged, so it cannot say whether it wrote.
    try {
      await this.run('compareAndSet', `INSERT INTO ${this.table} (sid, data, expires_at) VALUES (?, ?, ?)`, [sid, record, expiresAt]);
      return true;
    } catch (err) {
      if (!isDuplicate(err)) throw err;
    }
    const result = await this.run<ResultSetHeader>(
      'compareAndSet',
      `UPDATE ${this.table} SET data = ?, expires_at = ? WHERE sid = ? AND expires_at <= ?`,
      [record, expiresAt, sid, this.now()],
    );
    return result.affectedRows === 1;
  }

  async touch(sid: string, expiresAt: number): Promise<void> {
    await this.run('touch', `UPDATE ${this.table} SET expires_at = ? WHERE sid = ? AND expires_at > ?`, [expiresAt, sid, this.now()]);
  }

  async regenerate(oldSid: string, newSid: string): Promise<void> {
    const move = () => this.run('regenerate', `UPDATE ${this.table} SET sid = ? WHERE sid = ? AND expires_at > ?`, [newSid, oldSid, this.now()]);
    try {
      await move();
    } catch (err) {
      // Only an expired row left at the new id (not yet collected) may be replaced.
      if (!isDuplicate(err)) throw err;
      const stale = await this.run<ResultSetHeader>('regenerate', `DELETE FROM ${this.table} WHERE sid = ? AND expires_at <= ?`, [newSid, this.now()]);
      if (stale.affectedRows !== 1) throw new SessionError('ERR_SESSION_STORE', 'session/mysql: regenerate failed: the new id is already in use');
      await move();
    }
  }

  async indexAdd(key: string, sid: string, expiresAt: number): Promise<void> {
    await this.run(
      'indexAdd',
      `INSERT INTO ${this.index} (key_hash, sid, expires_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE expires_at = ?`,
      [indexKeyHash(NAME, key), sid, expiresAt, expiresAt],
    );
  }

  async indexRemove(key: string, sid: string): Promise<void> {
    await this.run('indexRemove', `DELETE FROM ${this.index} WHERE key_hash = ? AND sid = ?`, [indexKeyHash(NAME, key), sid]);
  }

  async indexList(key: string): Promise<string[]> {
    const rows = await this.run<RowDataPacket[]>('indexList', `SELECT sid FROM ${this.index} WHERE key_hash = ? AND expires_at > ?`, [
      indexKeyHash(NAME, key),
      this.now(),
    ]);
    // VARBINARY columns come back as Buffers; ids are ASCII.
    return rows.map((row) => String(row.sid));
  }

  async count(): Promise<number> {
    const rows = await this.run<RowDataPacket[]>('count', `SELECT COUNT(*) AS n FROM ${this.table} WHERE expires_at > ?`, [this.now()]);
    return Number(rows[0]?.n ?? 0);
  }

  /** clear empties the sessions table, then the index table: two statements, as MySQL deletes from one table at a time. */
  async clear(): Promise<void> {
    await this.run('clear', `DELETE FROM ${this.table}`, []);
    await this.run('clear', `DELETE FROM ${this.index}`, []);
  }

  /** gc deletes expired sessions, then expired index entries, 1000 rows a statement through each expiry index. */
  async gc(): Promise<void> {
    const now = this.now();
    for (const table of [this.table, this.index]) {
      await deleteInBatches(async () => {
        const result = await this.run<ResultSetHeader>('gc', `DELETE FROM ${table} WHERE expires_at <= ? LIMIT ${GC_BATCH}`, [now]);
        return result.affectedRows;
      });
    }
  }

  async close(): Promise<void> {
    this.closed ??= this.db.end().catch(() => undefined);
    await this.closed;
  }

  /**
   * run executes one prepared statement on a pooled connection, bounded as a whole by
   * `readTimeout`. mysql2's own timeout starts only once the statement executes, not while it waits
   * for a connection or is prepared on a fresh one, and a timed-out command stays queued on its
   * connection, so the next statement lent that connection would wait forever behind it. A call
   * that times out therefore rejects at the deadline and destroys its connection.
   */
  private async run<R extends RowDataPacket[] | ResultSetHeader = ResultSetHeader>(action: string, sql: string, params: (string | number | Buffer)[]): Promise<R> {
    if (this.closed) throw new SessionError('ERR_SESSION_CLOSED', `session/mysql: ${action} after close`);
    const ms = this.options.queryTimeoutMs;
    let timedOut = false;
    let lent: PromisePoolConnection | undefined;
    const call = (async () => {
      const connection = await this.db.getConnection();
      if (timedOut) return void connection.release();
      lent = connection;
      try {
        const [result] = await connection.execute<R>({ sql, timeout: ms }, params);
        return result;
      } catch (err) {
        if ((err as { code?: string }).code === 'PROTOCOL_SEQUENCE_TIMEOUT') timedOut = true;
        throw err;
      } finally {
        if (timedOut) connection.destroy();
        else connection.release();
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        lent?.destroy();
        reject(new Error(`no answer within ${ms}ms (readTimeout)`));
      }, ms);
    });
    try {
      return (await Promise.race([call, deadline])) as R;
    } catch (err) {
      throw this.fail(action, err);
    } finally {
      clearTimeout(timer);
      call.catch(() => undefined);
    }
  }

  private checkSize(action: string, record: string): void {
    const bytes = Buffer.byteLength(record);
    if (bytes > MAX_RECORD) {
      throw new SessionError('ERR_SESSION_TOO_LARGE', `session/mysql: ${action} failed: a record of ${bytes} bytes exceeds the ${MAX_RECORD}-byte MEDIUMTEXT column`);
    }
  }

  private fail(action: string, cause: unknown): SessionError {
    return sqlStoreError(NAME, `${action} on ${address(this.options)}`, cause, this.options.password);
  }
}

/**
 * createTableSql is the DDL of the sessions table and the index table, expiry indexes inline;
 * CREATE TABLE IF NOT EXISTS is atomic in MySQL. schema.sql holds the same.
 */
function createTableSql(table: SqlTable): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${quoteTable(table, '`')} (
  sid        VARBINARY(128) NOT NULL,
  data       MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (sid),
  KEY \`${expiryIndexName(table)}\` (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
    `CREATE TABLE IF NOT EXISTS ${quoteTable(indexTable(table), '`')} (
  key_hash   BINARY(32) NOT NULL,
  sid        VARBINARY(128) NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (key_hash, sid),
  KEY \`${indexExpiryIndexName(table)}\` (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
  ];
}

/**
 * onConnection makes every new pooled connection strict and crash-proof before its first
 * statement, and bounds its row-lock waits to `readTimeout` (at least 1 s, InnoDB counts whole
 * seconds) instead of the server's 50 s.
 */
function onConnection(connection: PoolConnection, options: MysqlOptions): void {
  // A connection that dies while idle emits 'error'; the pool drops it, this keeps it from crashing.
  connection.on('error', () => undefined);
  // Strict mode turns an over-long sid or record into an error instead of a silent truncation.
  // The server does not notice a lost connection while a statement waits on a row lock: the lock
  // wait bound keeps such an orphaned write from applying long after its request failed.
  const lockWait = Math.max(1, Math.ceil(options.queryTimeoutMs / 1000));
  connection.query(
    `SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES'), innodb_lock_wait_timeout = ${lockWait}`,
    () => undefined,
  );
}

/**
 * provider opens a {@link MysqlStore} on a `mysql2` pool of up to 10 connections (utf8mb4,
 * LOAD DATA LOCAL off): it connects and creates the tables if missing, failing within the connect
 * timeout with an `ERR_SESSION_STORE` error naming the address (never the password).
 */
export const provider: Provider = {
  async open(config, openOptions) {
    const options = parseConfig(config);
    const mysql = await loadOptional<typeof import('mysql2')>(NAME, 'mysql2');
    const createPool = mysql.createPool ?? (mysql as unknown as { default: typeof import('mysql2') }).default.createPool;
    const poolOptions: PoolOptions = {
      user: options.user,
      password: options.password,
      database: options.database,
      charset: 'utf8mb4',
      connectTimeout: options.connectTimeoutMs,
      connectionLimit: 10,
      maxIdle: 10,
      idleTimeout: 60_000,
      enableKeepAlive: true,
      multipleStatements: false,
      flags: ['-LOCAL_FILES'],
    };
    if (options.socketPath !== undefined) poolOptions.socketPath = options.socketPath;
    else Object.assign(poolOptions, { host: options.host, port: options.port });
    if (options.tls !== 'false') poolOptions.ssl = { rejectUnauthorized: options.tls === 'true' };
    const pool = createPool(poolOptions);
    pool.on('connection', (connection) => onConnection(connection, options));
    try {
      for (const sql of createTableSql(options.table)) await pool.promise().query(sql);
    } catch (err) {
      await pool.promise().end().catch(() => undefined);
      throw sqlStoreError(NAME, `connect to ${address(options)}`, err, options.password);
    }
    return new MysqlStore(pool, options, openOptions);
  },
};

register('mysql', provider);
