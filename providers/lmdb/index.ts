import { resolve } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SessionError, storeError } from '../../src/errors.ts';
import { loadOptional } from '../../src/load.ts';
import type { OpenOptions, Provider, Store } from '../../src/provider.ts';
import { register } from '../../src/registry.ts';

/** LmdbOptions: `path` is the absolute path of the LMDB environment (a file plus its `-lock` file). */
export interface LmdbOptions {
  path: string;
}

/** DEFAULT_PATH is used for an empty config. */
export const DEFAULT_PATH = 'data/sessions.lmdb';

/**
 * parseConfig reads a path (absolute or relative to the working directory), or macaron's ledis
 * form `data_dir=./app.db`; empty means {@link DEFAULT_PATH}. Any other key=value is refused.
 */
export function parseConfig(config: string): LmdbOptions {
  let path = config.trim();
  const pair = /^([a-z_]+)=(.*)$/i.exec(path);
  if (pair) {
    if (pair[1]!.toLowerCase() !== 'data_dir') {
      throw new SessionError('ERR_SESSION_PROVIDER_CONFIG', `session/lmdb: unsupported option ${JSON.stringify(pair[1])} (allowed: data_dir)`);
    }
    path = pair[2]!.trim();
  }
  if (path.includes('\0')) throw new SessionError('ERR_SESSION_PROVIDER_CONFIG', 'session/lmdb: the path contains a NUL byte');
  return { path: resolve(path === '' ? DEFAULT_PATH : path) };
}

/** Entry is a stored session: its record and expiry. */
interface Entry {
  r: string;
  e: number;
}

/** The part of lmdb-js's Database this store uses. */
interface Db<K, V> {
  get(key: K): V | undefined;
  putSync(key: K, value: V): boolean;
  removeSync(key: K): boolean;
  getRange(options: { end: K }): Iterable<{ key: K; value: V }>;
  getCount(): number;
  clearSync(): void;
}
interface RootDb {
  openDB<K, V>(options: { name: string }): Db<K, V>;
  transactionSync<T>(fn: () => T): T;
  close(): Promise<void>;
}
type ExpiryKey = [number, string] | [number];

/**
 * LmdbStore keeps sessions in an LMDB environment: one database of `sid → { r, e }` and an
 * expiry index of `[expiresAt, sid]`, so gc walks only expired entries. Every change runs in one
 * LMDB write transaction, which LMDB serialises across every process that opens the same path,
 * so compareAndSet and regenerate are atomic on one host. Expiry is enforced on read.
 */
export class LmdbStore implements Store {
  private closed: Promise<void> | undefined;

  constructor(
    private readonly root: RootDb,
    private readonly sessions: Db<string, Entry>,
    private readonly expiry: Db<ExpiryKey, true>,
    private readonly now: () => number,
  ) {}

  async get(sid: string): Promise<string | undefined> {
    return this.live(sid)?.r;
  }

  async set(sid: string, record: string, expiresAt: number): Promise<void> {
    this.write(() => this.put(sid, record, expiresAt));
  }

  async destroy(sid: string): Promise<void> {
    this.write(() => this.remove(sid));
  }

  async compareAndSet(sid: string, expected: string | undefined, record: string, expiresAt: number): Promise<boolean> {
    return this.write(() => {
      if (this.live(sid)?.r !== expected) return false;
      this.put(sid, record, expiresAt);
      return true;
    });
  }

  async touch(sid: string, expiresAt: number): Promise<void> {
    this.write(() => {
      const entry = this.live(sid);
      if (entry) this.put(sid, entry.r, expiresAt);
    });
  }

  async regenerate(oldSid: string, newSid: string): Promise<void> {
    this.write(() => {
      const entry = this.live(oldSid);
      if (!entry) return;
      this.remove(oldSid);
      this.put(newSid, entry.r, entry.e);
    });
  }

  async count(): Promise<number> {
    await this.gc();
    return this.sessions.getCount();
  }

  async clear(): Promise<void> {
    this.write(() => {
      this.sessions.clearSync();
      this.expiry.clearSync();
    });
  }

  /** gc removes the sessions whose index entry is at or before now; its cost follows the expired count. */
  async gc(): Promise<void> {
    this.write(() => {
      const now = this.now();
      const due = [...this.expiry.getRange({ end: [Math.floor(now) + 1] })].map(({ key }) => key as [number, string]);
      for (const [at, sid] of due) {
        this.expiry.removeSync([at, sid]);
        const entry = this.sessions.get(sid);
        if (entry && entry.e <= now) this.sessions.removeSync(sid);
      }
    });
  }

  close(): Promise<void> {
    this.closed ??= this.root.close();
    return this.closed;
  }

  private live(sid: string): Entry | undefined {
    const entry = this.sessions.get(sid);
    return entry && entry.e > this.now() ? entry : undefined;
  }

  private put(sid: string, record: string, expiresAt: number): void {
    this.remove(sid);
    if (expiresAt <= this.now()) return;
    this.sessions.putSync(sid, { r: record, e: expiresAt });
    this.expiry.putSync([expiresAt, sid], true);
  }

  private remove(sid: string): void {
    const old = this.sessions.get(sid);
    if (!old) return;
    this.sessions.removeSync(sid);
    this.expiry.removeSync([old.e, sid]);
  }

  private write<T>(fn: () => T): T {
    if (this.closed) throw new SessionError('ERR_SESSION_CLOSED', 'session/lmdb: the store is closed');
    try {
      return this.root.transactionSync(fn);
    } catch (error) {
      throw storeError('lmdb', 'write', error);
    }
  }
}

/** provider opens an {@link LmdbStore}, creating the parent directory if needed. */
export const provider: Provider = {
  async open(config: string, options: OpenOptions) {
    const { path } = parseConfig(config);
    const lmdb = await loadOptional<{ open(options: object): RootDb }>('lmdb', 'lmdb');
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const root = lmdb.open({ path, compression: false });
      return new LmdbStore(root, root.openDB({ name: 'sessions' }), root.openDB({ name: 'expiry' }), options.now ?? Date.now);
    } catch (error) {
      throw storeError('lmdb', `open ${path}`, error);
    }
  },
};

register('lmdb', provider);
