import type { OpenOptions, Provider, Store } from '../../src/provider.ts';
import { SessionError } from '../../src/errors.ts';
import { register } from '../../src/registry.ts';
import { ExpiryWheel } from './expiry-wheel.ts';

/** MemoryOptions: the memory provider takes no options; its config string must be empty. */
export type MemoryOptions = Record<string, never>;

/** parseConfig accepts only an empty config string: the memory store has nothing to configure. */
export function parseConfig(config: string): MemoryOptions {
  if (config.trim() !== '') {
    throw new SessionError('ERR_SESSION_PROVIDER_CONFIG', 'session/memory: takes no provider config; leave PROVIDER_CONFIG empty');
  }
  return {};
}

/**
 * Each session is one string in the Map: its expiry as 13 decimal digits of epoch ms, then the
 * record. One string per session instead of an entry object and a boxed number keeps a small
 * session near 190 heap bytes (see bench/).
 */
const EXPIRY_DIGITS = 13;
const MAX_EXPIRY = 10 ** EXPIRY_DIGITS - 1;

function pack(expiresAt: number, record: string): string {
  const expiry = Math.min(Math.max(Math.floor(expiresAt), 0), MAX_EXPIRY);
  // JSON.stringify hands out strings inside a buffer grown by doubling; a round trip through a
  // UTF-16 buffer (lossless for any string) keeps a copy of exactly the session's length.
  return Buffer.from(String(expiry).padStart(EXPIRY_DIGITS, '0') + record, 'utf16le').toString('utf16le');
}

const expiryOf = (value: string): number => Number(value.slice(0, EXPIRY_DIGITS));
const recordOf = (value: string): string => value.slice(EXPIRY_DIGITS);

/**
 * MemoryStore keeps sessions in a Map of one process. Expiry is checked on every read; gc sweeps
 * an {@link ExpiryWheel}, so its cost follows the number of expired sessions, not all of them.
 */
export class MemoryStore implements Store {
  private readonly entries = new Map<string, string>();
  private readonly wheel: ExpiryWheel;
  /** index maps an index key to its ids and their entry expiry; indexWheel drives its gc. */
  private readonly index = new Map<string, Map<string, number>>();
  private readonly indexWheel: ExpiryWheel;
  private readonly now: () => number;

  constructor(options: OpenOptions) {
    this.now = options.now ?? Date.now;
    this.wheel = new ExpiryWheel(options.maxLifetime);
    this.indexWheel = new ExpiryWheel(options.maxLifetime);
  }

  async get(sid: string): Promise<string | undefined> {
    const value = this.live(sid);
    return value === undefined ? undefined : recordOf(value);
  }

  async set(sid: string, record: string, expiresAt: number): Promise<void> {
    this.put(sid, record, expiresAt);
  }

  async destroy(sid: string): Promise<void> {
    this.entries.delete(sid);
  }

  async compareAndSet(sid: string, expected: string | undefined, record: string, expiresAt: number): Promise<boolean> {
    const value = this.live(sid);
    if ((value === undefined ? undefined : recordOf(value)) !== expected) return false;
    this.put(sid, record, expiresAt);
    return true;
  }

  async touch(sid: string, expiresAt: number): Promise<void> {
    const value = this.live(sid);
    if (value !== undefined) this.put(sid, recordOf(value), expiresAt);
  }

  async regenerate(oldSid: string, newSid: string): Promise<void> {
    const value = this.live(oldSid);
    if (value === undefined) return;
    this.entries.delete(oldSid);
    this.entries.set(newSid, value);
    this.wheel.file(newSid, expiryOf(value));
  }

  async indexAdd(key: string, sid: string, expiresAt: number): Promise<void> {
    let ids = this.index.get(key);
    if (ids === undefined) this.index.set(key, (ids = new Map()));
    const previous = ids.get(sid);
    ids.set(sid, expiresAt);
    // The wheel files index keys, not ids: sweeping a key prunes all of its expired ids.
    this.indexWheel.file(key, expiresAt, previous);
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
    this.wheel.clear();
    this.index.clear();
    this.indexWheel.clear();
  }

  async gc(): Promise<void> {
    this.collect();
  }

  async close(): Promise<void> {
    await this.clear();
  }

  private live(sid: string): string | undefined {
    const value = this.entries.get(sid);
    if (value === undefined) return undefined;
    if (expiryOf(value) > this.now()) return value;
    this.entries.delete(sid);
    return undefined;
  }

  private put(sid: string, record: string, expiresAt: number): void {
    const before = this.entries.get(sid);
    const value = pack(expiresAt, record);
    this.entries.set(sid, value);
    this.wheel.file(sid, expiryOf(value), before === undefined ? undefined : expiryOf(before));
  }

  /** collect removes expired sessions and index entries. */
  private collect(): void {
    const now = this.now();
    this.wheel.sweep(now, (sid) => {
      const value = this.entries.get(sid);
      if (value === undefined) return undefined;
      const expiresAt = expiryOf(value);
      if (expiresAt > now) return expiresAt;
      this.entries.delete(sid);
      return undefined;
    });
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
