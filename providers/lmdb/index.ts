import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { SessionError } from '../../src/errors.ts';
import { indexKeyHash } from '../shared/index-key.ts';
import { assertValidId } from '../../src/id.ts';
import { loadOptional } from '../shared/load.ts';
import type { Provider, Store } from '../../src/provider.ts';
import { register } from '../../src/registry.ts';
import { failure, idTaken, StoreGuard } from '../shared/errors.ts';
import { parseConfig } from './config.ts';

export { DEFAULT_PATH, parseConfig, type LmdbOptions } from './config.ts';

const NAME = 'lmdb';

/** The parts of lmdb-js 3.x used here. */
interface LmdbDatabase<K, V> {
  get(key: K): V | undefined;
  put(key: K, value: V): unknown;
  remove(key: K): unknown;
  ifVersion(key: K, version: number, action: () => void): Promise<boolean>;
  getKeys(options?: { start?: K; exclusiveStart?: boolean; limit?: number }): Iterable<K>;
  getRange(options: { start: K; end: K }): Iterable<{ key: K; value: V }>;
  getStats(): { entryCount: number };
  clearSync(): void;
}
interface LmdbRoot {
  openDB<K, V>(options: { name: string }): LmdbDatabase<K, V>;
  transaction<T>(action: () => T): Promise<T>;
  close(): Promise<void>;
}
interface Lmdb {
  open(options: { path: string; noSubdir: boolean; cache: boolean; overlappingSync: boolean }): LmdbRoot;
  /** IF_EXISTS, as the version given to `ifVersion`, makes its writes run only if the key is there when the write thread reaches them. */
  IF_EXISTS?: number;
}

interface Entry {
  record: string;
  expiresAt: number;
}
/** EntryKey names one index entry: the digest of its index key, then the session id. */
type EntryKey = [digest: string, sid: string];
/** ExpiryKey is a session's `[expiresAt, sid]` or an index entry's `[expiresAt, digest, sid]`. */
type ExpiryKey = [expiresAt: number, sid: string] | [expiresAt: number, digest: string, sid: string];

/** GC_SCAN bounds the expired keys one gc pass reads and holds; after a longer outage the next pass reads on. */
const GC_SCAN = 200_000;
/**
 * GC_ROUND is about the number of removals gc queues before it waits for their commit: one write
 * transaction, so the write lock is held for a bounded time (about 0.1 s with a million sessions)
 * and a transaction's dirty pages stay few (LMDB's cost per dirty page grows with their number).
 */
const GC_ROUND = 10_000;
/** GC_SLICE bounds the expiry keys gc reads or queues in one event-loop turn, a few ms of work. */
const GC_SLICE = 1_000;

/** AFTER_ANY_ID sorts after every session id (lowercase hex), so `[digest, AFTER_ANY_ID]` ends a key's range. */
const AFTER_ANY_ID = 'g';

/**
 * indexDigest names an index key by the sha256 of its UTF-16 code units, base64url: 43 characters
 * whatever the key holds, so a key's entries form one contiguous range of `[digest, sid]` and no
 * key is a prefix of another. UTF-16 rather than UTF-8 keeps keys with different lone surrogates apart.
 */
function indexDigest(key: string): string {
  return indexKeyHash(NAME, key).toString('base64url');
}

/**
 * LmdbStore keeps sessions in an LMDB file shared by every process on the host. Three named
 * databases: `sessions` maps sid → `{ record, expiresAt }`; `index` maps `[digest, sid]` → the
 * entry's expiresAt, so one index key's entries are one contiguous range; and `expiry` holds one
 * key per session (`[expiresAt, sid]`) and per index entry (`[expiresAt, digest, sid]`), so gc
 * walks only the expired prefix. Every write runs in an LMDB write transaction (one writer at a
 * time across processes) and reads see the last commit of any process; nothing is cached in this process.
 */
export class LmdbStore implements Store {
  private readonly guard = new StoreGuard(NAME);

  constructor(
    private readonly root: LmdbRoot,
    private readonly sessions: LmdbDatabase<string, Entry>,
    private readonly expiry: LmdbDatabase<ExpiryKey, true>,
    private readonly index: LmdbDatabase<EntryKey, number>,
    private readonly now: () => number,
    private readonly ifExists: number,
  ) {}

  async get(sid: string): Promise<string | undefined> {
    assertValidId(sid, NAME);
    return this.guard.run('get', () => this.live(sid)?.record);
  }

  async set(sid: string, record: string, expiresAt: number): Promise<void> {
    assertValidId(sid, NAME);
    await this.write('set', () => this.put(sid, record, expiresAt));
  }

  async destroy(sid: string): Promise<void> {
    assertValidId(sid, NAME);
    await this.write('destroy', () => this.remove(sid));
  }

  async compareAndSet(sid: string, expected: string | undefined, record: string, expiresAt: number): Promise<boolean> {
    assertValidId(sid, NAME);
    return this.write('compareAndSet', () => {
      if (this.live(sid)?.record !== expected) return false;
      this.put(sid, record, expiresAt);
      return true;
    });
  }

