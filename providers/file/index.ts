import { constants, type Dirent } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, rmdir, stat, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { indexKeyHash } from '../shared/index-key.ts';
import { assertValidId, isValidId } from '../../src/id.ts';
import type { OpenOptions, Provider, Store } from '../../src/provider.ts';
import { register } from '../../src/registry.ts';
import { failure, idTaken, StoreGuard } from '../shared/errors.ts';
import { parseConfig, type FileOptions } from './config.ts';

export { DEFAULT_ROOT, parseConfig, type FileOptions } from './config.ts';

/** INDEX_DIR is the subtree of the root that holds the index; no session shard is named like it. */
export const INDEX_DIR = 'index';

const NAME = 'file';

const LOCK_WAIT_MS = 2000;
const STALE_LOCK_MS = 10_000;
const STALE_TEMP_MS = 60_000;
/** DIR_RETRIES bounds how often a write recreates a directory that gc removed from under it. */
const DIR_RETRIES = 3;
const SHARD = /^[0-9a-f]$/;
const INDEX_SHARD = /^[0-9a-f]{2}$/;
const INDEX_KEY = /^[0-9a-f]{64}$/;

/**
 * FileStore keeps each session in its own file, `root/<sid[0]>/<sid[1]>/<sid>`, as macaron does:
 * directories 0700, files 0600. The file's mtime holds the session's expiry, so touch never
 * rewrites data and gc needs only a stat. Writes go to a temp file renamed into place, so a reader
 * sees the old record or the new one, never half a file. Compare-and-set, gc and regenerate take
 * a per-session lock file (`<sid>.lock`, created exclusively), which also serialises writers in
 * other processes sharing the directory. Only valid ids ever become paths.
 *
 * The index lives apart, in `root/index/<h[0..2]>/<h>/<sid>` where `h` is the sha256 of the key:
 * one empty file per entry, its mtime the entry's expiry, written like a session file. A key never
 * becomes a path itself, and listing a key reads that key's directory only.
 */
export class FileStore implements Store {
  readonly root: string;
  private readonly now: () => number;
  private readonly guard = new StoreGuard(NAME);

  constructor(options: FileOptions, open: OpenOptions) {
    this.root = options.root;
    this.now = open.now ?? Date.now;
  }

  async get(sid: string): Promise<string | undefined> {
    const path = this.path(sid);
    return this.guard.run('get', () => this.readLive(path));
  }

  async set(sid: string, record: string, expiresAt: number): Promise<void> {
    const dir = this.shard(sid);
    await this.guard.run('set', () => this.locked(dir, sid, () => this.write(dir, sid, record, expiresAt)));
  }

  async destroy(sid: string): Promise<void> {
    const path = this.path(sid);
    await this.guard.run('destroy', () => this.locked(this.shard(sid), sid, () => this.remove(path)));
  }

  async compareAndSet(sid: string, expected: string | undefined, record: string, expiresAt: number): Promise<boolean> {
    const dir = this.shard(sid);
    return this.guard.run('compareAndSet', () =>
      this.locked(dir, sid, async () => {
        if ((await this.readLive(this.path(sid))) !== expected) return false;
        await this.write(dir, sid, record, expiresAt);
        return true;
      }),
    );
  }

  async touch(sid: string, expiresAt: number): Promise<void> {
    const path = this.path(sid);
    await this.guard.run('touch', () =>
      this.locked(this.shard(sid), sid, async () => {
        if ((await this.expiryOf(path)) === undefined) return;
        const when = new Date(expiresAt);
        await utimes(path, when, when);
      }),
    );
  }

  /**
   * regenerate renames the file under the old id's lock. A live session at the new id is never
   * overwritten (the new id is random, so a check before the rename is enough); an expired leftover is.
   */
  async regenerate(oldSid: string, newSid: string): Promise<void> {
    const [from, to] = [this.path(oldSid), this.path(newSid)];
    await this.guard.run('regenerate', () =>
      this.locked(this.shard(oldSid), oldSid, async () => {
        if ((await this.expiryOf(from)) === undefined) return;
        if ((await this.expiryOf(to)) !== undefined) throw idTaken(NAME);
        await this.inDir(this.shard(newSid), () => rename(from, to));
      }),
    );
  }

  /** indexAdd writes the entry file under the entry's lock, so a gc that found it expired cannot remove it once refreshed. */
  async indexAdd(key: string, sid: string, expiresAt: number): Promise<void> {
    const dir = this.indexDir(key);
    assertValidId(sid, NAME);
    await this.guard.run('indexAdd', () => this.locked(dir, sid, () => this.write(dir, sid, '', expiresAt)));
  }

