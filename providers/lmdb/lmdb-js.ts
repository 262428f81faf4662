/** The parts of lmdb-js 3.x this provider uses, and the shapes of what it stores. */

export interface LmdbDatabase<K, V> {
  get(key: K): V | undefined;
  put(key: K, value: V): Promise<boolean>;
  remove(key: K): Promise<boolean>;
  ifVersion(key: K, version: number, action: () => void): Promise<boolean>;
  getKeys(options?: { start?: K; end?: K; exclusiveStart?: boolean; limit?: number }): Iterable<K>;
  getRange(options: { start?: K; end?: K; exclusiveStart?: boolean; limit?: number }): Iterable<{ key: K; value: V }>;
  getStats(): { entryCount: number };
  clearSync(): void;
  /** dropSync deletes the database, freeing its pages without reading its entries; this process's handle closes with it. */
  dropSync(): void;
  /** close releases this process's handle on the database (its slot in the environment's table). */
  close(): Promise<void>;
}

export interface LmdbRoot {
  openDB<K, V>(options: { name: string }): LmdbDatabase<K, V>;
  /** getKeys lists the names of the file's named databases. */
  getKeys(): Iterable<unknown>;
  transaction<T>(action: () => T): Promise<T>;
  close(): Promise<void>;
}

export interface LmdbOpenOptions {
  path: string;
  noSubdir: boolean;
  cache: boolean;
  overlappingSync: boolean;
  /** pageSize applies to a file being created; an existing file keeps its own. */
  pageSize: number;
  maxDbs: number;
}

export interface Lmdb {
  open(options: LmdbOpenOptions): LmdbRoot;
  /** IF_EXISTS, as the version given to `ifVersion`, makes its writes run only if the key is there when the write thread reaches them. */
  IF_EXISTS?: number;
}

/** Entry is what a session's key holds: its record and the time it expires (epoch ms). */
export interface Entry {
  record: string;
  expiresAt: number;
}
/**
 * A slice database holds its sessions under their id (an {@link Entry}) and one expiry key
 * `[expiresAt, sid]` each (`true`), which sort before every id.
 */
export type SliceKey = string | [expiresAt: number, sid: string];
export type SliceDatabase = LmdbDatabase<SliceKey, Entry | true>;
/** EntryKey names one index entry: the digest of its index key, then the session id. */
export type EntryKey = [digest: string, sid: string];
/** ExpiryKey is an index entry's `[expiresAt, digest, sid]`. */
export type ExpiryKey = [expiresAt: number, digest: string, sid: string];

/** AFTER_ANY_ID sorts after every session id (lowercase hex), so `[x, AFTER_ANY_ID]` ends the range of keys `[x, sid]`. */
export const AFTER_ANY_ID = 'g';