  async touch(sid: string, expiresAt: number): Promise<void> {
    assertValidId(sid, NAME);
    await this.write('touch', () => {
      const entry = this.live(sid);
      if (entry) this.put(sid, entry.record, expiresAt);
    });
  }

  /** regenerate moves the record in one write transaction; a live record at `newSid` is never overwritten, an expired one is. */
  async regenerate(oldSid: string, newSid: string): Promise<void> {
    assertValidId(oldSid, NAME);
    assertValidId(newSid, NAME);
    await this.write('regenerate', () => {
      const entry = this.live(oldSid);
      if (!entry) return;
      if (this.live(newSid)) throw idTaken(NAME);
      this.remove(oldSid);
      this.put(newSid, entry.record, entry.expiresAt);
    });
  }

  /** indexAdd files `sid` under `key` in one write transaction, replacing the entry's expiry. */
  async indexAdd(key: string, sid: string, expiresAt: number): Promise<void> {
    assertValidId(sid, NAME);
    const digest = indexDigest(key);
    await this.write('indexAdd', () => {
      this.unfile(digest, sid);
      if (!(expiresAt > this.now())) return;
      this.index.put([digest, sid], expiresAt);
      this.expiry.put([expiresAt, digest, sid], true);
    });
  }

  async indexRemove(key: string, sid: string): Promise<void> {
    assertValidId(sid, NAME);
    const digest = indexDigest(key);
    await this.write('indexRemove', () => this.unfile(digest, sid));
  }

  /** indexList reads the range of `key`'s entries only, leaving out those past their expiry. */
  async indexList(key: string): Promise<string[]> {
    const digest = indexDigest(key);
    return this.guard.run('indexList', () => {
      const now = this.now();
      const ids: string[] = [];
      for (const { key: entry, value } of this.index.getRange({ start: [digest, ''], end: [digest, AFTER_ANY_ID] })) {
        if (value > now) ids.push(entry[1]);
      }
      return ids;
    });
  }

  /**
   * count runs gc, then reads LMDB's entry count of `sessions` less the sessions that expired
   * since, in one transaction: exact, and O(expired).
   */
  async count(): Promise<number> {
    return this.guard.run('count', async () => {
      await this.collect();
      return this.root.transaction(() => this.sessions.getStats().entryCount - this.expiredSessions());
    });
  }

  async clear(): Promise<void> {
    await this.write('clear', () => {
      this.sessions.clearSync();
      this.expiry.clearSync();
      this.index.clearSync();
    });
  }

  /**
   * gc reads the expired front of the expiry keys, a slice per event-loop turn, and queues their
   * removals in rounds of about GC_ROUND for lmdb-js's write thread, which takes the cross-process
   * lock: the event loop never waits for it, and no callback runs while it is held.
   */
  async gc(): Promise<void> {
    await this.guard.run('gc', () => this.collect());
  }

  async close(): Promise<void> {
    await this.guard.close(() => this.root.close());
  }

  /** write runs `body` in one LMDB write transaction: the one way this store changes the file. */
  private write<T>(action: string, body: () => T): Promise<T> {
    return this.guard.run(action, () => this.root.transaction(body));
  }

  /** collect runs gc passes until one finds fewer than GC_SCAN expired keys; it stops early once the store is closed. */
  private async collect(): Promise<void> {
    while ((await this.gcPass()) === GC_SCAN && !this.guard.closed);
  }

  /** gcPass reads up to GC_SCAN expired keys and removes them round by round; it tells how many it read. */
  private async gcPass(): Promise<number> {
    const backlog = await this.readExpired(this.now());
    for (const round of backlog.rounds(GC_ROUND)) {
      if (this.guard.closed) break;
      await this.dropAll(round);
    }
    return backlog.size;
  }

  /** readExpired reads up to GC_SCAN expiry keys at or before `now`, GC_SLICE per event-loop turn. */
  private async readExpired(now: number): Promise<Backlog> {
    const backlog = new Backlog();
    let last: ExpiryKey | undefined;
    for (;;) {
      const limit = Math.min(GC_SLICE, GC_SCAN - backlog.size);
      let read = 0;
      for (const key of this.expiry.getKeys(last ? { start: last, exclusiveStart: true, limit } : { limit })) {
        if (key[0] > now) return backlog;
        backlog.add(key);
        last = key;
        read++;
      }
      if (read < limit || backlog.size === GC_SCAN) return backlog;
      await nextTurn();
      if (this.guard.closed) return backlog;
    }
  }

  /** dropAll sorts a round by subject, queues its removals GC_SLICE per event-loop turn and waits for their commit. */
  private async dropAll(round: ExpiryKey[]): Promise<void> {
    round.sort(bySubject);
    const removals: Promise<boolean>[] = [];
    try {
      for (let i = 0; i < round.length; i++) {
        if (i > 0 && i % GC_SLICE === 0) await nextTurn();
        if (this.guard.closed) break;
        removals.push(this.drop(round[i]!));
      }
    } finally {
      await Promise.all(removals);
    }
  }

