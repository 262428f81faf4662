import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rmdir, stat, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SessionError, storeError } from '../../src/errors.ts';
import { assertValidId, isValidId } from '../../src/id.ts';
import type { OpenOptions, Provider, Store } from '../../src/provider.ts';
import { register } from '../../src/registry.ts';

/** FileOptions: `root` is the absolute directory holding the sessions. */
export interface FileOptions {
  root: string;
}

/** DEFAULT_ROOT is macaron's default PROVIDER_CONFIG for the file provider. */
export const DEFAULT_ROOT = 'data/sessions';

/**
 * parseConfig reads the file provider's config: a directory, absolute or relative to the working
 * directory; empty means {@link DEFAULT_ROOT}. A path with a NUL byte is refused.
 */
export function parseConfig(config: string): FileOptions {
  const dir = config.trim() === '' ? DEFAULT_ROOT : config.trim();
  if (dir.includes('\0')) throw new SessionError('ERR_SESSION_PROVIDER_CONFIG', 'session/file: the directory path contains a NUL byte');
  return { root: resolve(dir) };
}

const LOCK_WAIT_MS = 2000;
const STALE_LOCK_MS = 10_000;
const STALE_TEMP_MS = 60_000;

/**
 * FileStore keeps each session in its own file, `root/<sid[0]>/<sid[1]>/<sid>`, as macaron does:
 * directories 0700, files 0600. The file's mtime holds the session's expiry, so touch never
 * rewrites data and gc needs only a stat. Writes go to a temp file renamed into place, so a reader
 * sees the old record or the new one, never half a file. Compare-and-set, gc and regenerate take
 * a per-session lock file (`<sid>.lock`, created exclusively), which also serialises writers in
 * other processes sharing the directory. Only valid ids ever become paths.
 */
export class FileStore implements Store {
  readonly root: string;
  private readonly now: () => number;

  constructor(options: FileOptions, open: OpenOptions) {
    this.root = options.root;
    this.now = open.now ?? Date.now;
  }

  async get(sid: string): Promise<string | undefined> {
    const path = this.path(sid);
    try {
      return await this.readLive(path);
    } catch (error) {
      throw storeError('file', 'read', error);
    }
  }

  async set(sid: string, record: string, expiresAt: number): Promise<void> {
    await this.locked(sid, () => this.write(sid, record, expiresAt));
  }

  async destroy(sid: string): Promise<void> {
    await this.locked(sid, () => this.remove(this.path(sid)));
  }

  async compareAndSet(sid: string, expected: string | undefined, record: string, expiresAt: number): Promise<boolean> {
    return this.locked(sid, async () => {
      if ((await this.readLive(this.path(sid))) !== expected) return false;
      await this.write(sid, record, expiresAt);
      return true;
    });
  }

  async touch(sid: string, expiresAt: number): Promise<void> {
    await this.locked(sid, async () => {
      const path = this.path(sid);
      if ((await this.expiryOf(path)) === undefined) return;
      const when = new Date(expiresAt);
      await utimes(path, when, when);
    });
  }

  async regenerate(oldSid: string, newSid: string): Promise<void> {
    const to = this.path(newSid);
    await this.locked(oldSid, async () => {
      const from = this.path(oldSid);
      if ((await this.expiryOf(from)) === undefined) return;
      await this.ensureDir(newSid);
      await rename(from, to);
    });
  }

  async count(): Promise<number> {
    let live = 0;
    await this.walk(async (_sid, path) => {
      if ((await this.expiryOf(path)) !== undefined) live++;
    });
    return live;
  }

  async clear(): Promise<void> {
    await this.walk((sid, path) => this.locked(sid, () => this.remove(path)));
  }

  /** gc removes expired sessions (re-checked under the session's lock, so a session refreshed meanwhile stays), stray temp files and empty shard directories. */
  async gc(): Promise<void> {
    await this.walk(
      async (sid, path) => {
        const s = await lstat(path).catch(() => undefined);
        if (!s || s.mtimeMs > this.now()) return;
        await this.locked(sid, async () => {
          const expiry = await this.expiryFile(path);
          if (expiry !== undefined && expiry <= this.now()) await this.remove(path);
        });
      },
      async (path) => {
        const s = await lstat(path).catch(() => undefined);
        if (s && Date.now() - s.mtimeMs > STALE_TEMP_MS) await this.remove(path);
      },
    );
  }

  async close(): Promise<void> {}

  /** path maps a session id to its file; anything that is not a valid id is refused before it can become a path. */
  private path(sid: string): string {
    assertValidId(sid, 'file');
    return join(this.root, sid[0]!, sid[1]!, sid);
  }

  private async ensureDir(sid: string): Promise<string> {
    const dir = join(this.root, sid[0]!, sid[1]!);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return dir;
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

  private async write(sid: string, record: string, expiresAt: number): Promise<void> {
    const path = this.path(sid);
    if (expiresAt <= this.now()) {
      await this.remove(path);
      return;
    }
    const dir = await this.ensureDir(sid);
    const temp = join(dir, `${sid}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      await handle.writeFile(record, 'utf8');
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
   * locked runs `fn` holding `<sid>.lock`, created with O_EXCL so that writers in this and other
   * processes take turns. A lock older than ten seconds is left over from a crash and is broken.
   */
  private async locked<T>(sid: string, fn: () => Promise<T>): Promise<T> {
    const lock = `${this.path(sid)}.lock`;
    try {
      await this.ensureDir(sid);
      const deadline = Date.now() + LOCK_WAIT_MS;
      for (let attempt = 0; ; attempt++) {
        try {
          await (await open(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)).close();
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
          const held = await stat(lock).catch(() => undefined);
          if (held && Date.now() - held.mtimeMs > STALE_LOCK_MS) await this.remove(lock);
          else if (Date.now() > deadline) throw new Error('timed out waiting for a session lock');
          else await sleep(Math.min(1 + attempt, 20) * Math.random());
        }
      }
    } catch (error) {
      throw storeError('file', 'lock', error);
    }
    try {
      return await fn();
    } catch (error) {
      throw storeError('file', 'write', error);
    } finally {
      await this.remove(lock).catch(() => undefined);
    }
  }

  /**
   * walk visits every session file under the root (files named by a valid id) and, when given,
   * every temp file; it removes shard directories that are empty. Other names are left alone.
   */
  private async walk(onSession: (sid: string, path: string) => Promise<void>, onTemp?: (path: string) => Promise<void>): Promise<void> {
    const list = async (dir: string) => readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw storeError('file', 'list', error);
    });
    for (const first of await list(this.root)) {
      if (!first.isDirectory() || !/^[0-9a-f]$/.test(first.name)) continue;
      const firstDir = join(this.root, first.name);
      for (const second of await list(firstDir)) {
        if (!second.isDirectory() || !/^[0-9a-f]$/.test(second.name)) continue;
        const dir = join(firstDir, second.name);
        const entries = await list(dir);
        for (const entry of entries) {
          const path = join(dir, entry.name);
          if (isValidId(entry.name) && entry.name.startsWith(first.name + second.name)) await onSession(entry.name, path);
          else if (onTemp && entry.name.endsWith('.tmp')) await onTemp(path);
        }
        if (onTemp && entries.length === 0) await rmdir(dir).catch(() => undefined);
      }
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
      throw storeError('file', `create ${parsed.root}`, error);
    }
    return new FileStore(parsed, options);
  },
};

register('file', provider);
