import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createManager, generateId, SessionError } from 'sessionkit';
import { FileStore, INDEX_DIR, provider } from 'sessionkit/providers/file';
import { fakeRequest } from '../support/requests.ts';

/**
 * No symlink between the root and a record is followed, at any level, and a root that others may
 * write is refused: whoever can write there could plant a link or a session.
 */

const HOUR = 3_600_000;

/** idStarting returns a fresh id that starts with `prefix`. */
const idStarting = (prefix: string) => prefix + generateId().slice(prefix.length);

/** tree lists every entry under `dir` with its type, size and mtime. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir, { recursive: true })) {
    const s = await lstat(join(dir, name));
    out.push(`${name} ${s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'link' : 'file'} ${s.size} ${s.mtimeMs}`);
  }
  return out.sort();
}

/** refusal checks that `error` is the store's refusal of the link at `link`, and that it names no session id. */
function refusal(link: string, ...ids: string[]): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof SessionError, String(error));
    assert.equal(error.code, 'ERR_SESSION_STORE');
    assert.ok(error.message.includes(`${link} is a symlink, not a directory`), error.message);
    for (const sid of ids) assert.ok(!error.message.includes(sid), error.message);
    return true;
  };
}

describe('file provider: links below the root and the root itself', function () {
  let parent: string;
  let root: string;
  let elsewhere: string;

  beforeEach(async function () {
    parent = await mkdtemp(join(tmpdir(), 'sessionkit-links-'));
    root = join(parent, 'sessions');
    elsewhere = join(parent, 'elsewhere');
    await mkdir(root, { mode: 0o700 });
    await mkdir(elsewhere, { mode: 0o700 });
  });
  afterEach(async function () {
    await rm(parent, { recursive: true, force: true });
  });

  for (const level of [['e'], ['e', '6']]) {
    const link = level.join('/');
    it(`a symlinked shard directory (${link} → elsewhere) is never followed: its sessions are refused, a record planted behind it is never read, and nothing is made there`, async function () {
      const store = await provider.open(root, { maxLifetime: HOUR });
      await mkdir(join(root, ...level.slice(0, -1)), { recursive: true, mode: 0o700 });
      await symlink(elsewhere, join(root, ...level));
      const planted = idStarting('e6');
      const behind = join(elsewhere, ...(level.length === 1 ? ['6'] : []), planted);
      await mkdir(join(behind, '..'), { recursive: true });
      await writeFile(behind, JSON.stringify({ v: 1, c: Date.now(), t: Date.now(), d: { uid: 'admin' } }), { mode: 0o600 });
      const future = new Date(Date.now() + HOUR);
      await utimes(behind, future, future);
      const outside = await tree(elsewhere);

      const linkPath = join(root, ...level);
      const fresh = idStarting('e6');
      const later = Date.now() + HOUR;
      const calls: [string, () => Promise<unknown>][] = [
        ['get', () => store.get(planted)],
        ['set', () => store.set(fresh, 'x', later)],
        ['compareAndSet', () => store.compareAndSet!(fresh, undefined, 'x', later)],
        ['destroy', () => store.destroy(planted)],
        ['touch', () => store.touch!(planted, later)],
        ['regenerate from', () => store.regenerate!(planted, idStarting('0'))],
      ];
      for (const [what, call] of calls) await assert.rejects(call(), refusal(linkPath, planted, fresh), what);
      const mine = idStarting('0');
      await store.set(mine, 'mine', later);
      await assert.rejects(store.regenerate!(mine, fresh), refusal(linkPath, mine, fresh), 'regenerate to');
      assert.equal(await store.get(mine), 'mine');

      assert.equal(await store.count!(), 1, 'count sees only the session in a real directory');
      await assert.rejects(store.gc!(), refusal(linkPath), 'gc reports the link');
      assert.equal(await store.get(mine), 'mine', 'gc swept the real directories');
      assert.deepEqual(await tree(elsewhere), outside, 'nothing behind the link was created, changed or removed');

      const manager = await createManager({ provider: 'file', providerConfig: root, gcInterval: 0, onError: () => undefined });
      try {
        await assert.rejects(manager.load(fakeRequest(`sid=${planted}`)), refusal(linkPath, planted), 'the planted session is never adopted');
      } finally {
        await manager.close();
      }
    });
  }

  for (const level of [[INDEX_DIR], [INDEX_DIR, 'ab']]) {
    it(`a symlinked index directory (${level.join('/')} → elsewhere) is never followed, and gc reports it`, async function () {
      const store = new FileStore({ root }, { maxLifetime: HOUR });
      await mkdir(join(root, ...level.slice(0, -1)), { recursive: true, mode: 0o700 });
      await symlink(elsewhere, join(root, ...level));
      // A key whose hash starts with "ab" lands under index/ab.
      let key = 'user:0';
      for (let i = 1; !createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('hex').startsWith('ab'); i++) key = `user:${i}`;
      const sid = generateId();
      await assert.rejects(store.indexAdd(key, sid, Date.now() + HOUR), refusal(join(root, ...level), sid));
      await assert.rejects(store.indexList(key), refusal(join(root, ...level)));
      await assert.rejects(store.gc!(), refusal(join(root, ...level)));
      assert.deepEqual(await readdir(elsewhere), []);
    });
  }

  it('a file where a shard directory belongs is refused, naming it, and left alone', async function () {
    const store = await provider.open(root, { maxLifetime: HOUR });
    await writeFile(join(root, 'e'), 'not a directory');
    const sid = idStarting('e');
    await assert.rejects(store.set(sid, 'x', Date.now() + HOUR), (error: SessionError) => {
      assert.match(error.message, /sessions\/e is a file, not a directory/);
      assert.ok(!error.message.includes(sid));
      return true;
    });
    assert.equal(await readFile(join(root, 'e'), 'utf8'), 'not a directory');
  });

  for (const mode of [0o777, 0o770, 0o707, 0o720, 0o1777]) {
    it(`a root that group or others may write (mode ${mode.toString(8)}) is refused at open, naming the mode`, async function () {
      await chmod(root, mode);
      const shown = mode.toString(8).padStart(4, '0');
      await assert.rejects(provider.open(root, { maxLifetime: HOUR }), (error: SessionError) => {
        assert.equal(error.code, 'ERR_SESSION_STORE');
        assert.equal(error.message, `session/file: ${root} is writable by group or others (mode ${shown}); make it private with chmod 700`);
        return true;
      });
      await assert.rejects(createManager({ provider: 'file', providerConfig: root }), /writable by group or others/);
      assert.equal((await stat(root)).mode & 0o7777, mode, 'the root is left as it was');
    });
  }

  it('a private root opens, whether it is created, already there (0700, 0750, 0755), or reached through a symlink', async function () {
    for (const mode of [0o700, 0o750, 0o755]) {
      await chmod(root, mode);
      const store = await provider.open(root, { maxLifetime: HOUR });
      await store.set(generateId(), 'x', Date.now() + HOUR);
    }
    const created = join(parent, 'new', 'sessions');
    await provider.open(created, { maxLifetime: HOUR });
    assert.equal((await stat(created)).mode & 0o777, 0o700);
    const linked = join(parent, 'linked');
    await symlink(relative(parent, root), linked);
    const store = await provider.open(linked, { maxLifetime: HOUR });
    const sid = generateId();
    await store.set(sid, 'through the configured link', Date.now() + HOUR);
    assert.equal(await readFile(join(root, sid[0]!, sid[1]!, sid), 'utf8'), 'through the configured link');
  });
});
