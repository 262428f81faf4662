import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import express, { type ErrorRequestHandler } from 'express';
import type { Manager } from 'sessionkit';
import type {} from 'sessionkit/express';
import { CookieClient } from 'sessionkit/testing';

/**
 * Bounded load for fault tests: an Express app whose POST /inc increments a session counter, and
 * clients that each hold their own session and send increments one after another, counting what
 * the server acknowledged, what failed (and how), and how long the slowest failure took.
 */

/** Tally is what one client saw. */
export interface Tally {
  attempts: number;
  acknowledged: number;
  /** failures maps "status code" (e.g. "503 ERR_SESSION_STORE") to how often it came back. */
  failures: Map<string, number>;
  slowestFailureMs: number;
  lastSuccessAt: number;
}

/** LoadClient is one client of the load: its cookie jar and its tally. */
export interface LoadClient {
  client: CookieClient;
  tally: Tally;
}

/**
 * serve runs an Express app whose POST /inc increments the session counter, POST /regenerate gives
 * the session a new id, and GET /count reads the counter; errors answer 503 with their code and message.
 */
export async function serve(manager: Manager): Promise<{ base: string; server: Server }> {
  const app = express();
  app.use(manager.middleware());
  app.post('/inc', (req, res) => {
    res.json({ n: req.session.increment('n') });
  });
  app.post('/regenerate', async (req, res) => {
    await req.session.regenerate();
    res.json({ n: req.session.get('n') ?? null });
  });
  app.get('/count', (req, res) => {
    res.json({ n: req.session.get('n') ?? null });
  });
  const storeFailure: ErrorRequestHandler = (error, _req, res, _next) => {
    res.status(503).json({ code: (error as { code?: string }).code ?? String(error), message: (error as Error).message });
  };
  app.use(storeFailure);
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** loadClients makes `count` clients of `base` with empty tallies. */
export function loadClients(base: string, count: number): LoadClient[] {
  return Array.from({ length: count }, () => ({
    client: new CookieClient(base),
    tally: { attempts: 0, acknowledged: 0, failures: new Map(), slowestFailureMs: 0, lastSuccessAt: 0 },
  }));
}

/**
 * begin gives each client its session before the load: it sends POST /inc until one succeeds
 * (for at most `ms`) and counts that one only. A failed try left the client without a cookie, so
 * whatever it may have written belongs to another session.
 */
export async function begin(loads: LoadClient[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (const { client, tally } of loads) {
    let reply = await client.request('/inc', { method: 'POST' });
    while (reply.status !== 200 && Date.now() < deadline) {
      await sleep(100);
      reply = await client.request('/inc', { method: 'POST' });
    }
    assert.equal(reply.status, 200, `no session within ${ms} ms: ${reply.body}`);
    Object.assign(tally, { attempts: 1, acknowledged: 1, lastSuccessAt: Date.now() });
  }
}

/** increment sends one POST /inc and records the outcome. */
export async function increment({ client, tally }: LoadClient): Promise<boolean> {
  tally.attempts++;
  const sentAt = Date.now();
  const reply = await client.request('/inc', { method: 'POST' });
  if (reply.status === 200) {
    tally.acknowledged++;
    tally.lastSuccessAt = Date.now();
    return true;
  }
  const code = reply.status === 503 ? (JSON.parse(reply.body) as { code: string }).code : reply.body.slice(0, 80);
  const key = `${reply.status} ${code}`;
  tally.failures.set(key, (tally.failures.get(key) ?? 0) + 1);
  tally.slowestFailureMs = Math.max(tally.slowestFailureMs, Date.now() - sentAt);
  return false;
}

/**
 * drive increments until `running()` turns false or `maxAttempts` is reached, pausing briefly
 * after a failure so an outage is not a busy loop.
 */
export async function drive(load: LoadClient, running: () => boolean, maxAttempts: number): Promise<void> {
  while (running() && load.tally.attempts < maxAttempts) {
    if (!(await increment(load))) await sleep(10);
  }
}

/** failuresOf is how many requests of `loads` failed so far. */
export function failuresOf(loads: LoadClient[]): number {
  return loads.reduce((sum, { tally }) => sum + [...tally.failures.values()].reduce((a, b) => a + b, 0), 0);
}

/** waitFor polls `done` every 50 ms and returns the time it took, or fails after `ms`. */
export async function waitFor(done: () => boolean, ms: number, what: string): Promise<number> {
  const started = Date.now();
  while (!done()) {
    assert.ok(Date.now() - started < ms, `${what} within ${ms} ms`);
    await sleep(50);
  }
  return Date.now() - started;
}

/** Outcome is one client's result at the end: what it saw and the counter its session holds. */
export interface Outcome extends Tally {
  counter: number;
  /** lost is how many acknowledged increments the counter is missing (0 when none). */
  lost: number;
}

/**
 * settle reads each client's counter at the end and checks the rules every fault test keeps: a
 * failure is a 503 carrying ERR_SESSION_STORE and came within `failWithinMs`, and a counter never
 * exceeds the increments attempted (acknowledged plus failed ones that may have landed). Lost
 * acknowledged increments are returned, not refused: the caller decides what it may tolerate.
 */
export async function settle(loads: LoadClient[], failWithinMs: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const [i, { client, tally }] of loads.entries()) {
    for (const kind of tally.failures.keys()) assert.equal(kind, '503 ERR_SESSION_STORE', `client ${i} got ${kind}`);
    assert.ok(tally.slowestFailureMs < failWithinMs, `client ${i} waited ${tally.slowestFailureMs} ms for a failure, expected under ${failWithinMs} ms`);
    // The read is not what is measured: it may wait out a late disturbance of the store.
    let reply = await client.request('/count');
    for (const deadline = Date.now() + 10_000; reply.status !== 200 && Date.now() < deadline; ) {
      await sleep(200);
      reply = await client.request('/count');
    }
    assert.equal(reply.status, 200, `client ${i} cannot read its counter: ${reply.body}`);
    const { n } = JSON.parse(reply.body) as { n: number };
    assert.ok(n <= tally.attempts, `client ${i}: counter ${n} > ${tally.attempts} attempts`);
    outcomes.push({ ...tally, counter: n, lost: Math.max(0, tally.acknowledged - n) });
  }
  return outcomes;
}

