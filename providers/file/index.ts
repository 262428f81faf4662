import { randomBytes } from 'node:crypto';
import { constants, type Dirent, type Stats } from 'node:fs';
import { link, lstat, open, readdir, rename, rm, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SessionError } from '../../src/errors.ts';
import { assertValidId, isValidId } from '../../src/id.ts';
import type { OpenOptions, Provider, Store } from '../../src/provider.ts';
import { register } from '../../src/registry.ts';
import { idTaken, StoreGuard } from '../shared/errors.ts';
import { indexKeyHash } from '../shared/index-key.ts';
import { parseConfig, type FileOptions } from './config.ts';
import { breakLock, isStale, Locks, type Held, type StoredRecord } from './lock.ts';
import { Dirs, hidingIds, notADirectory } from './paths.ts';

export { DEFAULT_ROOT, parseConfig, type FileOptions } from './config.ts';
export { LOCK_WAIT_MS, STALE_LOCK_MS } from './lock.ts';

/** INDEX_DIR is the subtree of the root that holds the index; no session shard is named like it. */
export const INDEX_DIR = 'index';

const NAME = 'file';

/** STALE_TEMP_MS is the age after which gc removes a temp file or directory no live writer can still own. */
const STALE_TEMP_MS = 60_000;
/** DIR_RETRIES bounds how often a move recreates a directory that gc removed from under it. */
const DIR_RETRIES = 3;
const SHARD = /^[0-9a-f]$/;
const INDEX_SHARD = /^[0-9a-f]{2}$/;
const INDEX_KEY = /^[0-9a-f]{64}$/;

/** lostLock is what a write rejects with when its lock was broken while it stalled: it wrote nothing. */
const lostLock = () =>
  new SessionError('ERR_SESSION_STORE', `session/${NAME}: the lock was broken while this write stalled (held for over 10 s); nothing was written`);

/** missing tells whether a file-system error says the path (or a directory on it) is not there. */
const missing = (error: unknown) => ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '');

/**
 * FileStore keeps each session in its own file, `root/<sid[0]>/<sid[1]>/<sid>`, as macaron does:
 * directories 0700, files 0600. The file's mtime holds the session's expiry, so touch never
 * rewrites data and gc needs only a stat. Writes go to a temp file renamed into place, so a reader
 * sees the old record or the new one, never half a file.
 *
 * Every change is made under the session's lock (`<sid>.lock`, a directory renamed into place, see
 * `lock.ts`), which serialises writers across processes sharing the directory. Within a process,
 * operations on one session queue for the lock and run in batches under one holding, so a burst
 * of writers to one session never times out on the lock. A holder that stalls for longer than
 * {@link STALE_LOCK_MS} has its lock broken, and its write then cannot land: the rename that
 * would commit it has lost its source.
 *
 * No symlink below the root is followed: each directory is checked (`realpath`) before use and
 * created level by level; records are opened with `O_NOFOLLOW`. Only valid ids ever become paths,
 * and no id appears in an error: the file names in messages are replaced by `***`.
 *
 * The index lives apart, in `root/index/<h[0..2]>/<h>/<sid>` where `h` is the sha256 of the key:
 * one empty file per entry, its mtime the entry's expiry, written like a session file. A key never
 * becomes a path itself, and listing a key reads that key's directory only.
 */
export class FileStore implements Store {
  readonly root: string;
  private readonly now: () => number;
  private readonly guard = new StoreGuard(NAME);
  private readonly dirs: Dirs;
  private readonly locks = new Locks();

  constructor(options: FileOptions, open: OpenOptions) {
    this.root = options.root;
    this.now = open.now ?? Date.now;
    this.dirs = new Dirs(options.root);
  }

  /** ready creates and checks the root (see `Dirs.realRoot`); `provider.open` calls it so a bad root fails at startup. */
  async ready(): Promise<void> {
    await this.dirs.realRoot();
  }

  async get(sid: string): Promise<string | undefined> {
    const parts = this.shard(sid);
    return this.run('get', async () => ((await this.dirs.check(parts)) ? live(await this.read(join(this.root, ...parts, sid)), this.now()) : undefined));
  }

  async set(sid: string, record: string, expiresAt: number): Promise<void> {
    const parts = this.shard(sid);
    await this.run('set', () =>
      this.locked(parts, sid, async (held, dir) => {
        if (!(await this.write(held, dir, sid, record, expiresAt))) throw lostLock();
      }),
    );
  }

  async destroy(sid: string): Promise<void> {
    const parts = this.shard(sid);
    await this.run('destroy', async () => {
      if (!(await this.dirs.check(parts))) return;
      await this.locked(parts, sid, async (held, dir) => {
        await remove(join(dir, sid));
        held.record = null;
      });
    });
  }

