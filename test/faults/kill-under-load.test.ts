import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createManager, type Manager } from 'sessionkit';
import 'sessionkit/providers/postgres';
import 'sessionkit/providers/redis';
import { closeServer } from 'sessionkit/testing';
import { freePort, redisServer, startProxy, type Outage, type RedisServer, type Proxy } from '../support/faults.ts';
import { drive, failuresOf, increment, loadClients, serve, settle, waitFor } from '../support/load.ts';
import { requireServer } from '../support/servers.ts';

/**
 * A backend dies under load and comes back (checklist rows 35, 36, 38). Several clients, each with
 * its own session, increment a counter as fast as they can; mid-load the backend goes away for a
 * second and returns. Requests made meanwhile must fail cleanly (a 503 carrying a store error
 * within the store's timeouts, no crash, no unhandled rejection) or wait and succeed; requests
 * must succeed again within a bounded time after the backend is back, and no
 * increment the server acknowledged may be lost: each session's final counter is at least its
 * acknowledged increments and at most its attempts.
 */

const CLIENTS = 6;
/**
 * MAX_ATTEMPTS bounds each client's requests, whatever the timings, above what a client sends in
 * the 20 s a case may take: one that ran out before the backend came back could never show the
 * recovery the case waits for.
 */
const MAX_ATTEMPTS = 20_000;
const BEFORE_MS = 1500;
const OUTAGE_MS = 1000;
const AFTER_MS = 700;
/** RECOVER_MS bounds how long after the backend returns every client must have succeeded again. */
const RECOVER_MS = 6000;
/** FAIL_WITHIN_MS bounds a failing request: it waits out a store timeout at most, never an endless queue. */
const FAIL_WITHIN_MS = 2000;

/**
 * loadThroughOutage serves `manager`, runs the load, takes `outage` down and back mid-load, and
 * checks what the clients saw against the counters their sessions hold at the end.
 */
async function loadThroughOutage(manager: Manager, outage: Outage): Promise<void> {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const { base, server } = await serve(manager);
  const loads = loadClients(base, CLIENTS);
  let running = true;
  let load: Promise<unknown> = Promise.resolve();
  try {
    // Each client gets its session before the load, so every later request carries a cookie.
    for (const client of loads) assert.ok(await increment(client), 'the first request succeeds');
    load = Promise.all(loads.map((client) => drive(client, () => running, MAX_ATTEMPTS)));
    await sleep(BEFORE_MS);
    await outage.stop();
    await sleep(OUTAGE_MS);
    const failedMeanwhile = failuresOf(loads);
    await outage.start();
    const upAt = Date.now();
    await waitFor(() => loads.every(({ tally }) => tally.lastSuccessAt > upAt), RECOVER_MS, 'every client succeeds again');
    await sleep(AFTER_MS);
    running = false;
    await load;

    assert.ok(failedMeanwhile > 0, `no request failed during the ${OUTAGE_MS} ms outage`);
    for (const [i, { lost, acknowledged, attempts }] of (await settle(loads, FAIL_WITHIN_MS)).entries()) {
      assert.equal(lost, 0, `client ${i}: ${lost} of ${acknowledged} acknowledged increments (${attempts} attempts) were lost`);
    }
    assert.deepEqual(unhandled, []);
  } finally {
    running = false;
    await load.catch(() => undefined);
    process.off('unhandledRejection', onUnhandled);
    await closeServer(server);
  }
}

describe('a backend killed under load', function () {
  this.timeout(20_000);

  describe('redis: a private redis-server killed with SIGKILL and restarted on the same port and directory', function () {
    let dir: string;
    let redis: RedisServer;
    let manager: Manager | undefined;

    before(async function () {
      dir = mkdtempSync(join(tmpdir(), 'sessionkit-kill-'));
      // appendfsync always: redis replies to a write only after it is on disk, so SIGKILL loses no acknowledged write.
      redis = redisServer(await freePort(), ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir]);
      await redis.start();
    });
    after(async function () {
      await manager?.close();
      await redis?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('requests fail with 503 while it is down, succeed again once it is back, and no acknowledged increment is lost', async function () {
      manager = await createManager({
        provider: 'redis',
        providerConfig: `redis://127.0.0.1:${redis.port}/0?prefix=sessionkit_kill:&read_timeout=500ms&write_timeout=500ms&dial_timeout=500ms`,
        gcInterval: 0,
        onError: () => undefined,
      });
      await loadThroughOutage(manager, redis);
    });
  });

  describe('postgres: the shared server cut off behind a proxy and restored', function () {
    const table = `sessionkit_kill_${randomBytes(4).toString('hex')}`;
    let proxy: Proxy | undefined;
    let manager: Manager | undefined;

    before(async function () {
      await requireServer(this, 'PostgreSQL', '127.0.0.1', 5432);
      proxy = await startProxy(5432);
    });
    after(async function () {
      await manager?.close();
      if (!proxy) return;
      await proxy.stop();
      const admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
      await admin.connect();
      try {
        for (const name of [table, `${table}_index`]) await admin.query(`DROP TABLE IF EXISTS "${name}"`);
      } finally {
        await admin.end();
      }
    });

    it('requests fail with 503 while it is unreachable, succeed again once it is back, and no acknowledged increment is lost', async function () {
      manager = await createManager({
        provider: 'postgres',
        providerConfig: `host=127.0.0.1 port=${proxy!.port} user=postgres dbname=test sslmode=disable connect_timeout=2 table=${table}`,
        gcInterval: 0,
        onError: () => undefined,
      });
      await loadThroughOutage(manager, proxy!);
    });
  });
});
