import { readFile } from 'node:fs/promises';
import type { ClientBase, Pool, PoolConfig, QueryResult } from 'pg';
import { configError, formatHostPort } from '../shared/dsn.ts';
import { SessionError } from '../../src/errors.ts';
import { loadOptional } from '../shared/load.ts';
import type { OpenOptions, Provider, Store } from '../../src/provider.ts';
import { register } from '../../src/registry.ts';
import { failure, idTaken, StoreGuard } from '../shared/errors.ts';
import { deleteInBatches, expiryIndexName, formatTableName, GC_BATCH, indexExpiryIndexName, indexKeyHash, indexTable, quoteTable, type SqlTable } from '../shared/sql-table.ts';
import { parseConfig, type PostgresOptions } from './config.ts';

export { parseConfig, type PostgresOptions, type SslMode } from './config.ts';

const NAME = 'postgres';

/**
 * PostgresStore keeps each session as one row of `(sid, data, expires_at)`, and each index entry
 * as one row of `(key_hash, sid, expires_at)` in the index table beside it. Every expiry decision
 * reads the application clock (`OpenOptions.now`), passed into each statement, so clock skew
 * between the application and the database never expires a session early or keeps it alive.
 */
export class PostgresStore implements Store {
  private readonly pool: Pool;
  private readonly now: () => number;
  private readonly table: string;
  private readonly index: string;
  private readonly guard: StoreGuard;

  constructor(pool: Pool, options: PostgresOptions, openOptions: OpenOptions) {
    this.pool = pool;
    this.now = openOptions.now ?? Date.now;
    this.table = quoteTable(options.table, '"');
    this.index = quoteTable(indexTable(options.table), '"');
    this.guard = new StoreGuard(NAME, { secrets: [options.password], where: formatHostPort(options) });
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
      if (stale.rowCount !== 1) throw idTaken(NAME);
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
    await this.guard.close(() => this.pool.end().catch(() => undefined));
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

  /** query runs one statement on the pool: the one way this store reaches the server. */
  private query<R extends object = object>(action: string, sql: string, params: unknown[]): Promise<QueryResult<R>> {
    return this.guard.run(action, () => this.pool.query<R>(sql, params));
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
      throw failure(NAME, `connect to ${formatHostPort(options)} failed`, err, [options.password]);
    }
    return new PostgresStore(pool, options, openOptions);
  },
};

register('postgres', provider);
