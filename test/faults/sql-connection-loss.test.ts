import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createManager, type Manager } from 'sessionkit';
import 'sessionkit/providers/mysql';
import 'sessionkit/providers/postgres';
import { closeServer, CookieClient, type Reply } from 'sessionkit/testing';
import { startProxy, type Proxy } from '../support/faults.ts';
import { serve } from '../support/load.ts';
import { requireServer } from '../support/servers.ts';

/**
 * The connection to PostgreSQL or MySQL is lost while a request's write is in flight on the
 * server: the statement waits on a row lock that another transaction holds, and the proxy in
 * front of the database is then cut (sockets closed) or stalled (nothing more forwarded). The
 * request must fail with a 503 carrying ERR_SESSION_STORE within the storeTimeout bound; the
 * orphaned statement must not apply once the lock is gone (the server ends it and rolls it back),
 * so the stored session is exactly what it was; and the next request on the same manager
 * succeeds, on a fresh pooled connection.
 */

const STORE_TIMEOUT_S = 1;
/**
 * FAIL_WITHIN_MS bounds the failing request: a regenerate that times out checks with one more
 * bounded read whether its new id was taken, so two storeTimeouts, and a wide margin.
 */
const FAIL_WITHIN_MS = 2 * STORE_TIMEOUT_S * 1000 + 1500;
/** HOLD_MS is how long the row lock outlives the lost connection, longer than an orphan may wait. */
const HOLD_MS = 2500;
const run = randomBytes(4).toString('hex');

/** Admin is a direct connection to the database, beside the proxied store, that holds row locks and reads rows. */
interface Admin {
  /** lock opens a transaction that holds the row of `sid` until {@link Admin.unlock}. */
  lock(sid: string): Promise<void>;
  unlock(): Promise<void>;
  /** waiting counts the statements on `table` that wait for a lock. */
  waiting(): Promise<number>;
  /** rows returns the rows of the sessions table, id and data. */
  rows(): Promise<{ sid: string; data: string }[]>;
  /** drop drops the test's tables and closes the connection. */
  drop(): Promise<void>;
}

interface Backend {
  provider: 'postgres' | 'mysql';
  port: number;
  /** config reaches the database through `port`, with the timeout that bounds an orphaned statement after a `loss`. */
  config(port: number, table: string, loss: Loss): string;
  admin(table: string): Promise<Admin>;
}

const BACKENDS: Backend[] = [
  {
    provider: 'postgres',
    port: 5432,
    // A closed connection is noticed by the server itself (client_connection_check_interval); a
    // silent one only by statement_timeout, so that is shortened for the stall.
    config: (port, table, loss) => `postgres://postgres@127.0.0.1:${port}/test?table=${table}&connect_timeout=2${loss === 'stall' ? '&statement_timeout=1000' : ''}`,
    async admin(table) {
      const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
      await client.connect();
      return {
        async lock(sid) {
          await client.query('BEGIN');
          await client.query(`SELECT 1 FROM "${table}" WHERE sid = $1 FOR UPDATE`, [sid]);
        },
        async unlock() {
          await client.query('ROLLBACK');
        },
        async waiting() {
          // Inside the locking transaction the activity view is a snapshot taken once; drop it.
          await client.query('SELECT pg_stat_clear_snapshot()');
          const result = await client.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`,
            [`%"${table}"%`],
          );
          return Number(result.rows[0]!.n);
        },
        async rows() {
          return (await client.query<{ sid: string; data: string }>(`SELECT sid, data FROM "${table}"`)).rows;
        },
        async drop() {
          await client.query('ROLLBACK').catch(() => undefined);
          await client.query(`DROP TABLE IF EXISTS "${table}", "${table}_index"`);
          await client.end();
        },
      };
    },
  },
  {
    provider: 'mysql',
    port: 3306,
    // The server notices neither loss while a statement waits on a lock: readTimeout bounds the wait.
    config: (port, table) => `root:@tcp(127.0.0.1:${port})/test?table=${table}&timeout=2s&readTimeout=1s`,
    async admin(table) {
      const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });
      return {
        async lock(sid) {
          await connection.query('START TRANSACTION');
          await connection.query(`SELECT sid FROM \`${table}\` WHERE sid = ? FOR UPDATE`, [sid]);
        },
        async unlock() {
          await connection.query('ROLLBACK');
        },
        async waiting() {
          const [rows] = await connection.query<mysql.RowDataPacket[]>(
            `SELECT count(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND INFO NOT LIKE 'SELECT count(*)%'`,
            [`UPDATE \`${table}\`%`],
          );
          return Number(rows[0]!.n);
        },
        async rows() {
          const [rows] = await connection.query<mysql.RowDataPacket[]>(`SELECT sid, data FROM \`${table}\``);
          return rows.map((row) => ({ sid: String(row.sid), data: String(row.data) }));
        },
        async drop() {
          await connection.query('ROLLBACK').catch(() => undefined);
          await connection.query(`DROP TABLE IF EXISTS \`${table}\`, \`${table}_index\``);
          await connection.end();
        },
      };
    },
  },
];