  /**
   * compareAndSet compares under the lock and commits through it. Within one holding the record
   * read or written last is kept in memory, so the losers of a burst of writers of one session
   * cost no file-system call at all. A commit that finds the lock broken writes nothing and
   * returns false: the caller reads again and retries, as after any conflict.
   */
  async compareAndSet(sid: string, expected: string | undefined, record: string, expiresAt: number): Promise<boolean> {
    const parts = this.shard(sid);
    return this.run('compareAndSet', () =>
      this.locked(parts, sid, async (held, dir) => {
        if (held.record === undefined) held.record = await this.read(join(dir, sid));
        if (live(held.record, this.now()) !== expected) return false;
        return this.write(held, dir, sid, record, expiresAt);
      }),
    );
  }

  /** touch moves the mtime of the live file it opened, through its handle: a file replaced meanwhile is never touched. */
  async touch(sid: string, expiresAt: number): Promise<void> {
    const parts = this.shard(sid);
    await this.run('touch', async () => {
      if (!(await this.dirs.check(parts))) return;
      await this.locked(parts, sid, async (held, dir) => {
        held.record = undefined;
        const handle = await openRecord(join(dir, sid));
        if (handle === undefined) return;
        try {
          const s = await handle.stat();
          if (s.isFile() && s.mtimeMs > this.now()) await handle.utimes(new Date(expiresAt), new Date(expiresAt));
        } finally {
          await handle.close();
        }
      });
    });
  }

  /**
   * regenerate renames the file under the old id's lock. A live session at the new id is never
   * overwritten (the new id is random, so a check before the rename is enough); an expired leftover is.
   */
  async regenerate(oldSid: string, newSid: string): Promise<void> {
    const [fromParts, toParts] = [this.shard(oldSid), this.shard(newSid)];
    await this.run('regenerate', async () => {
      if (!(await this.dirs.check(fromParts))) return;
      await this.locked(fromParts, oldSid, async (held, dir) => {
        const from = join(dir, oldSid);
        const to = join(this.root, ...toParts, newSid);
        if ((await this.expiryOf(from)) === undefined) return;
        if ((await this.dirs.check(toParts)) && (await this.expiryOf(to)) !== undefined) throw idTaken(NAME);
        await this.inDir(toParts, () => rename(from, to));
        held.record = null;
      });
    });
  }

  /** indexAdd writes the entry file under the entry's lock, so a gc that found it expired cannot remove it once refreshed. */
  async indexAdd(key: string, sid: string, expiresAt: number): Promise<void> {
    const parts = this.indexParts(key);
    assertValidId(sid, NAME);
    await this.run('indexAdd', () =>
      this.locked(parts, sid, async (held, dir) => {
        if (!(await this.write(held, dir, sid, '', expiresAt))) throw lostLock();
      }),
    );
  }

  /** indexRemove unlinks the entry file, and the key's directory once it is empty. */
  async indexRemove(key: string, sid: string): Promise<void> {
    const parts = this.indexParts(key);
    assertValidId(sid, NAME);
    await this.run('indexRemove', async () => {
      if (!(await this.dirs.check(parts))) return;
      const dir = join(this.root, ...parts);
      await remove(join(dir, sid));
      await rmdir(dir).catch(() => undefined);
    });
  }

  /** indexList reads the key's directory and keeps the entries that are regular files with an mtime still ahead. */
  async indexList(key: string): Promise<string[]> {
    const parts = this.indexParts(key);
    return this.run('indexList', async () => {
      if (!(await this.dirs.check(parts))) return [];
      const dir = join(this.root, ...parts);
      const now = this.now();
      const ids = (await list(dir)).map((entry) => entry.name).filter((name) => isValidId(name));
      const expiries = await Promise.all(ids.map((sid) => expiryFile(join(dir, sid))));
      return ids.filter((_, i) => (expiries[i] ?? 0) > now);
    });
  }

  async count(): Promise<number> {
    return this.run('count', async () => {
      let live = 0;
      for (const { dir, owns } of (await this.sessionDirs()).dirs) {
        for (const { name } of await list(dir)) {
          if (owns(name) && (await this.expiryOf(join(dir, name))) !== undefined) live++;
        }
      }
      return live;
    });
  }

  /** clear removes every session, each under its lock, and the whole index subtree. */
  async clear(): Promise<void> {
    await this.run('clear', async () => {
      for (const { parts, dir, owns } of (await this.sessionDirs()).dirs) {
        for (const { name } of await list(dir)) {
          if (!owns(name)) continue;
          await this.locked(parts, name, async (held) => {
            await remove(join(dir, name));
            held.record = null;
          });
        }
      }
      await rm(join(this.root, INDEX_DIR), { recursive: true, force: true, maxRetries: DIR_RETRIES });
    });
  }

