import { assertValidId } from '../../src/id.ts';
import type { Store } from '../../src/provider.ts';
import { indexKeyHash } from '../shared/index-key.ts';
import { checkExpiresAt, idTaken, StoreGuard } from '../shared/errors.ts';
import type { LmdbFile } from './file.ts';
import { Collector } from './gc.ts';
import { AFTER_ANY_ID, type EntryKey, type ExpiryKey, type LmdbDatabase, type LmdbRoot } from './lmdb-js.ts';
import { SliceNotOpen, Slices, type Found } from './slices.ts';

export const NAME = 'lmdb';

/**
 * indexDigest names an index key by the sha256 of its UTF-16 code units, base64url: 43 characters
 * whatever the key holds, so a key's entries form one contiguous range of `[digest, sid]` and no
 * key is a prefix of another. UTF-16 rather than UTF-8 keeps keys with different lone surrogates apart.
 */
function indexDigest(key: string): string {
  return indexKeyHash(NAME, key).toString('base64url');
}

/**
 * LmdbStore keeps sessions in an LMDB file shared by every process on the host, by slice of
 * expiry time ({@link Slices}): a lookup tries the slices that have not ended, latest first, and gc
 * drops ended slices whole ({@link Collector}). Every write runs in an LMDB write transaction (one
 * writer at a time across processes) and reads see the last commit of any process; nothing is
 * cached in this process but its handles on the slices' databases.
 */
export class LmdbStore implements Store {
  private readonly guard = new StoreGuard(NAME);
  private readonly root: LmdbRoot;
  private readonly slices: Slices;
  private readonly index: LmdbDatabase<EntryKey, number>;
  private readonly expiry: LmdbDatabase<ExpiryKey, true>;
  private readonly collector: Collector;

  /** `release` ends this store's use of the file, which closes it after the last store. */
  constructor(
    file: LmdbFile,
    private readonly now: () => number,
    ifExists: number,
    private readonly release: () => Promise<void>,
  ) {
    ({ root: this.root, slices: this.slices, index: this.index, expiry: this.expiry } = file);
    this.collector = new Collector(this.root, this.slices, this.index, this.expiry, now, ifExists, () => this.guard.closed);
  }

  async get(sid: string): Promise<string | undefined> {
    assertValidId(sid, NAME);
    return this.read('get', (now) => liveRecord(this.slices.find(sid, now), now));
  }

  async set(sid: string, record: string, expiresAt: number): Promise<void> {
    assertValidId(sid, NAME);
    checkExpiresAt(NAME, expiresAt);
    await this.write('set', (now) => this.put(sid, this.slices.find(sid, now), record, expiresAt, now));
  }

  async destroy(sid: string): Promise<void> {
    assertValidId(sid, NAME);
    await this.write('destroy', (now) => this.remove(sid, this.slices.find(sid, now)));
  }

  async compareAndSet(sid: string, expected: string | undefined, record: string, expiresAt: number): Promise<boolean> {
    assertValidId(sid, NAME);
    checkExpiresAt(NAME, expiresAt);
    return this.write('compareAndSet', (now) => {
      const found = this.slices.find(sid, now);
      if (liveRecord(found, now) !== expected) return false;
      this.put(sid, found, record, expiresAt, now);
      return true;
    });
  }

  async touch(sid: string, expiresAt: number): Promise<void> {
    assertValidId(sid, NAME);
    checkExpiresAt(NAME, expiresAt);
    await this.write('touch', (now) => {
      const found = this.slices.find(sid, now);
      if (alive(found, now)) this.put(sid, found, found.entry.record, expiresAt, now);
    });
  }

  /** regenerate moves the record in one write transaction; a live record at `newSid` is never overwritten, an expired one is. */
  async regenerate(oldSid: string, newSid: string): Promise<void> {
    assertValidId(oldSid, NAME);
    assertValidId(newSid, NAME);
    await this.write('regenerate', (now) => {
      const old = this.slices.find(oldSid, now);
      if (!alive(old, now)) return;
      const taken = this.slices.find(newSid, now);
      if (alive(taken, now)) throw idTaken(NAME);
      this.remove(oldSid, old);
      this.put(newSid, taken, old.entry.record, old.entry.expiresAt, now);
    });
  }

  /** indexAdd files `sid` under `key` in one write transaction, replacing the entry's expiry. */
  async indexAdd(key: string, sid: string, expiresAt: number): Promise<void> {
    assertValidId(sid, NAME);
    const digest = indexDigest(key);
    await this.write('indexAdd', (now) => {
      this.unfile(digest, sid);
      if (!(expiresAt > now)) return;
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
    return this.read('indexList', (now) => {
      const ids: string[] = [];
      for (const { key: entry, value } of this.index.getRange({ start: [digest, ''], end: [digest, AFTER_ANY_ID] })) {
        if (value > now) ids.push(entry[1]);
      }
      return ids;
    });
  }

  /** count runs gc, then counts the live sessions of each slice in one transaction: exact, reading only the expired keys. */
  async count(): Promise<number> {
    return this.guard.run('count', async () => {
      await this.collector.collect();
      return this.root.transaction(() => {
        this.slices.openListed();
        return this.slices.countLive(this.now());
      });
    });
  }

  async clear(): Promise<void> {
    await this.write('clear', () => {
      this.slices.clear();
      this.index.clearSync();
      this.expiry.clearSync();
    });
  }

  /** gc drops the slices that have ended and removes expired index entries; see {@link Collector}. */
  async gc(): Promise<void> {
    await this.guard.run('gc', () => this.collector.collect());
  }

  async close(): Promise<void> {
    await this.guard.close(this.release);
  }

  /**
   * read runs `body` on the last commit. When a slice has appeared that this process has no handle
   * on yet (about once per slice width), it runs it again inside a write transaction, which opens one.
   */
  private read<T>(action: string, body: (now: number) => T): Promise<T> {
    return this.guard.run(action, () => {
      const now = this.now();
      try {
        return body(now);
      } catch (error) {
        if (!(error instanceof SliceNotOpen)) throw error;
      }
      return this.write(action, () => body(now));
    });
  }

  /** write runs `body` in one LMDB write transaction, the time read once: the one way this store changes the file. */
  private write<T>(action: string, body: (now: number) => T): Promise<T> {
    return this.guard.run(action, () =>
      this.root.transaction(() => {
        this.slices.openListed();
        return body(this.now());
      }),
    );
  }

  /** put replaces what was `found` at `sid` with the record; an expiresAt not in the future only removes. */
  private put(sid: string, found: Found | undefined, record: string, expiresAt: number, now: number): void {
    this.remove(sid, found);
    if (expiresAt > now) this.slices.store(sid, record, expiresAt, now);
  }

  private remove(sid: string, found: Found | undefined): void {
    if (found !== undefined) this.slices.remove(sid, found);
  }

  /** unfile removes the index entry `[digest, sid]` and its expiry key, if there is one. */
  private unfile(digest: string, sid: string): void {
    const expiresAt = this.index.get([digest, sid]);
    if (expiresAt === undefined) return;
    this.index.remove([digest, sid]);
    this.expiry.remove([expiresAt, digest, sid]);
  }
}

/** alive tells whether something was found and has not expired by `now`. */
function alive(found: Found | undefined, now: number): found is Found {
  return found !== undefined && found.entry.expiresAt > now;
}

/** liveRecord is the record of what was found, if it has not expired by `now`. */
function liveRecord(found: Found | undefined, now: number): string | undefined {
  return alive(found, now) ? found.entry.record : undefined;
}
