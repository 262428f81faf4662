import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fsp, { lstat, mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createManager, generateId, type Manager } from 'sessionkit';
import { FileStore } from 'sessionkit/providers/file';
import { fakeRequest } from '../support/requests.ts';
import { startScript, type ScriptChild } from '../support/script-child.ts';

/**
 * Two app processes share one file store, and one of them is frozen (SIGSTOP) while it holds a
 * session's lock, for longer than a lock may be held: the other breaks the lock and goes on
 * writing. When the frozen process resumes, the write it had prepared from an older record must
 * not land, and nothing either process acknowledged may be lost. Instead of waiting out the ten
 * seconds after which a lock counts as abandoned, the test ages the frozen process's lock, as the
 * gc tests age leftover files.
 */

const HOUR = 3_600_000;
/** CYCLES is how often the child is frozen; each freeze lands somewhere in its critical section. */
const CYCLES = 5;
/** PARENT_WRITES is how many increments the parent acknowledges while the child is frozen. */
const PARENT_WRITES = 10;
/** PAD makes each record big enough that reading and writing it is most of the critical section. */
const PAD = 512 * 1024;

/** childScript increments `n` in session `sid` from four concurrent loops until its stdin says stop, then prints its tally. */
const childScript = (root: string, sid: string) => `import { createManager } from 'sessionkit';
setTimeout(() => process.exit(3), 60_000);
const manager = await createManager({ provider: 'file', providerConfig: ${JSON.stringify(root)}, gcInterval: 0, onError: () => {} });
const request = { headers: { cookie: 'sid=${sid}' } };
let running = true;
process.stdin.on('data', () => { running = false; });
let acknowledged = 0;
let attempts = 0;
const loop = async () => {
  while (running) {
    attempts++;
    try {
      const session = await manager.load(request);
      session.increment('n');
      await session.release();
      acknowledged++;
    } catch {}
  }
};
process.stdout.write('ready\\n');
await Promise.all([loop(), loop(), loop(), loop()]);
process.stdout.write(JSON.stringify({ acknowledged, attempts }) + '\\n');
process.exit(0);`;

/** stateOf reads a process's state letter from /proc (T: stopped). */
const stateOf = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];

/** stopHolding freezes `child` at a moment it holds the lock at `lockPath`, and returns once it is frozen holding it. */
async function stopHolding(child: ScriptChild['child'], lockPath: string): Promise<void> {
  for (let tries = 0; tries < 2000; tries++) {
    if (await lstat(lockPath).then(() => true, () => false)) {
      child.kill('SIGSTOP');
      while (stateOf(child.pid!) !== 'T') await sleep(1);
      if (await lstat(lockPath).then(() => true, () => false)) return;
      child.kill('SIGCONT');
    }
    await sleep(Math.random() * 3);
  }
  assert.fail('the child never held the lock when looked at');
}

describe('file provider: a process frozen while it holds a lock', function () {
  this.timeout(60_000);
  let parent: string;
  let manager: Manager;
  let child: ScriptChild | undefined;

  beforeEach(async function () {
    parent = await mkdtemp(join(tmpdir(), 'sessionkit-stall-'));
    manager = await createManager({ provider: 'file', providerConfig: join(parent, 'sessions'), gcInterval: 0, onError: () => {} });
  });
  afterEach(async function () {
    await child?.kill();
    await manager.close();
    await rm(parent, { recursive: true, force: true });
  });

  it('loses no acknowledged increment when the frozen process resumes after its lock was broken', async function () {
    const root = join(parent, 'sessions');
    const first = await manager.load(fakeRequest());
    first.set('n', 0);
    first.set('pad', 'x'.repeat(PAD));
    await first.release();
    const sid = first.id;
    const lockPath = join(root, sid[0]!, sid[1]!, `${sid}.lock`);
    const request = fakeRequest(`sid=${sid}`);

    child = await startScript(childScript(root, sid));
    const { child: frozen } = child;
    let acknowledged = 0;
    let attempts = 0;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      await sleep(100);
      await stopHolding(frozen, lockPath);
      const old = new Date(Date.now() - 60_000);
      await utimes(lockPath, old, old).catch(() => undefined);
      for (let done = 0; done < PARENT_WRITES; attempts++) {
        const session = await manager.load(request);
        session.increment('n');
        try {
          await session.release();
          acknowledged++;
          done++;
        } catch {
          assert.ok(attempts < 20 * PARENT_WRITES * CYCLES, 'the parent gets its writes through once the lock is broken');
        }
      }
      frozen.kill('SIGCONT');
    }
    await sleep(200);
    frozen.stdin!.end('stop\n');
    const tally = await child.result<{ acknowledged: number; attempts: number }>();

    const n = (await manager.load(request)).get('n') as number;
    const lost = acknowledged + tally.acknowledged - n;
    assert.ok(lost <= 0, `${lost} acknowledged increments lost: counter ${n}, parent ${acknowledged}, child ${tally.acknowledged}`);
    assert.ok(n <= attempts + tally.attempts, `counter ${n} above the ${attempts + tally.attempts} attempts`);
  });
});

/** Gate holds one file-system call until the test opens it. */
interface Gate {
  reached: Promise<void>;
  open(): void;
}

/**
 * stallAt makes the next calls of `method` (rename or unlink) whose first path is `from` or whose
 * second path is `to` wait at a gate, one gate per call, the way a process frozen just before that
 * system call would; `restore` puts the method back.
 */