  /**
   * gc sweeps every session shard and every index key directory: expired sessions and index
   * entries go, as do stray temp files and broken locks and the directories left empty. The file
   * system keeps no expiry order, so this visits every file. An entry of the root or of `index/`
   * that should be a directory and is a symlink or a file is swept past and reported: gc rejects
   * naming it once the sweep is done.
   */
  async gc(): Promise<void> {
    await this.run('gc', async () => {
      const { dirs, strays } = await this.sessionDirs();
      for (const { parts, owns } of dirs) await this.sweep(parts, owns);
      const shards = strays.some(({ parts }) => parts.join('/') === INDEX_DIR) ? [] : await this.subdirs([INDEX_DIR], INDEX_SHARD, strays);
      for (const shard of shards) {
        for (const key of await this.subdirs([INDEX_DIR, shard], INDEX_KEY, strays)) {
          if (key.startsWith(shard)) await this.sweep([INDEX_DIR, shard, key], (name) => isValidId(name));
        }
        await rmdir(join(this.root, INDEX_DIR, shard)).catch(() => undefined);
      }
      const [first] = strays;
      if (first) throw notADirectory(join(this.root, ...first.parts), first.entry, strays.length - 1);
    });
  }

  /** close holds no resource; later calls reject with `ERR_SESSION_CLOSED`. */
  async close(): Promise<void> {
    await this.guard.close(async () => undefined);
  }

  /** run is the guard's `run` with the session ids hidden from whatever the call throws. */
  private run<T>(action: string, call: () => Promise<T>): Promise<T> {
    return this.guard.run(action, () => call().catch((error: unknown) => Promise.reject(hidingIds(`${action} failed`, error, this.root))));
  }

  /** shard maps a session id to its directory below the root; anything that is not a valid id is refused before it can become a path. */
  private shard(sid: string): string[] {
    assertValidId(sid, NAME);
    return [sid[0]!, sid[1]!];
  }

  /**
   * indexParts maps an index key to its directory by the sha256 of the key's UTF-16 code units, so
   * any key — `../`, an absolute path, a NUL, a lone surrogate — becomes 64 hex characters.
   */
  private indexParts(key: string): string[] {
    const hash = indexKeyHash(NAME, key).toString('hex');
    return [INDEX_DIR, hash.slice(0, 2), hash];
  }

  /** locked runs `fn` under the lock of `name` in the directory `parts`, which it creates (checked) when missing. */
  private locked<T>(parts: readonly string[], name: string, fn: (held: Held, dir: string) => Promise<T>): Promise<T> {
    const dir = join(this.root, ...parts);
    return this.locks.run(dir, name, () => this.dirs.make(parts), (held) => fn(held, dir));
  }

