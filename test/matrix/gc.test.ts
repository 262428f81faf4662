import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { generateId, type Store } from 'sessionkit';
import { MemoryStore } from 'sessionkit/providers/memory';
import { provider as mysqlProvider } from 'sessionkit/providers/mysql';
import { provider as postgresProvider } from 'sessionkit/providers/postgres';
import { provider as redisProvider } from 'sessionkit/providers/redis';
import { fakeClock } from 'sessionkit/testing';
import { requireServer } from '../support/servers.ts';

/**
 * Expiry at scale (checklist row 49): with 10^5 sessions, SQL gc deletes through the expiry index
 * in batches, Redis lists keys with SCAN and never KEYS, and the memory store collects expired
 * sessions while new ones keep arriving. The statements checked are the ones the stores send,
 * captured on the way out, not copies of them.
 */

const HOUR = 3_600_000;
const ROWS = 100_000;
const EXPIRED = 2_500;
const run = randomBytes(4).toString('hex');

/** Captured is one statement a store sent and its parameters. */
type Captured = { sql: string; params: unknown[] };

/** literal writes `params` into `sql` for EXPLAIN (numbers only: gc binds the current time). */
function literal(sql: string, params: unknown[], placeholder: RegExp): string {
  let i = 0;
  return sql.replace(placeholder, (match) => {
    const value = placeholder.source.startsWith('\\$') ? params[Number(match.slice(1)) - 1] : params[i++];
    assert.equal(typeof value, 'number', `${match} in ${sql}`);
    return String(value);
  });
}

