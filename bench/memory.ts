// Heap and gc measurements, each run in its own child process started with --expose-gc:
//   node --expose-gc … bench/memory.ts sessionkit <n>   heap bytes per session, memory provider
//   node --expose-gc … bench/memory.ts peer <n>         heap bytes per session, express-session MemoryStore
//   node --expose-gc … bench/memory.ts gc <n>           one memory-provider gc pass, 10% expired
//   node --expose-gc … bench/memory.ts gc-spread <n>    the same with expiries spread evenly over the hour
//   node --expose-gc … bench/memory.ts gc-lmdb <n>      one lmdb gc pass, 10% expired, in a temporary directory
// Each prints one JSON line on stdout.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from 'sessionkit';

const mode = process.argv[2];
const n = Number(process.argv[3] ?? 1_000_000);
const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) throw new Error('bench/memory.ts needs node --expose-gc');

function settledHeap(): number {
  for (let i = 0; i < 3; i++) collect!();
  return process.memoryUsage().heapUsed;
}

/** sessionkitBytes creates n sessions `{ uid, visits }` through a Manager over the memory provider. */
async function sessionkitBytes(): Promise<Record<string, number>> {
  const { createManager } = await import('sessionkit');
  await import('sessionkit/providers/memory');
  const manager = await createManager({ provider: 'memory', gcInterval: 0 });
  const request = { headers: {} } as IncomingMessage;
  // Warm the code paths before the baseline so compiled code is not counted as session data.
  for (let i = 0; i < 1000; i++) {
    const session = await manager.load(request);
    session.set('uid', '12345');
    await session.release();
  }
  await manager.destroyAll();
  const before = settledHeap();
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const session = await manager.load(request);
    session.set('uid', '12345');
    session.set('visits', 3);
    await session.release();
  }
  const ms = performance.now() - started;
  const after = settledHeap();
  const count = await manager.count();
  return { sessions: count, bytesPerSession: (after - before) / count, createMs: ms };
}

/** peerBytes stores n sessions in express-session's MemoryStore as its middleware would. */
async function peerBytes(): Promise<Record<string, number>> {
  const { MemoryStore } = await import('express-session');
  const store = new MemoryStore();
  const put = (sid: string) =>
    new Promise<void>((resolve, reject) => {
      const sess = { cookie: { originalMaxAge: null, httpOnly: true, path: '/' }, uid: '12345', visits: 3 };
      store.set(sid, sess as never, (error?: unknown) => (error ? reject(error) : resolve()));
    });
  // express-session ids: uid-safe(24), 32 base64url characters.
  for (let i = 0; i < 1000; i++) await put(randomBytes(24).toString('base64url'));
  await new Promise<void>((resolve) => store.clear(() => resolve()));
  const before = settledHeap();
  const started = performance.now();
  for (let i = 0; i < n; i++) await put(randomBytes(24).toString('base64url'));
  const ms = performance.now() - started;
  const after = settledHeap();
  const count = await new Promise<number>((resolve) => store.length((_e: unknown, len?: number) => resolve(len ?? 0)));
  return { sessions: count, bytesPerSession: (after - before) / count, createMs: ms };
}

/** interleaved expiry: every tenth session short-lived, the rest an hour; 5 s later the tenth have expired. */
const interleaved = { expiresAt: (i: number, clock: number) => clock + (i % 10 === 0 ? 1000 + (i % 997) : 3_600_000 + (i % 997)), advance: 5000 };
/** spread expiry: expiries evenly over the coming hour, as steady traffic leaves them; 6 minutes later a tenth have expired. */
const spread = { expiresAt: (i: number, clock: number) => clock + Math.floor((i / n) * 3_600_000) + 1, advance: 360_000 };
type Pattern = typeof interleaved;