  /** indexRemove unlinks the entry file, and the key's directory once it is empty. */
  async indexRemove(key: string, sid: string): Promise<void> {
    const dir = this.indexDir(key);
    assertValidId(sid, NAME);
    await this.guard.run('indexRemove', () => this.remove(join(dir, sid)));
    await rmdir(dir).catch(() => undefined);
  }

  /** indexList reads the key's directory and keeps the entries that are regular files with an mtime still ahead. */
  async indexList(key: string): Promise<string[]> {
    const dir = this.indexDir(key);
    return this.guard.run('indexList', async () => {
      const now = this.now();
      const ids = (await this.list(dir)).map((entry) => entry.name).filter((name) => isValidId(name));
      const expiries = await Promise.all(ids.map((sid) => this.expiryFile(join(dir, sid))));
      return ids.filter((_, i) => (expiries[i] ?? 0) > now);
    });
  }

  async count(): Promise<number> {
    return this.guard.run('count', async () => {
      let live = 0;
      for (const { dir, owns } of await this.sessionDirs()) {
        for (const { name } of await this.list(dir)) {
          if (owns(name) && (await this.expiryOf(join(dir, name))) !== undefined) live++;
        }
      }
      return live;
    });
  }

  /** clear removes every session, each under its lock, and the whole index subtree. */
  async clear(): Promise<void> {
    await this.guard.run('clear', async () => {
      for (const { dir, owns } of await this.sessionDirs()) {
        for (const { name } of await this.list(dir)) {
          if (owns(name)) await this.locked(dir, name, () => this.remove(join(dir, name)));
        }
      }
      await rm(join(this.root, INDEX_DIR), { recursive: true, force: true, maxRetries: DIR_RETRIES });
    });
  }

  /**
   * gc sweeps every session shard and every index key directory: expired sessions and index
   * entries go, as do stray temp and lock files and the directories left empty. The file system
   * keeps no expiry order, so this visits every file.
   */
  async gc(): Promise<void> {
    await this.guard.run('gc', async () => {
      for (const { dir, owns } of await this.sessionDirs()) await this.sweep(dir, owns);
      const index = join(this.root, INDEX_DIR);
      for (const shard of await this.subdirs(index, INDEX_SHARD)) {
        const shardDir = join(index, shard);
        for (const key of await this.subdirs(shardDir, INDEX_KEY)) {
          if (key.startsWith(shard)) await this.sweep(join(shardDir, key), (name) => isValidId(name));
        }
        await rmdir(shardDir).catch(() => undefined);
      }
    });
  }

  /** close holds no resource; later calls reject with `ERR_SESSION_CLOSED`. */
  async close(): Promise<void> {
    await this.guard.close(async () => undefined);
  }

  /** shard maps a session id to its directory; anything that is not a valid id is refused before it can become a path. */
  private shard(sid: string): string {
    assertValidId(sid, NAME);
    return join(this.root, sid[0]!, sid[1]!);
  }

  private path(sid: string): string {
    return join(this.shard(sid), sid);
  }

  /**
   * indexDir maps an index key to its directory by the sha256 of the key's UTF-16 code units, so
   * any key — `../`, an absolute path, a NUL, a lone surrogate — becomes 64 hex characters.
   */
  private indexDir(key: string): string {
    const hash = indexKeyHash(NAME, key).toString('hex');
    return join(this.root, INDEX_DIR, hash.slice(0, 2), hash);
  }

