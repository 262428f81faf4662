import type { OpenOptions, Provider, Store } from '../../src/provider.ts';
import { register } from '../../src/registry.ts';
import { idTaken, StoreGuard } from '../shared/errors.ts';
import { Generations } from './generations.ts';
import { expiryOf, pack, recordOf } from './packed.ts';
import { parseConfig } from './config.ts';

export { parseConfig, type MemoryOptions } from './config.ts';

const NAME = 'memory';

/** IndexEntries are the ids filed under one index key, each with its entry's expiry; `latest` is the latest of them. */
interface IndexEntries {
  latest: number;
  readonly ids: Map<string, number>;
}

/**
 * MemoryStore keeps sessions in one process. Expiry is checked on every read; gc drops whole
 * slices of expired sessions ({@link Generations}), so its cost does not follow all sessions. The
 * index keys live in a second Generations, filed by their latest entry, so gc drops a key once all
 * of its entries have expired; a key's expired entries go whenever it is added to or listed.
 */
export class MemoryStore implements Store {
  private readonly sessions: Generations<string>;
  private readonly index: Generations<IndexEntries>;
  private readonly now: () => number;
  private readonly guard = new StoreGuard(NAME);
  /** inProcess: every call answers from this process's memory, so the Manager's storeTimeout does not wrap it. */
  readonly inProcess = true;

  constructor(options: OpenOptions) {
    this.now = options.now ?? Date.now;
    this.sessions = new Generations(options.maxLifetime, expiryOf);
    this.index = new Generations(options.maxLifetime, (entries) => entries.latest);
  }

  async get(sid: string): Promise<string | undefined> {
    return this.getNow(sid);
  }

  getNow(sid: string): string | undefined {
    this.guard.check('get');
    const packed = this.live(sid);
    return packed === undefined ? undefined : recordOf(packed);
  }

  async set(sid: string, record: string, expiresAt: number): Promise<void> {
    this.guard.check('set');
    this.put(sid, pack(expiresAt, record), this.sessions.get(sid));
  }

  async destroy(sid: string): Promise<void> {
    this.guard.check('destroy');
    const packed = this.sessions.get(sid);
    if (packed !== undefined) this.sessions.delete(sid, expiryOf(packed));
  }

  async compareAndSet(sid: string, expected: string | undefined, record: string, expiresAt: number): Promise<boolean> {
    return this.compareAndSetNow(sid, expected, record, expiresAt);
  }

  compareAndSetNow(sid: string, expected: string | undefined, record: string, expiresAt: number): boolean {
    this.guard.check('compareAndSet');
    const packed = this.live(sid);
    if ((packed === undefined ? undefined : recordOf(packed)) !== expected) return false;
    this.put(sid, pack(expiresAt, record), packed);
    return true;
  }

  async touch(sid: string, expiresAt: number): Promise<void> {
    this.guard.check('touch');
    const packed = this.live(sid);
    if (packed !== undefined) this.put(sid, pack(expiresAt, recordOf(packed)), packed);
  }

  /** regenerate moves the record; a live record at `newSid` is never overwritten, an expired one is. */
  async regenerate(oldSid: string, newSid: string): Promise<void> {
    this.guard.check('regenerate');
    const packed = this.live(oldSid);
    if (packed === undefined) return;
    if (this.live(newSid) !== undefined) throw idTaken(NAME);
    this.sessions.delete(oldSid, expiryOf(packed));
    this.put(newSid, packed, undefined);
  }

  async indexAdd(key: string, sid: string, expiresAt: number): Promise<void> {
    this.guard.check('indexAdd');
    const filed = this.index.get(key);
    const entries = filed ?? { latest: expiresAt, ids: new Map() };
    entries.ids.set(sid, expiresAt);
    this.refile(key, entries, filed?.latest, this.now());
  }

  async indexRemove(key: string, sid: string): Promise<void> {
    this.guard.check('indexRemove');
    const entries = this.index.get(key);
    if (entries?.ids.delete(sid) && entries.ids.size === 0) this.index.delete(key, entries.latest);
  }

  async indexList(key: string): Promise<string[]> {
    this.guard.check('indexList');
    const entries = this.index.get(key);
    if (entries === undefined) return [];
    this.refile(key, entries, entries.latest, this.now());
    return [...entries.ids.keys()];
  }

  async count(): Promise<number> {
    this.guard.check('count');
    this.collect();
    return this.sessions.size;
  }

  async clear(): Promise<void> {
    this.guard.check('clear');
    this.wipe();
  }

  async gc(): Promise<void> {
    this.guard.check('gc');
    this.collect();
  }

  /** close drops every session; later calls reject with `ERR_SESSION_CLOSED`. */
  async close(): Promise<void> {
    await this.guard.close(async () => this.wipe());
  }

  private wipe(): void {
    this.sessions.clear();
    this.index.clear();
  }

  /** put stores a packed session, moving it from the slice of `previous`, its packed string before. */
  private put(sid: string, packed: string, previous: string | undefined): void {
    this.sessions.set(sid, packed, previous === undefined ? undefined : expiryOf(previous));
  }

  /** live returns the packed session `sid` if it has not expired, removing it if it has. */
  private live(sid: string): string | undefined {
    const packed = this.sessions.get(sid);
    if (packed === undefined) return undefined;
    const expiresAt = expiryOf(packed);
    if (expiresAt > this.now()) return packed;
    this.sessions.delete(sid, expiresAt);
    return undefined;
  }

  /** collect removes expired sessions and the index keys whose every entry has expired. */
  private collect(): void {
    const now = this.now();
    this.sessions.collect(now);
    this.index.collect(now);
  }

  /**
   * refile drops the expired entries of one index key and files the key at its latest entry, or
   * removes it once none is left; `previous` is the expiry it is filed under, if it is. Its cost
   * follows that key's entries only.
   */
  private refile(key: string, entries: IndexEntries, previous: number | undefined, now: number): void {
    let latest: number | undefined;
    for (const [sid, expiresAt] of entries.ids) {
      if (expiresAt <= now) entries.ids.delete(sid);
      else if (latest === undefined || expiresAt > latest) latest = expiresAt;
    }
    if (latest === undefined) {
      if (previous !== undefined) this.index.delete(key, previous);
      return;
    }
    entries.latest = latest;
    this.index.set(key, entries, previous);
  }
}

/** provider opens a {@link MemoryStore}; sessions live as long as the process. */
export const provider: Provider = {
  async open(config, options) {
    parseConfig(config);
    return new MemoryStore(options);
  },
};

register('memory', provider);
