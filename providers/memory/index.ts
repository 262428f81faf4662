import type { OpenOptions, Provider, Store } from '../../src/provider.ts';
import { register } from '../../src/registry.ts';
import { idTaken, StoreGuard } from '../shared/errors.ts';
import { ExpiryWheel } from './expiry-wheel.ts';
import { expiryOf, Generations, pack, recordOf } from './generations.ts';
import { parseConfig } from './config.ts';

export { parseConfig, type MemoryOptions } from './config.ts';

const NAME = 'memory';

/**
 * MemoryStore keeps sessions in one process. Expiry is checked on every read; gc drops whole
 * slices of expired sessions ({@link Generations}), so its cost does not follow all sessions.
 */
export class MemoryStore implements Store {
  private readonly sessions: Generations;
  /** index maps an index key to its ids and their entry expiry; indexWheel drives its gc. */
  private readonly index = new Map<string, Map<string, number>>();
  private readonly indexWheel: ExpiryWheel;
  private readonly now: () => number;
  private readonly guard = new StoreGuard(NAME);

  constructor(options: OpenOptions) {
    this.now = options.now ?? Date.now;
    this.sessions = new Generations(options.maxLifetime);
    this.indexWheel = new ExpiryWheel(options.maxLifetime);
  }

  async get(sid: string): Promise<string | undefined> {
    this.guard.check('get');
    const packed = this.live(sid);
    return packed === undefined ? undefined : recordOf(packed);
  }

  async set(sid: string, record: string, expiresAt: number): Promise<void> {
    this.guard.check('set');
    this.sessions.set(sid, pack(expiresAt, record), this.sessions.get(sid));
  }

  async destroy(sid: string): Promise<void> {
    this.guard.check('destroy');
    const packed = this.sessions.get(sid);
    if (packed !== undefined) this.sessions.delete(sid, packed);
  }

  async compareAndSet(sid: string, expected: string | undefined, record: string, expiresAt: number): Promise<boolean> {
    this.guard.check('compareAndSet');
    const packed = this.live(sid);
    if ((packed === undefined ? undefined : recordOf(packed)) !== expected) return false;
    this.sessions.set(sid, pack(expiresAt, record), packed);
    return true;
  }

  async touch(sid: string, expiresAt: number): Promise<void> {
    this.guard.check('touch');
    const packed = this.live(sid);
    if (packed !== undefined) this.sessions.set(sid, pack(expiresAt, recordOf(packed)), packed);
  }

  /** regenerate moves the record; a live record at `newSid` is never overwritten, an expired one is. */
  async regenerate(oldSid: string, newSid: string): Promise<void> {
    this.guard.check('regenerate');
    const packed = this.live(oldSid);
    if (packed === undefined) return;
    if (this.live(newSid) !== undefined) throw idTaken(NAME);
    this.sessions.delete(oldSid, packed);
    this.sessions.set(newSid, packed, undefined);
  }

  async indexAdd(key: string, sid: string, expiresAt: number): Promise<void> {
    this.guard.check('indexAdd');
    let ids = this.index.get(key);
    if (ids === undefined) this.index.set(key, (ids = new Map()));
    const previous = ids.get(sid);
    ids.set(sid, expiresAt);
    // The wheel files index keys, not ids: sweeping a key prunes all of its expired ids.
    this.indexWheel.file(key, expiresAt, previous);
  }

  async indexRemove(key: string, sid: string): Promise<void> {
    this.guard.check('indexRemove');
    const ids = this.index.get(key);
    if (ids?.delete(sid) && ids.size === 0) this.index.delete(key);
  }

  async indexList(key: string): Promise<string[]> {
    this.guard.check('indexList');
    this.pruneIndex(key, this.now());
    return [...(this.index.get(key)?.keys() ?? [])];
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
    this.indexWheel.clear();
  }

  /** live returns the packed session `sid` if it has not expired, removing it if it has. */
  private live(sid: string): string | undefined {
    const packed = this.sessions.get(sid);
    if (packed === undefined) return undefined;
    if (expiryOf(packed) > this.now()) return packed;
    this.sessions.delete(sid, packed);
    return undefined;
  }

  /** collect removes expired sessions and index entries. */
  private collect(): void {
    const now = this.now();
    this.sessions.collect(now);
    this.indexWheel.sweep(now, (key) => {
      const latest = this.pruneIndex(key, now);
      // A key whose entries moved to an earlier expiry may not be filed at its latest one yet.
      if (latest !== undefined) this.indexWheel.file(key, latest);
      return latest;
    });
  }

  /** pruneIndex drops the expired entries of one index key, and the key once it is empty; it returns the key's latest expiry. */
  private pruneIndex(key: string, now: number): number | undefined {
    const ids = this.index.get(key);
    if (ids === undefined) return undefined;
    let latest: number | undefined;
    for (const [sid, expiresAt] of ids) {
      if (expiresAt <= now) ids.delete(sid);
      else latest = Math.max(latest ?? expiresAt, expiresAt);
    }
    if (ids.size === 0) this.index.delete(key);
    return latest;
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
