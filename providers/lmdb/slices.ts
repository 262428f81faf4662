import { AFTER_ANY_ID, type Entry, type LmdbDatabase, type LmdbRoot, type SliceDatabase } from './lmdb-js.ts';

/** NARROWEST_SLICE is the width of the narrowest slice of expiry time, in ms. */
const NARROWEST_SLICE = 1024;
/** SLICE_ENDS is the `meta` key listing the ends of the slices in use, ascending. */
const SLICE_ENDS = 'slice-ends';
/** PREFIX starts the name of a slice's database: `slice:<end>`. */
const PREFIX = 'slice:';

/**
 * sliceEnd tells which slice of expiry time a session written at `now` to expire at `expiresAt`
 * goes in, by the slice's end. A slice is w ms wide, w a power of two between 1/16 and 1/8 of the
 * time the session has left (at least {@link NARROWEST_SLICE}), and ends at a multiple of w, so
 * sessions of one lifetime share 9 to 17 slices, whatever that lifetime is, and a 30-day session
 * never makes a 20-minute one's lookup try hundreds of slices. Every session in a slice expires at
 * or before its end: once the end has passed, the whole slice is garbage.
 */
export function sliceEnd(expiresAt: number, now: number): number {
  const left = expiresAt - now;
  let width = NARROWEST_SLICE;
  while (width * 16 <= left) width *= 2;
  return Math.ceil(expiresAt / width) * width;
}

/** Found is a stored session, with the database of the slice it is in. */
export interface Found {
  db: SliceDatabase;
  entry: Entry;
}

/** SliceNotOpen is thrown by {@link Slices.find} outside a write transaction when a slice has appeared that this process has no handle on yet. */
export class SliceNotOpen extends Error {}

/**
 * Slices keeps sessions in one named database per slice of expiry time ({@link sliceEnd}), listed
 * by their ends in `meta`, so that a slice whose end has passed goes in one drop, which frees its
 * pages without reading its entries, however many sessions it held. It also keeps this process's
 * handles on those databases: a handle is opened inside a write transaction (lmdb-js opens
 * databases that way), once per slice and process, and closed once another process has dropped
 * the slice, so the environment's table of handles holds about the slices in use. One Slices
 * serves every store of this process open on the file (see file.ts): lmdb-js shares one table of
 * handles among them, and a handle works only in the transactions of the open that made it.
 */
export class Slices {
  readonly #root: LmdbRoot;
  readonly #meta: LmdbDatabase<string, number[]>;
  readonly #handles = new Map<number, SliceDatabase>();

  constructor(root: LmdbRoot, meta: LmdbDatabase<string, number[]>) {
    this.#root = root;
    this.#meta = meta;
  }

  /** ends reads the ends of the slices in use, ascending; inside a transaction it sees its writes. */
  ends(): number[] {
    return this.#meta.get(SLICE_ENDS) ?? [];
  }

  /** openListed opens a handle on every listed slice and closes those on slices no longer listed; inside a write transaction. */
  openListed(): void {
    const ends = this.ends();
    for (const end of ends) if (!this.#handles.has(end)) this.#handles.set(end, this.#open(end));
    if (this.#handles.size === ends.length) return;
    for (const [end, db] of this.#handles) {
      if (ends.includes(end)) continue;
      this.#handles.delete(end);
      void db.close();
    }
  }

  /**
   * find looks `sid` up in the slices that have not ended by `now`, latest first, where sessions in
   * use gather; a session in an ended slice has expired and goes with its slice. It throws
   * {@link SliceNotOpen} when it meets a slice it has no handle on, which {@link openListed} cures.
   */
  find(sid: string, now: number): Found | undefined {
    const ends = this.ends();
    for (let i = ends.length - 1; i >= 0 && ends[i]! > now; i--) {
      const db = this.#handles.get(ends[i]!);
      if (db === undefined) throw new SliceNotOpen();
      const entry = db.get(sid);
      if (entry !== undefined) return { db, entry: entry as Entry };
    }
    return undefined;
  }

  /** store writes a session and its expiry key in the slice of its expiry, listing a new slice; inside a write transaction, with `expiresAt` after `now`. */
  store(sid: string, record: string, expiresAt: number, now: number): void {
    const end = sliceEnd(expiresAt, now);
    const db = this.#handles.get(end) ?? this.#create(end, now);
    db.put(sid, { record, expiresAt });
    db.put([expiresAt, sid], true);
  }

  /** remove removes what {@link find} found at `sid`, with its expiry key; inside a write transaction. */
  remove(sid: string, found: Found): void {
    found.db.remove(sid);
    found.db.remove([found.entry.expiresAt, sid]);
  }

  /** drop drops the slice ending at `end` and unlists it, if it is still listed; inside a write transaction, after {@link openListed}. */
  drop(end: number): void {
    const ends = this.ends();
    if (!ends.includes(end)) return;
    this.#handles.get(end)!.dropSync();
    this.#handles.delete(end);
    this.#meta.put(SLICE_ENDS, ends.filter((e) => e !== end));
  }

  /**
   * countLive counts the sessions of the slices that have not ended, less those whose expiry key
   * has passed `now`: exact, reading only the expired keys. Inside one transaction, after {@link openListed}.
   */
  countLive(now: number): number {
    let live = 0;
    for (const end of this.ends()) {
      if (end <= now) continue;
      const db = this.#handles.get(end)!;
      live += db.getStats().entryCount / 2;
      for (const _ of db.getKeys({ end: [now, AFTER_ANY_ID] })) live--;
    }
    return live;
  }

  /** clear drops every slice; inside a write transaction, after {@link openListed}. */
  clear(): void {
    for (const end of this.ends()) this.drop(end);
  }

  /**
   * #create opens the database of a new slice and lists it. Slices are created once per slice
   * width, and this is when the slices that have ended go too: a process that never runs gc
   * still holds only the slices in use.
   */
  #create(end: number, now: number): SliceDatabase {
    for (const ended of this.ends()) {
      if (ended > now) break;
      this.drop(ended);
    }
    const db = this.#open(end);
    this.#handles.set(end, db);
    this.#meta.put(SLICE_ENDS, [...this.ends(), end].sort((a, b) => a - b));
    return db;
  }

  #open(end: number): SliceDatabase {
    return this.#root.openDB({ name: `${PREFIX}${end}` });
  }
}
