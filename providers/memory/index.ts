import { ExpiryHeap } from '../../src/expiry-heap.ts';
import type { OpenOptions, Provider, Store } from '../../src/provider.ts';
import { SessionError } from '../../src/errors.ts';
import { register } from '../../src/registry.ts';

/** MemoryOptions: the memory provider takes no options; its config string must be empty. */
export type MemoryOptions = Record<string, never>;

/** parseConfig accepts only an empty config string: the memory store has nothing to configure. */
export function parseConfig(config: string): MemoryOptions {
  if (config.trim() !== '') {
    throw new SessionError('ERR_SESSION_PROVIDER_CONFIG', 'session/memory: takes no provider config; leave PROVIDER_CONFIG empty');
  }
  return {};
}

interface Entry {
  record: string;
  expiresAt: number;
}

/**
 * MemoryStore keeps sessions in a Map of one process. Expiry is checked on every read; gc pops
 * expired pairs off an {@link ExpiryHeap}, so its cost follows the number of expired sessions.
 */
export class MemoryStore implements Store {
  private readonly entries = new Map<string, Entry>();
  private readonly heap = new ExpiryHeap();
  /** index maps an index key to its ids and their entry expiry; indexHeap drives its gc. */
  private readonly index = new Map<string, Map<string, number>>();
  private readonly indexHeap = new ExpiryHeap();
  private readonly now: () => number;

  constructor(options: OpenOptions) {
    this.now = options.now ?? Date.now;
  }

  async get(sid: string): Promise<string | undefined> {
    return this.live(sid)?.record;
  }

  async set(sid: string, record: string, expiresAt: number): Promise<void> {
    this.put(sid, record, expiresAt);
  }

  async destroy(sid: string): Promise<void> {
    this.entries.delete(sid);
  }

  async compareAndSet(sid: string, expected: string | undefined, record: string, expiresAt: number): Promise<boolean> {
    if (this.live(sid)?.record !== expected) return false;
    this.put(sid, record, expiresAt);
    return true;
  }

  async touch(sid: string, expiresAt: number): Promise<void> {
    const entry = this.live(sid);
    if (!entry) return;
    entry.expiresAt = expiresAt;
    this.heap.push(expiresAt, sid);
  }

  async regenerate(oldSid: string, newSid: string): Promise<void> {
    const entry = this.live(oldSid);
    if (!entry) return;
    this.entries.delete(oldSid);
    this.entries.set(newSid, entry);
    this.heap.push(entry.expiresAt, newSid);
  }

  async indexAdd(key: string, sid: string, expiresAt: number): Promise<void> {
    let ids = this.index.get(key);
    if (ids === undefined) this.index.set(key, (ids = new Map()));
    ids.set(sid, expiresAt);
    this.indexHeap.push(expiresAt, key);
  }

  async indexRemove(key: string, sid: string): Promise<void> {
    const ids = this.index.get(key);
    if (ids?.delete(sid) && ids.size === 0) this.index.delete(key);
  }

  async indexList(key: string): Promise<string[]> {
    this.pruneIndex(key, this.now());
    return [...(this.index.get(key)?.keys() ?? [])];
  }

  async count(): Promise<number> {
    this.collect();
    return this.entries.size;
  }

  async clear(): Promise<void> {
    this.entries.clear();
    this.heap.clear();
    this.index.clear();
    this.indexHeap.clear();
  }

  async gc(): Promise<void> {
    this.collect();
  }

  async close(): Promise<void> {
    await this.clear();
  }

  private live(sid: string): Entry | undefined {
    const entry = this.entries.get(sid);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.now()) return entry;
    this.entries.delete(sid);
    return undefined;
  }

  private put(sid: string, record: string, expiresAt: number): void {
    const entry = this.entries.get(sid);
    if (entry) {
      entry.record = record;
      if (entry.expiresAt !== expiresAt) this.heap.push(expiresAt, sid);
      entry.expiresAt = expiresAt;
    } else {
      this.entries.set(sid, { record, expiresAt });
      this.heap.push(expiresAt, sid);
    }
  }

  /** collect removes expired sessions; a popped pair whose session has a later expiry is stale. */
  private collect(): void {
    const now = this.now();
    for (const [, sid] of this.heap.popExpired(now)) {
      const entry = this.entries.get(sid);
      if (entry !== undefined && entry.expiresAt <= now) this.entries.delete(sid);
    }
    for (const [, key] of this.indexHeap.popExpired(now)) this.pruneIndex(key, now);
  }

  /** pruneIndex drops the expired entries of one index key, and the key once it is empty. */
  private pruneIndex(key: string, now: number): void {
    const ids = this.index.get(key);
    if (ids === undefined) return;
    for (const [sid, expiresAt] of ids) if (expiresAt <= now) ids.delete(sid);
    if (ids.size === 0) this.index.delete(key);
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