/** timeGc fills `store` with n sessions, 10% of them expired by a fake clock, and times one gc pass; `during` runs beside the pass. */
async function timeGc(store: Store, pattern: Pattern, clock: number, advance: (ms: number) => void, batch: number, during?: (pass: Promise<unknown>) => Promise<Record<string, number>>): Promise<Record<string, number>> {
  const { generateId } = await import('sessionkit');
  const record = '{"bench":true}';
  for (let i = 0; i < n; i += batch) {
    const writes: Promise<void>[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) writes.push(store.set(generateId(32), record, pattern.expiresAt(j, clock)));
    await Promise.all(writes);
  }
  advance(pattern.advance);
  const alone: Record<string, number> = during ? await during(new Promise((done) => setTimeout(done, 200))) : {};
  collect!();
  const started = performance.now();
  const pass = store.gc!();
  const beside: Promise<Record<string, number>> = during ? during(pass) : Promise.resolve({});
  await pass;
  const gcMs = performance.now() - started;
  const besideGc = await beside;
  const written = (alone.writes ?? 0) + (besideGc.writes ?? 0);
  const left = (await store.count!()) - written;
  const writes: Record<string, number> = during ? { longestWriteMs: besideGc.longestWriteMs!, longestWriteAloneMs: alone.longestWriteMs!, writesBesideGc: besideGc.writes! } : {};
  return { sessions: n, expired: Math.ceil(n / 10), removed: n - left, gcMs, ...writes };
}

/**
 * writesBeside writes a live session every 2 ms from when `pass` starts until 20 ms after it has
 * ended, and reports how many it wrote and the longest time one took. Beside a gc pass that is how
 * long a request's write waits behind gc; beside a plain timer it is the same without gc.
 */
async function writesBeside(store: Store, pass: Promise<unknown>, expiresAt: number): Promise<Record<string, number>> {
  const { generateId } = await import('sessionkit');
  let ended: number | undefined;
  void pass.finally(() => (ended = performance.now()));
  const waits: Promise<number>[] = [];
  while (ended === undefined || performance.now() - ended < 20) {
    const started = performance.now();
    waits.push(store.set(generateId(32), '{"bench":true}', expiresAt).then(() => performance.now() - started));
    await new Promise((next) => setTimeout(next, 2));
  }
  const all = await Promise.all(waits);
  return { writes: all.length, longestWriteMs: Math.max(...all) };
}

/** gcPass times one gc pass of the memory provider. */
async function gcPass(pattern: Pattern): Promise<Record<string, number>> {
  const { provider } = await import('sessionkit/providers/memory');
  let clock = 1_700_000_000_000;
  const store = await provider.open('', { maxLifetime: 3_600_000, now: () => clock });
  return timeGc(store, pattern, clock, (ms) => (clock += ms), 1);
}

/**
 * gcLmdb times one gc pass of the lmdb provider, with a write of a live session every 2 ms beside
 * it; the fill's writes go in concurrent batches, which lmdb commits together.
 */
async function gcLmdb(): Promise<Record<string, number>> {
  const { provider } = await import('sessionkit/providers/lmdb');
  const dir = await mkdtemp(join(tmpdir(), 'sessionkit-bench-'));
  let clock = 1_700_000_000_000;
  const store = await provider.open(join(dir, 'sessions.lmdb'), { maxLifetime: 3_600_000, now: () => clock });
  try {
    return await timeGc(store, interleaved, clock, (ms) => (clock += ms), 10_000, (pass) => writesBeside(store, pass, clock + 3_600_000));
  } finally {
    await store.close?.();
    await rm(dir, { recursive: true, force: true });
  }
}

const modes: Record<string, () => Promise<Record<string, number>>> = { sessionkit: sessionkitBytes, peer: peerBytes, gc: () => gcPass(interleaved), 'gc-spread': () => gcPass(spread), 'gc-lmdb': gcLmdb };
const run = modes[mode ?? ''];
if (!run) throw new Error(`unknown mode ${mode}`);
process.stdout.write(`${JSON.stringify(await run())}\n`);