/** Loss is how the connection goes: closed at once, or silent until the test restores it. */
type Loss = 'cut' | 'stall';

/** timed sends one request and returns the reply and how long it took. */
async function timed(client: CookieClient, path: string, init?: RequestInit): Promise<Reply & { ms: number }> {
  const started = Date.now();
  const reply = await client.request(path, init);
  return { ...reply, ms: Date.now() - started };
}

describe('SQL connection lost while a write is in flight', function () {
  this.timeout(30_000);

  for (const backend of BACKENDS) {
    describe(backend.provider, function () {
      let table: string;
      let admin: Admin | undefined;
      let proxy: Proxy | undefined;
      let manager: Manager | undefined;
      let stopApp = async () => {};

      before(async function () {
        await requireServer(this, backend.provider, '127.0.0.1', backend.port);
      });
      beforeEach(async function () {
        table = `sessionkit_loss_${run}_${randomBytes(2).toString('hex')}`;
        proxy = await startProxy(backend.port);
        admin = await backend.admin(table);
      });
      afterEach(async function () {
        await admin?.unlock().catch(() => undefined);
        await stopApp();
        await manager?.close();
        await proxy?.stop();
        await admin?.drop();
        admin = manager = proxy = undefined;
      });

      /**
       * inFlight creates a session holding n = 1, locks its row, sends `path` (whose write then
       * waits on the lock), loses the connection as `loss` says, and returns the failed reply,
       * the session's id, and the client.
       */
      async function inFlight(path: string, loss: Loss): Promise<{ reply: Reply & { ms: number }; sid: string; client: CookieClient }> {
        const providerConfig = backend.config(proxy!.port, table, loss);
        manager = await createManager({ provider: backend.provider, providerConfig, storeTimeout: STORE_TIMEOUT_S, gcInterval: 0, onError: () => undefined });
        const { base, server } = await serve(manager!);
        stopApp = () => closeServer(server);
        const client = new CookieClient(base);
        assert.equal((await client.request('/inc', { method: 'POST' })).status, 200);
        const sid = client.cookie!.split('=')[1]!;
        await admin!.lock(sid);
        let answered: Reply | undefined;
        const pending = timed(client, path, { method: 'POST' }).then((reply) => (answered = reply));
        for (const deadline = Date.now() + 5000; (await admin!.waiting()) === 0; await sleep(20)) {
          assert.ok(Date.now() < deadline && !answered, `the ${path} write never waited on the row lock: ${answered?.status} ${answered?.body}`);
        }
        if (loss === 'cut') await proxy!.stop();
        else proxy!.mute();
        const reply = await pending;
        // The lock outlives the lost connection, then goes: an orphaned write could now apply.
        await sleep(HOLD_MS);
        await admin!.unlock();
        await sleep(300);
        if (loss === 'stall') await proxy!.stop();
        await proxy!.start();
        return { reply, sid, client };
      }

      /** expectFailure checks the reply of the request that lost its connection. */
      function expectFailure(reply: Reply & { ms: number }): void {
        assert.equal(reply.status, 503, reply.body);
        assert.equal((JSON.parse(reply.body) as { code: string }).code, 'ERR_SESSION_STORE', reply.body);
        assert.ok(reply.ms < FAIL_WITHIN_MS, `failed after ${reply.ms} ms, expected under ${FAIL_WITHIN_MS} ms`);
      }

      for (const loss of ['cut', 'stall'] as const) {
        it(`a save whose connection is ${loss === 'cut' ? 'cut' : 'stalled'} while it waits fails within the bound, never applies later, and the next request succeeds`, async function () {
          const { reply, sid, client } = await inFlight('/inc', loss);
          expectFailure(reply);
          const rows = await admin!.rows();
          assert.deepEqual(rows.map((row) => row.sid), [sid], 'one session, under its id');
          const recovered = await client.request('/count');
          assert.equal(recovered.status, 200, `the next request failed: ${recovered.body}`);
          assert.deepEqual(JSON.parse(recovered.body), { n: 1 }, 'the failed increment did not apply, not even after the lock went');
          assert.deepEqual(JSON.parse((await client.request('/inc', { method: 'POST' })).body), { n: 2 });
        });

        it(`a regenerate whose connection is ${loss === 'cut' ? 'cut' : 'stalled'} while it waits fails within the bound, leaves the session under its old id, and the next request succeeds`, async function () {
          const { reply, sid, client } = await inFlight('/regenerate', loss);
          expectFailure(reply);
          assert.deepEqual((await admin!.rows()).map((row) => row.sid), [sid], 'the session is under its old id only');
          const recovered = await client.request('/count');
          assert.equal(recovered.status, 200, `the next request failed: ${recovered.body}`);
          assert.deepEqual(JSON.parse(recovered.body), { n: 1 });
          const moved = await client.request('/regenerate', { method: 'POST' });
          assert.equal(moved.status, 200, moved.body);
          assert.notEqual(client.cookie!.split('=')[1], sid, 'a new id once the store answers');
        });
      }
    });
  }
});
