// Heap and gc measurements, each run in its own child process started with --expose-gc:
//   node --expose-gc … bench/memory.ts sessionkit <n>   heap bytes per session, memory provider
//   node --expose-gc … bench/memory.ts peer <n>         heap bytes per session, express-session MemoryStore
//   node --expose-gc … bench/memory.ts gc <n>           one memory-provider gc pass, 10% expired
// Each prints one JSON line on stdout.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

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

/** gcPass times one gc pass of the memory provider over n sessions, 10% of them expired by a fake clock. */
async function gcPass(): Promise<Record<string, number>> {
  const { provider } = await import('sessionkit/providers/memory');
  let clock = 1_700_000_000_000;
  const store = await provider.open('', { maxLifetime: 3_600_000, now: () => clock });
  const { generateId } = await import('sessionkit');
  const record = '{"bench":true}';
  let expired = 0;
  for (let i = 0; i < n; i++) {
    const short = i % 10 === 0;
    if (short) expired++;
    // Expiry times are interleaved, as real traffic makes them.
    await store.set(generateId(32), record, clock + (short ? 1000 + (i % 997) : 3_600_000 + (i % 997)));
  }
  clock += 5000;
  collect!();
  const started = performance.now();
  await store.gc!();
  const gcMs = performance.now() - started;
  const left = await store.count!();
  return { sessions: n, expired, removed: n - left, gcMs };
}

const run = mode === 'sessionkit' ? sessionkitBytes : mode === 'peer' ? peerBytes : mode === 'gc' ? gcPass : undefined;
if (!run) throw new Error(`unknown mode ${mode}`);
process.stdout.write(`${JSON.stringify(await run())}\n`);