  /**
   * inDir runs `fn`, which creates something in the directory `parts`, after making sure the
   * directory is there and is no link; when `fn` still finds it missing (gc removed it meanwhile)
   * it tries again.
   */
  private async inDir<T>(parts: readonly string[], fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await this.dirs.make(parts);
      try {
        return await fn();
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= DIR_RETRIES) throw error;
      }
    }
  }

  /** expiryOf returns the expiry of a live session file, or undefined when missing or expired. */
  private async expiryOf(path: string): Promise<number | undefined> {
    const expiry = await expiryFile(path);
    return expiry !== undefined && expiry > this.now() ? expiry : undefined;
  }

  /** read returns the record at `path` with its expiry, or null when there is no live regular file there. */
  private async read(path: string): Promise<StoredRecord | null> {
    const handle = await openRecord(path);
    if (handle === undefined) return null;
    try {
      const s = await handle.stat();
      if (!s.isFile() || s.mtimeMs <= this.now()) return null;
      return { data: await handle.readFile('utf8'), expiresAt: s.mtimeMs };
    } finally {
      await handle.close();
    }
  }

  /**
   * write commits `data` at `dir/name` with mtime `expiresAt` under `held`, and returns false when
   * the lock turned out to be broken (nothing written). A past expiry removes the file instead.
   */
  private async write(held: Held, dir: string, name: string, data: string, expiresAt: number): Promise<boolean> {
    const path = join(dir, name);
    if (expiresAt <= this.now()) {
      await remove(path);
      held.record = null;
      return true;
    }
    held.record = undefined;
    if (!(await held.commit(path, data, expiresAt))) return false;
    held.record = { data, expiresAt };
    return true;
  }

  /**
   * sweep removes from one directory the expired files `owns` names (re-checked under their lock,
   * so one refreshed meanwhile stays), temp files and locks left by a crash, and then the directory
   * itself if that left it empty. Other names are left alone.
   */
  private async sweep(parts: readonly string[], owns: (name: string) => boolean): Promise<void> {
    const dir = join(this.root, ...parts);
    for (const { name } of await list(dir)) {
      const path = join(dir, name);
      if (owns(name)) {
        if (((await expiryFile(path).catch(() => undefined)) ?? Infinity) > this.now()) continue;
        await this.locked(parts, name, async (held) => {
          held.record = undefined;
          const s = await lstat(path).catch(() => undefined);
          if (s?.isFile() && s.mtimeMs <= this.now()) await removeSame(path, s);
        });
      } else if (name.endsWith('.lock')) {
        if (await isStale(path)) await breakLock(path);
      } else if (name.endsWith('.tmp') && (await olderThan(path, STALE_TEMP_MS))) {
        await rm(path, { recursive: true, force: true });
      }
    }
    await rmdir(dir).catch(() => undefined);
  }

  /**
   * sessionDirs lists the shard directories `root/<x>/<y>`, each with a test for the session ids
   * it may hold (valid ids starting `xy`), and the shard names that are not real directories.
   */
  private async sessionDirs(): Promise<{ dirs: { parts: string[]; dir: string; owns: (name: string) => boolean }[]; strays: Stray[] }> {
    const strays: Stray[] = [];
    const dirs = [];
    for (const first of await this.subdirs([], SHARD, strays)) {
      for (const second of await this.subdirs([first], SHARD, strays)) {
        const parts = [first, second];
        dirs.push({ parts, dir: join(this.root, ...parts), owns: (name: string) => isValidId(name) && name.startsWith(first + second) });
      }
    }
    return { dirs, strays };
  }

  /**
   * subdirs lists the names in the directory `parts` that match `pattern` and are real
   * directories; matching names that are anything else (a symlink, a file) go to `strays`. At the
   * root, `index` is checked the same way.
   */
  private async subdirs(parts: readonly string[], pattern: RegExp, strays: Stray[]): Promise<string[]> {
    const names = [];
    for (const entry of await list(join(this.root, ...parts))) {
      if (!pattern.test(entry.name) && !(parts.length === 0 && entry.name === INDEX_DIR)) continue;
      if (!entry.isDirectory()) strays.push({ parts: [...parts, entry.name], entry });
      else if (pattern.test(entry.name)) names.push(entry.name);
    }
    return names;
  }
}

/** Stray is an entry below the root that should be a directory and is not: its path below the root and what readdir saw. */
interface Stray {
  parts: string[];
  entry: Dirent;
}

/** live is the data of `record` if it is still live at `now`. */
function live(record: StoredRecord | null | undefined, now: number): string | undefined {
  return record && record.expiresAt > now ? record.data : undefined;
}

/** openRecord opens the file at `path` for reading without following a symlink; undefined when there is none (or a link). */
async function openRecord(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if (missing(error) || (error as NodeJS.ErrnoException).code === 'ELOOP') return undefined;
    throw error;
  }
}

/** expiryFile returns the mtime of a regular file at `path` (never following a symlink), or undefined. */
async function expiryFile(path: string): Promise<number | undefined> {
  try {
    const s = await lstat(path);
    return s.isFile() ? s.mtimeMs : undefined;
  } catch (error) {
    if (missing(error)) return undefined;
    throw error;
  }
}

/** olderThan tells whether `path` was last changed more than `ms` ago (real time, as the file system keeps it). */
async function olderThan(path: string, ms: number): Promise<boolean> {
  const s = await lstat(path).catch(() => undefined);
  return s !== undefined && Date.now() - s.mtimeMs > ms;
}

/** remove unlinks `path`; a missing file is no error. */
async function remove(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (!missing(error)) throw error;
  }
}

/**
 * removeSame removes the file at `path` only if it is still the one `seen` describes. It moves the
 * file aside first and looks at what it moved: a different file means the lock was broken while
 * this caller stalled and the session was written again, so that file goes back (unless yet
 * another write took the place meanwhile, which is newer still).
 */
async function removeSame(path: string, seen: Stats): Promise<void> {
  const aside = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (missing(error)) return;
    throw error;
  }
  const moved = await lstat(aside);
  if (moved.ino !== seen.ino || moved.dev !== seen.dev || moved.mtimeMs !== seen.mtimeMs) {
    await link(aside, path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
  await unlink(aside);
}

/** list reads a directory; a missing one is empty. */
async function list(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (missing(error)) return [];
    throw error;
  }
}

/** provider opens a {@link FileStore}, creating the root directory (0700) if needed and refusing one that group or others may write. */
export const provider: Provider = {
  async open(config, options) {
    const store = new FileStore(parseConfig(config), options);
    await store.ready();
    return store;
  },
};

register('file', provider);