  /**
   * drop queues the removal of an expiry key with the session or index entry it stands for, to
   * run only if the key is still there when the write thread reaches it. A key `[t, sid]` exists
   * exactly while session `sid` expires at `t` (every write moves both in one transaction), so a
   * session refreshed or destroyed since gc read the key has lost it and is left alone.
   */
  private drop(key: ExpiryKey): Promise<boolean> {
    return this.expiry.ifVersion(key, this.ifExists, () => {
      this.expiry.remove(key);
      if (key.length === 3) this.index.remove([key[1], key[2]]);
      else this.sessions.remove(key[1]);
    });
  }

  /** live reads the entry of `sid` when it has not expired; inside a transaction it sees its writes. */
  private live(sid: string): Entry | undefined {
    const entry = this.sessions.get(sid);
    return entry !== undefined && entry.expiresAt > this.now() ? entry : undefined;
  }

  /** put writes the entry and moves its index key; an expiresAt not in the future removes it. */
  private put(sid: string, record: string, expiresAt: number): void {
    this.remove(sid);
    if (!(expiresAt > this.now())) return;
    this.sessions.put(sid, { record, expiresAt });
    this.expiry.put([expiresAt, sid], true);
  }

  private remove(sid: string): void {
    const entry = this.sessions.get(sid);
    if (entry === undefined) return;
    this.sessions.remove(sid);
    this.expiry.remove([entry.expiresAt, sid]);
  }

  /** unfile removes the index entry `[digest, sid]` and its expiry key, if there is one. */
  private unfile(digest: string, sid: string): void {
    const expiresAt = this.index.get([digest, sid]);
    if (expiresAt === undefined) return;
    this.index.remove([digest, sid]);
    this.expiry.remove([expiresAt, digest, sid]);
  }

  /** expiredSessions counts the session keys at the expired front of `expiry`: sessions expired but not yet removed. */
  private expiredSessions(): number {
    const now = this.now();
    let expired = 0;
    for (const key of this.expiry.getKeys()) {
      if (key[0] > now) break;
      if (key.length === 2) expired++;
    }
    return expired;
  }
}

/** nextTurn resolves after the event loop has run what was waiting: timers, I/O, other requests. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Backlog holds the expired keys of one gc pass by the first two characters of what they expire,
 * sid or digest, to hand them out in rounds that are each one range of keys in `sessions` and in
 * `index`. Sessions are keyed by random ids, so a tenth of them expired lies on nearly every page
 * of `sessions`: rounds cut in expiry order would each copy and write most of the database again,
 * while rounds cut by id write each page about once.
 */
class Backlog {
  /** size is the number of keys added. */
  size = 0;
  private readonly buckets = new Map<string, ExpiryKey[]>();

  add(key: ExpiryKey): void {
    const prefix = key[1].slice(0, 2);
    const bucket = this.buckets.get(prefix);
    if (bucket) bucket.push(key);
    else this.buckets.set(prefix, [key]);
    this.size++;
  }

  /** rounds yields the keys in rounds of about `size` (a bucket more at most), in the order of their prefixes. */
  *rounds(size: number): Generator<ExpiryKey[]> {
    let round: ExpiryKey[] = [];
    for (const prefix of [...this.buckets.keys()].sort()) {
      for (const key of this.buckets.get(prefix)!) round.push(key);
      if (round.length >= size) {
        yield round;
        round = [];
      }
    }
    if (round.length > 0) yield round;
  }
}

/** bySubject orders expiry keys as their sessions and index entries are stored: by sid, by digest then sid. */
function bySubject(a: ExpiryKey, b: ExpiryKey): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 1; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return 0;
}

/**
 * provider opens an {@link LmdbStore}: it creates the parent directory (mode 0700) when missing,
 * opens the file with lmdb-js's object cache off (a per-process cache would go stale when another
 * process writes), and makes a newly created database readable by its owner only.
 */
export const provider: Provider = {
  async open(config, options) {
    const { path } = parseConfig(config);
    const lmdb = await loadOptional<Lmdb>(NAME, 'lmdb');
    if (typeof lmdb.IF_EXISTS !== 'number') throw new SessionError('ERR_SESSION_MISSING_DEPENDENCY', 'session/lmdb: the installed lmdb is too old (no IF_EXISTS); update it (npm install lmdb@latest)');
    let root: LmdbRoot;
    try {
      const created = !existsSync(path);
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // overlappingSync (lmdb's default on Linux) let a compare-and-set from another process lose
      // an update now and then (test/providers/lmdb.test.ts, three processes incrementing one
      // counter: about 1 run in 40 ended one short); without it every commit is ordered.
      root = lmdb.open({ path, noSubdir: true, cache: false, overlappingSync: false });
      if (created) for (const file of [path, `${path}-lock`]) if (existsSync(file)) chmodSync(file, 0o600);
    } catch (cause) {
      throw failure(NAME, `cannot open ${path}`, cause);
    }
    const sessions = root.openDB<string, Entry>({ name: 'sessions' });
    const expiry = root.openDB<ExpiryKey, true>({ name: 'expiry' });
    const index = root.openDB<EntryKey, number>({ name: 'index' });
    return new LmdbStore(root, sessions, expiry, index, options.now ?? Date.now, lmdb.IF_EXISTS);
  },
};

register('lmdb', provider);
