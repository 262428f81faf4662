import { expect } from 'chai';
import { createHash } from 'node:crypto';
import fsp, { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateId } from 'sessionkit';
import { FileStore, INDEX_DIR } from 'sessionkit/providers/file';

/** hashOf is the key's directory name: sha256 of its UTF-16 code units, as the store computes it. */
const hashOf = (key: string) => createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('hex');

/** filesUnder lists every path below `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map((p) => p.toString()).sort();
}

describe('file provider index', function () {
  let parent: string;
  let root: string;
  let now: number;
  let store: FileStore;
  const HOUR = 3_600_000;

  beforeEach(async function () {
    parent = await mkdtemp(join(tmpdir(), 'sessionkit-fileidx-'));
    root = join(parent, 'sessions');
    await mkdir(root, { mode: 0o700 });
    now = Date.UTC(2030, 0, 1);
    store = new FileStore({ root }, { maxLifetime: HOUR, now: () => now });
  });
  afterEach(async function () {
    await rm(parent, { recursive: true, force: true });
  });

  it('files an entry at root/index/<h[0..2]>/<h>/<sid>, h the sha256 of the key: a 0600 empty file whose mtime is the expiry, in 0700 directories', async function () {
    const key = 'user:Zoë 🍪';
    const sid = generateId();
    const previous = process.umask(0o022);
    try {
      await store.indexAdd(key, sid, now + HOUR);
    } finally {
      process.umask(previous);
    }
    const h = hashOf(key);
    const path = join(root, INDEX_DIR, h.slice(0, 2), h, sid);
    const s = await lstat(path);
    expect(s.isFile()).to.equal(true);
    expect(s.size).to.equal(0);
    expect(s.mode & 0o777).to.equal(0o600);
    expect(Math.round(s.mtimeMs)).to.equal(now + HOUR);
    for (const dir of [join(root, INDEX_DIR), join(root, INDEX_DIR, h.slice(0, 2)), join(root, INDEX_DIR, h.slice(0, 2), h)]) {
      expect((await stat(dir)).mode & 0o777, dir).to.equal(0o700);
    }
    expect(await filesUnder(root)).to.deep.equal([INDEX_DIR, join(INDEX_DIR, h.slice(0, 2)), join(INDEX_DIR, h.slice(0, 2), h), join(INDEX_DIR, h.slice(0, 2), h, sid)]);
  });

  it('a hostile key (../.., absolute paths, NUL, backslashes) never becomes a path: every entry lands under root/index, apart from the others', async function () {
    const outside = join(parent, 'outside');
    const keys = ['../..', '../../outside', outside, '/etc/passwd', '/', 'a\0b', '\0', '..\\..\\x', 'user:../../../' + 'x'.repeat(480), '.', '..', `${INDEX_DIR}/../1/2`];
    const filed = new Map(keys.map((key) => [key, generateId()]));
    for (const [key, sid] of filed) await store.indexAdd(key, sid, now + HOUR);
    for (const [key, sid] of filed) expect(await store.indexList(key), JSON.stringify(key)).to.deep.equal([sid]);
    expect(await readdir(parent)).to.deep.equal(['sessions']);
    expect(await readdir(root)).to.deep.equal([INDEX_DIR]);
    const entries = (await filesUnder(root)).filter((p) => p.split('/').length === 4);
    expect(entries).to.have.length(keys.length);
    for (const p of entries) expect(p).to.match(/^index\/([0-9a-f]{2})\/\1[0-9a-f]{62}\/[0-9a-f]{32}$/);
    for (const [key, sid] of filed) await store.indexRemove(key, sid);
    for (const key of keys) expect(await store.indexList(key)).to.deep.equal([]);
    expect(await readdir(parent)).to.deep.equal(['sessions']);
  });

  it('keys that differ only in a lone surrogate stay apart (UTF-8 would fold both to U+FFFD)', async function () {
    const [a, b, c] = [generateId(), generateId(), generateId()];
    await store.indexAdd('user:\ud800', a, now + HOUR);
    await store.indexAdd('user:\udc00', b, now + HOUR);
    await store.indexAdd('user:\ufffd', c, now + HOUR);
    expect(await store.indexList('user:\ud800')).to.deep.equal([a]);
    expect(await store.indexList('user:\udc00')).to.deep.equal([b]);
    expect(await store.indexList('user:\ufffd')).to.deep.equal([c]);
  });

  it('refuses an invalid id before it can become a path', async function () {
    for (const sid of ['../../x', '/abs', generateId().toUpperCase(), '', 'ab']) {
      for (const call of [() => store.indexAdd('user:1', sid, now + HOUR), () => store.indexRemove('user:1', sid)]) {
        const error = await call().catch((e: unknown) => e);
        expect(error, sid).to.have.property('code', 'ERR_SESSION_INVALID_ID');
      }
    }
    expect(await readdir(parent)).to.deep.equal(['sessions']);
  });

  it('indexList reads one directory, the key\'s own, however many other keys and sessions there are', async function () {
    for (let i = 0; i < 20; i++) {
      await store.indexAdd(`user:${i}`, generateId(), now + HOUR);
      await store.set(generateId(), 'x', now + HOUR);
    }
    const sid = generateId();
    await store.indexAdd('user:me', sid, now + HOUR);
    const original = fsp.readdir;
    const read: string[] = [];
    fsp.readdir = ((path: string, ...rest: unknown[]) => {
      read.push(path);
      return (original as (...args: unknown[]) => unknown)(path, ...rest);
    }) as typeof fsp.readdir;
    syncBuiltinESMExports();
    try {
      expect(await store.indexList('user:me')).to.deep.equal([sid]);
    } finally {
      fsp.readdir = original;
      syncBuiltinESMExports();
    }
    const h = hashOf('user:me');
    expect(read).to.deep.equal([join(root, INDEX_DIR, h.slice(0, 2), h)]);
  });

  it('index entries are never sessions: count and get never see them, and destroying the session leaves its entry to the Manager', async function () {
    const sid = generateId();
    await store.set(sid, 'record', now + HOUR);
    for (let i = 0; i < 30; i++) await store.indexAdd(`user:${i}`, generateId(), now + HOUR);
    await store.indexAdd('user:x', sid, now + HOUR);
    expect(await store.count()).to.equal(1);
    expect(await store.get(sid)).to.equal('record');
    await store.destroy(sid);
    expect(await store.count()).to.equal(0);
    expect(await store.indexList('user:x')).to.deep.equal([sid]);
  });

  it('a symlink planted at an entry path is not listed, and indexAdd replaces it without writing through it', async function () {
    const target = join(parent, 'target');
    await writeFile(target, 'keep');
    const future = new Date(now + HOUR);
    await utimes(target, future, future);
    const sid = generateId();
    const h = hashOf('user:planted');
    const dir = join(root, INDEX_DIR, h.slice(0, 2), h);
    await mkdir(dir, { recursive: true });
    await symlink(target, join(dir, sid));
    await mkdir(join(dir, generateId()));
    expect(await store.indexList('user:planted')).to.deep.equal([]);
    await store.indexAdd('user:planted', sid, now + HOUR);
    expect((await lstat(join(dir, sid))).isFile()).to.equal(true);
    expect(await readFile(target, 'utf8')).to.equal('keep');
    expect(await store.indexList('user:planted')).to.deep.equal([sid]);
  });

  it('an entry added with an expiry already past is removed, not filed', async function () {
    const sid = generateId();
    await store.indexAdd('user:past', sid, now + HOUR);
    await store.indexAdd('user:past', sid, now);
    expect(await store.indexList('user:past')).to.deep.equal([]);
    const h = hashOf('user:past');
    expect(await readdir(join(root, INDEX_DIR, h.slice(0, 2), h))).to.deep.equal([]);
  });

  it('indexRemove of the last entry removes the key directory; of an unknown key it creates nothing', async function () {
    const sid = generateId();
    await store.indexAdd('user:gone', sid, now + HOUR);
    await store.indexRemove('user:gone', sid);
    const h = hashOf('user:gone');
    expect(await lstat(join(root, INDEX_DIR, h.slice(0, 2), h)).catch(() => 'gone')).to.equal('gone');
    await store.indexRemove('user:never', sid);
    const n = hashOf('user:never');
    expect(await lstat(join(root, INDEX_DIR, n.slice(0, 2))).catch(() => 'gone')).to.equal('gone');
  });

  it('gc removes expired entries, leftover temp and lock files and the directories they leave empty, and keeps live entries', async function () {
    const [dead, live] = [generateId(), generateId()];
    await store.indexAdd('user:dead', dead, now + 1000);
    await store.indexAdd('user:mixed', dead, now + 1000);
    await store.indexAdd('user:mixed', live, now + HOUR);
    const crashed = hashOf('user:crashed');
    const crashedDir = join(root, INDEX_DIR, crashed.slice(0, 2), crashed);
    await mkdir(crashedDir, { recursive: true });
    const old = new Date(Date.now() - 120_000);
    for (const name of [`${dead}.lock`, `${dead}.0123456789ab.tmp`]) {
      await writeFile(join(crashedDir, name), '');
      await utimes(join(crashedDir, name), old, old);
    }
    now += 2000;
    await store.gc();
    expect(await store.indexList('user:mixed')).to.deep.equal([live]);
    const mixed = hashOf('user:mixed');
    expect(await filesUnder(join(root, INDEX_DIR))).to.deep.equal([mixed.slice(0, 2), join(mixed.slice(0, 2), mixed), join(mixed.slice(0, 2), mixed, live)]);
    now += HOUR;
    await store.gc();
    expect(await readdir(join(root, INDEX_DIR))).to.deep.equal([]);
  });

  it('gc never removes an entry that indexAdd refreshes while gc runs', async function () {
    for (let round = 0; round < 20; round++) {
      const key = `user:race:${round}`;
      const sid = generateId();
      await store.indexAdd(key, sid, now + 1000);
      now += 2000;
      await Promise.all([store.gc(), store.indexAdd(key, sid, now + HOUR)]);
      expect(await store.indexList(key), `round ${round}`).to.deep.equal([sid]);
    }
  });

  it('concurrent adds keep every entry while removals and gc empty and remove key directories under them', async function () {
    const key = 'user:churn';
    const ids = Array.from({ length: 50 }, () => generateId());
    const doomed = Array.from({ length: 50 }, () => generateId());
    for (const sid of doomed) await store.indexAdd(key, sid, now + HOUR);
    await Promise.all([
      ...ids.map((sid) => store.indexAdd(key, sid, now + HOUR)),
      ...doomed.map((sid) => store.indexRemove(key, sid)),
      store.gc(),
    ]);
    expect((await store.indexList(key)).sort()).to.deep.equal([...ids].sort());
  });

  it('clear removes the index subtree along with the sessions', async function () {
    await store.set(generateId(), 'x', now + HOUR);
    await store.indexAdd('user:1', generateId(), now + HOUR);
    await store.clear();
    expect(await store.indexList('user:1')).to.deep.equal([]);
    expect(await lstat(join(root, INDEX_DIR)).catch(() => 'gone')).to.equal('gone');
    expect(await store.count()).to.equal(0);
    expect(await readdir(parent)).to.deep.equal(['sessions']);
  });
});
