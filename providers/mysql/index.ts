import type { Pool, PoolConnection, PoolOptions, ResultSetHeader, RowDataPacket } from 'mysql2';
import type { PoolConnection as PromisePoolConnection, Pool as PromisePool } from 'mysql2/promise';
import { SessionError } from '../../src/errors.ts';
import { loadOptional } from '../shared/load.ts';
import type { OpenOptions, Provider, Store } from '../../src/provider.ts';
import { register } from '../../src/registry.ts';
import { formatHostPort } from '../shared/dsn.ts';
import { failure, idTaken, StoreGuard } from '../shared/errors.ts';
import { deleteInBatches, expiryIndexName, GC_BATCH, indexExpiryIndexName, indexKeyHash, indexTable, quoteTable, type SqlTable } from '../shared/sql-table.ts';
import { parseConfig, type MysqlOptions } from './config.ts';

export { parseConfig, type MysqlOptions, type MysqlTls } from './config.ts';

const NAME = 'mysql';

/** address names where the store connects, for messages: `host:port` or the socket path, never credentials. */
function address(options: MysqlOptions): string {
  if (options.socketPath !== undefined) return options.socketPath;
  return formatHostPort({ host: options.host!, port: options.port! });
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
  private readonly guard: StoreGuard;

  constructor(pool: Pool, options: MysqlOptions, openOptions: OpenOptions) {
    this.db = pool.promise();
    this.options = options;
    this.now = openOptions.now ?? Date.now;
    this.table = quoteTable(options.table, '`');
    this.index = quoteTable(indexTable(options.table), '`');
    this.guard = new StoreGuard(NAME, { secrets: [options.password], where: address(options) });
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
      if (stale.affectedRows !== 1) throw idTaken(NAME);
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
    await this.guard.close(() => this.db.end().catch(() => undefined));
  }

  /** run executes one prepared statement through {@link MysqlStore.execute}: the one way this store reaches the server. */
  private run<R extends RowDataPacket[] | ResultSetHeader = ResultSetHeader>(action: string, sql: string, params: (string | number | Buffer)[]): Promise<R> {
    return this.guard.run(action, () => this.execute<R>(sql, params));
  }

  /**
   * execute runs one prepared statement on a pooled connection, bounded as a whole by
   * `readTimeout`. mysql2's own timeout starts only once the statement executes, not while it waits
   * for a connection or is prepared on a fresh one, and a timed-out command stays queued on its
   * connection, so the next statement lent that connection would wait forever behind it. A call
   * that times out therefore rejects at the deadline and destroys its connection.
   */
  private async execute<R extends RowDataPacket[] | ResultSetHeader>(sql: string, params: (string | number | Buffer)[]): Promise<R> {
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
      throw failure(NAME, `connect to ${address(options)} failed`, err, [options.password]);
    }
    return new MysqlStore(pool, options, openOptions);
  },
};

register('mysql', provider);
