import type { EntryKey, ExpiryKey, LmdbDatabase, LmdbRoot } from './lmdb-js.ts';
import type { Slices } from './slices.ts';

/** GC_ROUND bounds the index entries gc reads and queues before it waits for their removal's commit. */
const GC_ROUND = 2_000;

/**
 * Collector is the lmdb store's gc. A pass drops each slice whose end has passed, one write
 * transaction per slice: a drop frees the slice's pages without reading its entries, so it takes a
 * few ms however many sessions expired together. Then it removes the index entries whose expiry
 * key has passed, GC_ROUND per transaction, queued for lmdb-js's write thread so that no JavaScript
 * runs while their lock is held. `stopped` ends a pass early (the store is closing); the next pass
 * goes on from there.
 */
export class Collector {
  constructor(
    private readonly root: LmdbRoot,
    private readonly slices: Slices,
    private readonly index: LmdbDatabase<EntryKey, number>,
    private readonly expiry: LmdbDatabase<ExpiryKey, true>,
    private readonly now: () => number,
    private readonly ifExists: number,
    private readonly stopped: () => boolean,
  ) {}

  /** collect runs one pass as of now. */
  async collect(): Promise<void> {
    const now = this.now();
    for (const end of this.slices.ends()) {
      if (end > now || this.stopped()) break;
      await this.root.transaction(() => {
        this.slices.openListed();
        this.slices.drop(end);
      });
    }
    if (!this.stopped()) await this.sweep(now);
  }

  /** sweep removes the index entries whose expiry key is at or before `now`, with the key. */
  private async sweep(now: number): Promise<void> {
    let last: ExpiryKey | undefined;
    for (;;) {
      const keys: ExpiryKey[] = [];
      for (const key of this.expiry.getKeys({ start: last, exclusiveStart: last !== undefined, limit: GC_ROUND })) {
        if (key[0] > now) break;
        keys.push(key);
      }
      last = keys[keys.length - 1];
      keys.sort(byEntry);
      await Promise.all(keys.map((key) => this.drop(key)));
      if (keys.length < GC_ROUND || this.stopped()) return;
    }
  }

  /**
   * drop queues the removal of an index entry's expiry key with the entry, to run only if the key
   * is still there when the write thread reaches it: a key exists exactly while its entry expires
   * at that time (every write moves both in one transaction), so an entry filed again since gc
   * read the key has lost it and is left alone.
   */
  private drop(key: ExpiryKey): Promise<boolean> {
    return this.expiry.ifVersion(key, this.ifExists, () => {
      this.expiry.remove(key);
      this.index.remove([key[1], key[2]]);
    });
  }
}

/** byEntry orders expiry keys as their entries are stored: by digest, then sid. */
function byEntry(a: ExpiryKey, b: ExpiryKey): number {
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0;
}
