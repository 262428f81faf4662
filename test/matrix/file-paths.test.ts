import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createManager, generateId, SessionError, type Manager, type Session, type Store } from 'sessionkit';
import { FileStore, provider } from 'sessionkit/providers/file';
import { closeServer, CookieClient, fakeClock, listen } from 'sessionkit/testing';

/**
 * The file provider against hostile paths and crashes (checklist rows 4, 6, 7, 8, 9, 45, 48):
 * whatever id arrives, through the Manager or at the store itself, no file outside the root is
 * read, created, changed or removed; a crash mid-write never leaves half a record; gc re-checks a
 * session under its lock and lets other requests run while it walks.
 */

const HOUR = 3_600_000;

/** snapshot lists every entry under `dir` (except the subtree `skip`) with its type, size and mtime. */
async function snapshot(dir: string, skip?: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (at: string): Promise<void> => {
    for (const name of await readdir(at)) {
      const path = join(at, name);
      if (path === skip) continue;
      const s = await lstat(path);
      out.push(`${relative(dir, path)} ${s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'link' : 'file'} ${s.size} ${s.mtimeMs}`);
      if (s.isDirectory()) await walk(path);
    }
  };
  await walk(dir);
  return out.sort();
}

/** hostileIds are values no store may turn into a path: wrong lengths, traversal, separators, look-alikes. */
function hostileIds(live: string): string[] {
  return [
    '', 'a', 'ab', 'a'.repeat(15), 'a'.repeat(17), 'a'.repeat(31), 'a'.repeat(129), 'a'.repeat(4096), 'a'.repeat(65_536),
    '../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', '%252e%252e%252f', '..\\..\\x', '/abs/path', 'C:\\x', `../${live}`, `${live}/..`,
    `${live.slice(0, 30)}..`, '.'.repeat(32), `${live.slice(0, 31)}/`, `${live.slice(0, 31)}\0`, '\0'.repeat(32),
    live.toUpperCase(), `．．／${live.slice(3)}`, `${live.slice(0, 31)}\u0301`, `а${live.slice(1)}`, `１${live.slice(1)}`,
  ];
}