function stallAt(method: 'rename' | 'unlink', match: (a: string, b?: string) => boolean): { gate(): Gate; restore(): void } {
  const original = fsp[method] as (...args: unknown[]) => Promise<void>;
  const gates: { arrive(): void; opened: Promise<void> }[] = [];
  (fsp as Record<string, unknown>)[method] = async (...args: unknown[]) => {
    if (match(String(args[0]), args[1] === undefined ? undefined : String(args[1])) && gates.length > 0) {
      const gate = gates.shift()!;
      gate.arrive();
      await gate.opened;
    }
    return original(...args);
  };
  syncBuiltinESMExports();
  return {
    gate() {
      let arrive!: () => void;
      let open!: () => void;
      const reached = new Promise<void>((resolve) => (arrive = resolve));
      const opened = new Promise<void>((resolve) => (open = resolve));
      gates.push({ arrive, opened });
      return { reached, open };
    },
    restore() {
      (fsp as Record<string, unknown>)[method] = original;
      syncBuiltinESMExports();
    },
  };
}

describe('file provider: a writer that stalls holding a lock', function () {
  const HOUR_AHEAD = () => Date.now() + HOUR;
  let parent: string;
  let root: string;
  const restores: (() => void)[] = [];

  beforeEach(async function () {
    parent = await mkdtemp(join(tmpdir(), 'sessionkit-fence-'));
    root = join(parent, 'sessions');
  });
  afterEach(async function () {
    for (const restore of restores.splice(0)) restore();
    await rm(parent, { recursive: true, force: true });
  });

  /** age makes the lock at `path` look abandoned, as a stall longer than STALE_LOCK_MS would. */
  const age = async (path: string) => {
    const old = new Date(Date.now() - 60_000);
    await utimes(path, old, old);
  };

  it('commits nothing once its lock was broken, and leaves the lock of the writer that broke it alone', async function () {
    // Two stores on one root stand for two processes: each has its own queue, so they meet only at the file lock.
    const [a, b] = [new FileStore({ root }, { maxLifetime: HOUR }), new FileStore({ root }, { maxLifetime: HOUR })];
    const sid = generateId();
    await a.set(sid, 'v0', HOUR_AHEAD());
    const record = join(root, sid[0]!, sid[1]!, sid);
    const lock = `${record}.lock`;
    const stall = stallAt('rename', (_from, to) => to === record);
    restores.push(stall.restore);

    const frozenA = stall.gate();
    const casA = a.compareAndSet(sid, 'v0', 'from a', HOUR_AHEAD());
    await frozenA.reached;
    await age(lock);
    assert.equal(await b.compareAndSet(sid, 'v0', 'b1', HOUR_AHEAD()), true, 'b breaks the abandoned lock and writes');

    const frozenB = stall.gate();
    const casB = b.compareAndSet(sid, 'b1', 'b2', HOUR_AHEAD());
    await frozenB.reached;
    frozenA.open();
    assert.equal(await casA, false, 'the stalled compareAndSet reports a conflict instead of writing over b1');
    assert.equal(await a.get(sid), 'b1');
    assert.ok((await lstat(lock)).isDirectory(), "b's lock is still there while b holds it");
    frozenB.open();
    assert.equal(await casB, true);
    assert.equal(await a.get(sid), 'b2');
    assert.deepEqual(await readdir(join(root, sid[0]!, sid[1]!)), [sid], 'no lock or temp file is left behind');
  });

  it('a stalled set fails without writing, and the write made meanwhile stays', async function () {
    const [a, b] = [new FileStore({ root }, { maxLifetime: HOUR }), new FileStore({ root }, { maxLifetime: HOUR })];
    const sid = generateId();
    const record = join(root, sid[0]!, sid[1]!, sid);
    const stall = stallAt('rename', (_from, to) => to === record);
    restores.push(stall.restore);
    const frozen = stall.gate();
    const setA = a.set(sid, 'from a', HOUR_AHEAD());
    await frozen.reached;
    await age(`${record}.lock`);
    await b.set(sid, 'from b', HOUR_AHEAD());
    frozen.open();
    await assert.rejects(setA, /lock was broken/);
    assert.equal(await b.get(sid), 'from b');
  });

  it('gc that stalls after finding a session expired never removes it once it was written again', async function () {
    let now = Date.now();
    const clock = { now: () => now };
    const [gcStore, writer] = [new FileStore({ root }, { maxLifetime: HOUR, ...clock }), new FileStore({ root }, { maxLifetime: HOUR, ...clock })];
    const sid = generateId();
    await writer.set(sid, 'old', now + 1000);
    now += 2000;
    const record = join(root, sid[0]!, sid[1]!, sid);
    // Whichever way gc removes the file — unlink, or a move aside first — it stops right there.
    const stallMove = stallAt('rename', (from) => from === record);
    const stallUnlink = stallAt('unlink', (path) => path === record);
    restores.push(stallMove.restore, stallUnlink.restore);
    const [frozenMove, frozenUnlink] = [stallMove.gate(), stallUnlink.gate()];
    const gc = gcStore.gc();
    await Promise.race([frozenMove.reached, frozenUnlink.reached]);
    await age(`${record}.lock`);
    await writer.set(sid, 'written again', now + HOUR);
    frozenMove.open();
    frozenUnlink.open();
    await gc;
    assert.equal(await writer.get(sid), 'written again');
  });
});