  /**
   * inDir runs `fn`, which creates something in `dir`; when that fails because `dir` is missing
   * (never made yet, or removed by a gc that found it empty) it creates `dir` (0700) and retries.
   */
  private async inDir<T>(dir: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > DIR_RETRIES) throw error;
        await mkdir(dir, { recursive: true, mode: 0o700 });
      }
    }
  }

  /** expiryFile returns the mtime of a regular file at `path` (never following a symlink), or undefined. */
  private async expiryFile(path: string): Promise<number | undefined> {
    try {
      const s = await lstat(path);
      return s.isFile() ? s.mtimeMs : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** expiryOf returns the expiry of a live session file, or undefined when missing or expired. */
  private async expiryOf(path: string): Promise<number | undefined> {
    const expiry = await this.expiryFile(path);
    return expiry !== undefined && expiry > this.now() ? expiry : undefined;
  }

  private async readLive(path: string): Promise<string | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ELOOP') return undefined;
      throw error;
    }
    try {
      const s = await handle.stat();
      if (!s.isFile() || s.mtimeMs <= this.now()) return undefined;
      return await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  }

  /** write puts `data` at `dir/name` with mtime `expiresAt`, through a 0600 temp file renamed into place; a past expiry removes it. */
  private async write(dir: string, name: string, data: string, expiresAt: number): Promise<void> {
    const path = join(dir, name);
    if (expiresAt <= this.now()) {
      await this.remove(path);
      return;
    }
    const temp = join(dir, `${name}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await this.inDir(dir, () => open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
      const when = new Date(expiresAt);
      await handle.utimes(when, when);
    } catch (error) {
      await handle.close();
      await this.remove(temp);
      throw error;
    }
    await handle.close();
    await rename(temp, path);
  }

  private async remove(path: string): Promise<void> {
    try {
      await unlink(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  /**
   * locked runs `fn` holding `dir/<name>.lock`, created with O_EXCL so that writers in this and
   * other processes take turns. A lock older than ten seconds is left over from a crash and is broken.
   */
  private async locked<T>(dir: string, name: string, fn: () => Promise<T>): Promise<T> {
    const lock = join(dir, `${name}.lock`);
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        await (await this.inDir(dir, () => open(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600))).close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const held = await stat(lock).catch(() => undefined);
        if (held && Date.now() - held.mtimeMs > STALE_LOCK_MS) await this.remove(lock);
        else if (Date.now() > deadline) throw new Error('timed out waiting for a session lock');
        else await sleep(Math.min(1 + attempt, 20) * Math.random());
      }
    }
    try {
      return await fn();
    } finally {
      await this.remove(lock).catch(() => undefined);
    }
  }

  /**
   * sweep removes from one directory the expired files `owns` names (re-checked under their lock,
   * so one refreshed meanwhile stays), temp and lock files left by a crash, and then the directory
   * itself if that left it empty. Other names are left alone.
   */
  private async sweep(dir: string, owns: (name: string) => boolean): Promise<void> {
    for (const { name } of await this.list(dir)) {
      const path = join(dir, name);
      if (owns(name)) {
        if (((await this.expiryFile(path).catch(() => undefined)) ?? Infinity) > this.now()) continue;
        await this.locked(dir, name, async () => {
          const expiry = await this.expiryFile(path);
          if (expiry !== undefined && expiry <= this.now()) await this.remove(path);
        });
      } else if (await this.leftover(path)) {
        await this.remove(path);
      }
    }
    await rmdir(dir).catch(() => undefined);
  }

  /** leftover tells whether `path` is a temp or lock file older than any live writer could have left it (real time, as the file system keeps it). */
  private async leftover(path: string): Promise<boolean> {
    const limit = path.endsWith('.tmp') ? STALE_TEMP_MS : path.endsWith('.lock') ? STALE_LOCK_MS : undefined;
    if (limit === undefined) return false;
    const s = await lstat(path).catch(() => undefined);
    return s !== undefined && Date.now() - s.mtimeMs > limit;
  }

  /** sessionDirs lists the shard directories `root/<x>/<y>`, each with a test for the session ids it may hold (valid ids starting `xy`). */
  private async sessionDirs(): Promise<{ dir: string; owns: (name: string) => boolean }[]> {
    const dirs = [];
    for (const first of await this.subdirs(this.root, SHARD)) {
      for (const second of await this.subdirs(join(this.root, first), SHARD)) {
        dirs.push({ dir: join(this.root, first, second), owns: (name: string) => isValidId(name) && name.startsWith(first + second) });
      }
    }
    return dirs;
  }

  /** subdirs lists the names of the real directories (not symlinks) in `dir` that match `pattern`. */
  private async subdirs(dir: string, pattern: RegExp): Promise<string[]> {
    return (await this.list(dir)).filter((entry) => entry.isDirectory() && pattern.test(entry.name)).map((entry) => entry.name);
  }

  /** list reads a directory; a missing one is empty. */
  private async list(dir: string): Promise<Dirent[]> {
    try {
      return await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }
}

/** provider opens a {@link FileStore}, creating the root directory (0700) if needed. */
export const provider: Provider = {
  async open(config, options) {
    const parsed = parseConfig(config);
    try {
      await mkdir(parsed.root, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw failure(NAME, `create ${parsed.root} failed`, error);
    }
    return new FileStore(parsed, options);
  },
};

register('file', provider);