/** killWhileWriting runs a node process that rewrites `sid` under `root` with `size`-character records, and SIGKILLs it mid-loop. */
async function killWhileWriting(root: string, sid: string, size: number): Promise<void> {
  const script = `import { provider } from 'sessionkit/providers/file';
const store = await provider.open(${JSON.stringify(root)}, { maxLifetime: ${HOUR} });
for (let i = 0; ; i++) {
  await store.set(${JSON.stringify(sid)}, (i % 2 ? 'b' : 'a').repeat(${size}), Date.now() + ${HOUR});
  if (i === 1) process.stdout.write('ready');
}`;
  const child = spawn(process.execPath, ['--conditions=sessionkit-source', '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: resolve(import.meta.dirname, '../..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  try {
    await Promise.race([once(child.stdout!, 'data'), exited]);
    await sleep(20 + Math.random() * 60);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

/** encoded is a well-formed stored record holding `data`, as sessionkit writes one. */
const encoded = (data: Record<string, unknown>) => JSON.stringify({ v: 1, c: Date.now(), t: Date.now(), d: data });

describe('file provider: hostile paths and crashes', function () {
  this.timeout(20_000);
  let parent: string;
  let root: string;

  beforeEach(async function () {
    parent = await mkdtemp(join(tmpdir(), 'sessionkit-matrix-file-'));
    root = join(parent, 'sessions');
  });
  afterEach(async function () {
    await rm(parent, { recursive: true, force: true });
  });

  it('every store method refuses ids of the wrong length or outside lowercase hex, and nothing under the parent changes', async function () {
    // Rows 4, 6, 8 and 9 at the store: reads, writes, destroy and regenerate (either id).
    const store = await provider.open(root, { maxLifetime: HOUR });
    const live = generateId();
    await store.set(live, 'live', Date.now() + HOUR);
    const before = await snapshot(parent);
    const later = Date.now() + HOUR;
    for (const bad of hostileIds(live)) {
      const calls: [string, () => Promise<unknown>][] = [
        ['get', () => store.get(bad)],
        ['set', () => store.set(bad, 'x', later)],
        ['destroy', () => store.destroy(bad)],
        ['compareAndSet', () => store.compareAndSet!(bad, undefined, 'x', later)],
        ['touch', () => store.touch!(bad, later)],
        ['regenerate from', () => store.regenerate!(bad, generateId())],
        ['regenerate to', () => store.regenerate!(live, bad)],
        ['indexAdd', () => store.indexAdd!('user:x', bad, later)],
        ['indexRemove', () => store.indexRemove!('user:x', bad)],
      ];
      for (const [what, call] of calls) {
        await assert.rejects(call(), (error: SessionError) => error.code === 'ERR_SESSION_INVALID_ID', `${what} ${JSON.stringify(bad.slice(0, 40))}`);
      }
    }
    assert.deepEqual(await snapshot(parent), before);
    assert.equal(await store.get(live), 'live');
  });

  describe('through the Manager', function () {
    let manager: Manager;
    let server: Server;
    let base: string;
    const errors: Error[] = [];
    const ROUTES: Record<string, (session: Session) => Promise<unknown> | unknown> = {
      '/whoami': (s) => ({ uid: s.get('uid') ?? null }),
      '/write': (s) => void s.set('x', 1),
      '/logout': (s) => s.destroy(),
      '/regenerate': (s) => s.regenerate(),
    };

    beforeEach(async function () {
      errors.length = 0;
      manager = await createManager({ provider: 'file', providerConfig: root, gcInterval: 0, onError: (e) => errors.push(e) });
      const middleware = manager.middleware();
      ({ server, base } = await listen((req: IncomingMessage, res: ServerResponse) =>
        middleware(req, res, async (error?: unknown) => {
          const route = ROUTES[req.url ?? ''];
          if (error || !route) {
            res.statusCode = error ? 500 : 404;
            res.end(String(error ?? ''));
            return;
          }
          const body = await route((req as IncomingMessage & { session: Session }).session);
          res.end(JSON.stringify(body ?? {}));
        }),
      ));
    });
    afterEach(async function () {
      await closeServer(server);
      await manager.close();
    });

    const request = (cookie: string, path: string) => {
      const client = new CookieClient(base);
      client.cookie = `sid=${cookie}`;
      return client.request(path);
    };

    it('a valid session file planted outside the root, and cookies pointing at it, give an anonymous session and leave it untouched', async function () {
      // Row 7, the gogs CVE-2018-18925 replay, and row 8: the same values in logout and regenerate.
      const planted = generateId();
      const record = encoded({ uid: 'admin' });
      const places = [join(parent, 'planted', planted), join(parent, planted[0]!, planted[1]!, planted), join(parent, planted)];
      const future = new Date(Date.now() + HOUR);
      for (const place of places) {
        await mkdir(resolve(place, '..'), { recursive: true });
        await writeFile(place, record, { mode: 0o600 });
        await utimes(place, future, future);
      }
      const outside = () => snapshot(parent, root);
      const before = await outside();
      const cookies = [
        `../planted/${planted}`, `../../planted/${planted}`, `..%2Fplanted%2F${planted}`, `${parent}/planted/${planted}`, `....//planted/${planted}`,
        `..\\planted\\${planted}`, `../${planted[0]}/${planted[1]}/${planted}`, `../../../${planted}`, `%2e%2e/${planted}`, planted,
      ];
      for (const cookie of cookies) {
        assert.deepEqual(JSON.parse((await request(cookie, '/whoami')).body), { uid: null }, cookie);
        for (const path of ['/write', '/logout', '/regenerate']) assert.equal((await request(cookie, path)).status, 200, `${path} ${cookie}`);
      }
      for (const value of cookies) await manager.destroy(value);
      assert.deepEqual(await outside(), before, 'nothing outside the root was created, changed or removed');
      for (const place of places) assert.equal(await readFile(place, 'utf8'), record);
    });

    it('ids that differ from a live one only in case, width or normalisation reach no file and leave the live session alone', async function () {
      // Row 9: on a case-insensitive file system an uppercase id would name the same file; it never gets that far.
      const owner = new CookieClient(base);
      await owner.request('/write');
      const live = owner.cookie!.slice('sid='.length);
      const variants = [live.toUpperCase(), live.replace(/[a-f]/, (c) => c.toUpperCase()), `${live.slice(0, -1)}\u0301`];
      for (const variant of variants) {
        const client = new CookieClient(base);
        client.cookie = `sid=${Buffer.from(variant, 'utf8').toString('latin1')}`;
        await client.request('/logout');
        await manager.store.get(variant).then(
          () => assert.fail(`the store read ${variant}`),
          (error: SessionError) => assert.equal(error.code, 'ERR_SESSION_INVALID_ID'),
        );
      }
      assert.ok((await manager.store.get(live)) !== undefined, 'the live session is still there');
      assert.deepEqual(await readdir(join(root, live[0]!, live[1]!)), [live]);
    });

    it('a truncated or garbage file at a session path gives a fresh session, is reported and removed, and never fails the request', async function () {
      // Row 45: what a crash outside sessionkit's atomic writes could leave.
      for (const content of [encoded({ uid: 'admin' }).slice(0, 20), '', '\0\0\0\0', '{"v":1}']) {
        const sid = generateId();
        const path = join(root, sid[0]!, sid[1]!, sid);
        await mkdir(resolve(path, '..'), { recursive: true, mode: 0o700 });
        await writeFile(path, content, { mode: 0o600 });
        const future = new Date(Date.now() + HOUR);
        await utimes(path, future, future);
        errors.length = 0;
        const reply = await request(sid, '/whoami');
        assert.equal(reply.status, 200);
        assert.deepEqual(JSON.parse(reply.body), { uid: null });
        assert.equal(errors.length, 1, JSON.stringify(content));
        assert.equal((errors[0] as SessionError).code, 'ERR_SESSION_CORRUPT_RECORD');
        assert.equal(await lstat(path).catch(() => 'gone'), 'gone');
      }
    });
  });

  it('a writer killed between its temp write and the rename leaves a whole record, and gc removes what it left behind', async function () {
    // Row 45: a real process, SIGKILLed while it rewrites one session with 2 MiB records, until
    // one kill lands mid-write and leaves a temp file (most do), inside the lock it held.
    const store = await provider.open(root, { maxLifetime: HOUR });
    const size = 2 * 1024 * 1024;
    const killed: string[] = [];
    let leftover = false;
    for (let attempt = 0; attempt < 5 && !leftover; attempt++) {
      const sid = generateId();
      killed.push(sid);
      await killWhileWriting(root, sid, size);
      const record = await store.get(sid);
      assert.ok(record === 'a'.repeat(size) || record === 'b'.repeat(size), `a whole record, got ${record?.length} characters`);
      leftover = (await readdir(join(root, sid[0]!, sid[1]!), { recursive: true })).some((name) => name.endsWith('.tmp'));
    }
    assert.ok(leftover, 'one of the kills left a temp file');
    assert.equal(await store.count!(), killed.length, 'leftover temp and lock files are not sessions');
    // gc leaves temp files and locks alone until no live writer could own them; age them instead of waiting.
    const old = new Date(Date.now() - 120_000);
    for (const sid of killed) {
      const shard = join(root, sid[0]!, sid[1]!);
      for (const name of await readdir(shard)) if (!killed.includes(name)) await utimes(join(shard, name), old, old);
    }
    await store.gc!();
    for (const sid of killed) {
      assert.deepEqual((await readdir(join(root, sid[0]!, sid[1]!))).filter((name) => name.startsWith(sid)), [sid]);
      await store.set(sid, 'written after the crash', Date.now() + HOUR);
      assert.equal(await store.get(sid), 'written after the crash');
    }
  });

  it('gc keeps a session refreshed while it waits for that session, and other requests go on while it walks', async function () {
    // Row 48. The lock file stands in for a request refreshing the session: gc found it expired,
    // must wait for the lock, and must look again once it has it.
    const clock = fakeClock();
    const store: Store = new FileStore({ root }, { maxLifetime: HOUR, now: clock.now });
    const inShard = () => `ab${generateId().slice(2)}`;
    const refreshed = inShard();
    const expired = Array.from({ length: 20 }, () => generateId());
    for (const sid of [refreshed, ...expired]) await store.set(sid, 'old', clock.now() + 1000);
    const bystander = generateId();
    await store.set(bystander, 'live', clock.now() + HOUR);
    await clock.advance(2000);
    const shard = join(root, 'a', 'b');
    await writeFile(join(shard, `${refreshed}.lock`), '');
    let gcDone = false;
    const gc = store.gc!().then(() => (gcDone = true));
    // A walk over two dozen files takes a few ms; still running after 200 ms, gc is waiting for the lock.
    await sleep(200);
    // While gc is held up, other sessions, also in the same directory, are read and written.
    const neighbour = inShard();
    await store.set(neighbour, 'new', clock.now() + HOUR);
    assert.equal(await store.get(neighbour), 'new');
    assert.equal(await store.get(bystander), 'live');
    assert.equal(gcDone, false, 'gc is still waiting for the lock');
    // The "request" refreshes the session and lets go of its lock.
    const future = new Date(clock.now() + HOUR);
    await writeFile(join(shard, refreshed), 'refreshed');
    await utimes(join(shard, refreshed), future, future);
    await rm(join(shard, `${refreshed}.lock`));
    await gc;
    assert.equal(await store.get(refreshed), 'refreshed');
    for (const sid of expired) assert.equal(await store.get(sid), undefined);
    assert.deepEqual((await readdir(shard)).filter((name) => name !== bystander).sort(), [neighbour, refreshed].sort());
  });
});