describe('gc at scale', function () {
  this.timeout(30_000);

  describe('postgres', function () {
    const table = `sessionkit_matrix_gc_${run}`;
    let admin: pg.Client;
    let store: Store;
    const clock = fakeClock();

    before(async function () {
      await requireServer(this, 'PostgreSQL', '127.0.0.1', 5432);
      admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
      await admin.connect();
      store = await postgresProvider.open(`postgres://postgres@127.0.0.1:5432/test?table=${table}`, { maxLifetime: HOUR, now: clock.now });
    });
    after(async function () {
      await store?.close?.();
      await admin?.query(`DROP TABLE IF EXISTS "${table}", "${table}_index"`);
      await admin?.end();
    });

    it(`gc over ${ROWS} sessions deletes the expired ones through the expiry index, at most 1000 a statement`, async function () {
      const now = clock.now();
      await admin.query(
        `INSERT INTO "${table}" (sid, data, expires_at)
         SELECT md5(g::text), 'x', CASE WHEN g <= $2 THEN $1::bigint - 1 ELSE $1::bigint + ${HOUR} END FROM generate_series(1, ${ROWS}) AS g`,
        [now, EXPIRED],
      );
      await admin.query(`ANALYZE "${table}"`);
      const sent: Captured[] = [];
      const pool = (store as unknown as { pool: { query: (sql: string, params: unknown[]) => Promise<unknown> } }).pool;
      const query = pool.query.bind(pool);
      pool.query = (sql, params) => (sent.push({ sql, params }), query(sql, params));
      try {
        await store.gc!();
      } finally {
        pool.query = query;
      }
      const deletes = sent.filter(({ sql }) => sql.includes(`DELETE FROM "${table}"`));
      assert.ok(deletes.length >= Math.ceil(EXPIRED / 1000), `${deletes.length} DELETE statements`);
      for (const { sql } of deletes) assert.match(sql, /LIMIT 1000\b/);
      const { rows: plan } = await admin.query(`EXPLAIN ${literal(deletes[0]!.sql, deletes[0]!.params, /\$\d+/g)}`);
      const text = plan.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
      assert.match(text, new RegExp(`Index (Only )?Scan using "?${table}_expires_at_idx`), text);
      assert.doesNotMatch(text, new RegExp(`Seq Scan on "?${table}"?\\b`), text);
      const { rows } = await admin.query(`SELECT count(*)::int AS live, min(expires_at) > $1 AS all_live FROM "${table}"`, [now]);
      assert.deepEqual(rows[0], { live: ROWS - EXPIRED, all_live: true });
    });
  });

  describe('mysql', function () {
    const table = `sessionkit_matrix_gc_${run}`;
    let admin: mysql.Connection;
    let store: Store;
    const clock = fakeClock();

    before(async function () {
      await requireServer(this, 'MySQL', '127.0.0.1', 3306);
      admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });
      store = await mysqlProvider.open(`root:@tcp(127.0.0.1:3306)/test?table=${table}`, { maxLifetime: HOUR, now: clock.now });
    });
    after(async function () {
      await store?.close?.();
      await admin?.query(`DROP TABLE IF EXISTS \`${table}\`, \`${table}_index\``);
      await admin?.end();
    });

    it(`gc over ${ROWS} sessions deletes the expired ones through the expiry index, at most 1000 a statement`, async function () {
      const now = clock.now();
      // seq_1_to_N is MariaDB's sequence engine.
      await admin.query(
        `INSERT INTO \`${table}\` (sid, data, expires_at)
         SELECT md5(seq), 'x', IF(seq <= ?, ? - 1, ? + ${HOUR}) FROM seq_1_to_${ROWS}`,
        [EXPIRED, now, now],
      );
      await admin.query(`ANALYZE TABLE \`${table}\``);
      const sent: Captured[] = [];
      type Connection = { execute: (options: { sql: string }, params: unknown[]) => Promise<unknown> };
      const db = (store as unknown as { db: { getConnection: () => Promise<Connection> } }).db;
      const getConnection = db.getConnection.bind(db);
      db.getConnection = async () => {
        const connection = await getConnection();
        const execute = connection.execute.bind(connection);
        return Object.assign(Object.create(connection) as Connection, {
          execute: (options: { sql: string }, params: unknown[]) => (sent.push({ sql: options.sql, params }), execute(options, params)),
        });
      };
      try {
        await store.gc!();
      } finally {
        db.getConnection = getConnection;
      }
      const deletes = sent.filter(({ sql }) => sql.includes(`DELETE FROM \`${table}\``));
      assert.ok(deletes.length >= Math.ceil(EXPIRED / 1000), `${deletes.length} DELETE statements`);
      for (const { sql } of deletes) assert.match(sql, /LIMIT 1000\b/);
      const [plan] = (await admin.query(`EXPLAIN ${literal(deletes[0]!.sql, deletes[0]!.params, /\?/g)}`)) as [Record<string, unknown>[], unknown];
      assert.equal(plan[0]!.key, `${table}_expires_at_idx`, JSON.stringify(plan));
      assert.equal(plan[0]!.type, 'range', JSON.stringify(plan));
      const [rows] = (await admin.query(`SELECT count(*) AS live, min(expires_at) > ? AS all_live FROM \`${table}\``, [now])) as [Record<string, unknown>[], unknown];
      assert.deepEqual({ live: Number(rows[0]!.live), allLive: Number(rows[0]!.all_live) }, { live: ROWS - EXPIRED, allLive: 1 });
    });
  });

  describe('redis', function () {
    const prefix = `sessionkit_matrix_gc:${run}:`;
    let raw: Redis;
    let monitor: Redis | undefined;
    let store: Store;

    before(async function () {
      await requireServer(this, 'redis', '127.0.0.1', 6379);
      raw = new Redis({ host: '127.0.0.1', port: 6379 });
      store = await redisProvider.open(`redis://127.0.0.1:6379/0?prefix=${prefix}`, { maxLifetime: HOUR });
    });
    after(async function () {
      await monitor?.disconnect();
      await store?.close?.();
      await raw?.quit();
    });

    it(`count and clear over ${ROWS} sessions walk the keys with SCAN, never KEYS, and leave other keys alone`, async function () {
      for (let done = 0; done < ROWS; done += 10_000) {
        const batch = raw.pipeline();
        for (let i = done; i < done + 10_000; i++) batch.set(`${prefix}${generateId()}`, 'x', 'PX', HOUR);
        await batch.exec();
      }
      const bystander = `${prefix}not-a-session`;
      await raw.set(bystander, 'kept', 'PX', HOUR);
      monitor = await raw.monitor();
      const commands: string[] = [];
      monitor.on('monitor', (_time: string, args: string[]) => commands.push(String(args[0]).toLowerCase()));
      assert.equal(await store.count!(), ROWS);
      await store.clear!();
      assert.equal(await store.count!(), 0);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(commands.includes('scan'), 'count and clear scan');
      assert.ok(!commands.includes('keys'), 'no KEYS, which blocks the server for the whole keyspace');
      assert.equal(await raw.get(bystander), 'kept');
      await raw.del(bystander);
    });
  });

  describe('memory', function () {
    it('gc collects expired sessions while new ones keep arriving, so the store holds about one lifetime of sessions', async function () {
      const clock = fakeClock();
      const lifetime = 10_000;
      const store = new MemoryStore({ maxLifetime: lifetime, now: clock.now });
      const held = () => (store as unknown as { sessions: { size: number } }).sessions.size;
      const perTick = 1_000;
      let peak = 0;
      for (let tick = 0; tick < 100; tick++) {
        for (let i = 0; i < perTick; i++) await store.set(generateId(), 'x', clock.now() + lifetime);
        await clock.advance(1000);
        await store.gc();
        peak = Math.max(peak, held());
      }
      // 100 000 sessions written over 100 s; at most ten seconds' worth are ever live.
      assert.ok(peak <= perTick * (lifetime / 1000 + 1), `held ${peak} sessions at the peak`);
      await clock.advance(lifetime);
      await store.gc();
      assert.equal(held(), 0);
    });
  });
});
