import { chmodSync, existsSync, mkdirSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { failure } from '../shared/errors.ts';
import type { EntryKey, ExpiryKey, Lmdb, LmdbDatabase, LmdbRoot } from './lmdb-js.ts';
import { migrate } from './migrate.ts';
import { Slices } from './slices.ts';
import { NAME } from './store.ts';

/** PAGE_SIZE is the page size of a file this provider creates. */
const PAGE_SIZE = 65_536;
/** MAX_DATABASES bounds the named databases open at once: the slices in use (9 to 17 for each lifetime in use) and four more. */
const MAX_DATABASES = 1_000;

/** LmdbFile is one open LMDB file: its root, its slices, and the index with its expiry keys. */
export interface LmdbFile {
  root: LmdbRoot;
  slices: Slices;
  index: LmdbDatabase<EntryKey, number>;
  expiry: LmdbDatabase<ExpiryKey, true>;
}

/** Shared is one file's open, with the number of stores using it. */
interface Shared {
  opening: Promise<LmdbFile>;
  stores: number;
}

/**
 * files holds the files open in this process by canonical path. Every store on one file shares its open:
 * lmdb-js opens a file once per process anyway, sharing LMDB's table of database handles among
 * its opens, while each open queues its own write transactions; a slice database's handle made
 * through one open and used in another's transaction would write outside it.
 */
const files = new Map<string, Shared>();

/** Acquired is one store's use of a file: the file, and `release` to end that use. */
export interface Acquired {
  file: LmdbFile;
  /** release ends this use; the last one closes the file. */
  release: () => Promise<void>;
}

/**
 * acquireFile opens `path` for one more store, or shares this process's open of it; a file
 * created here is readable by its owner only, and one written in the first layout is moved to
 * slices on its first open.
 */
export async function acquireFile(path: string, lmdb: Lmdb, now: () => number): Promise<Acquired> {
  const key = canonical(path);
  let shared = files.get(key);
  if (shared === undefined) {
    shared = { opening: openFile(path, lmdb, now), stores: 0 };
    files.set(key, shared);
  }
  const mine = shared;
  mine.stores++;
  /** leave ends one use and tells whether it was the last, the open then forgotten. */
  const leave = (): boolean => {
    if (--mine.stores > 0) return false;
    if (files.get(key) === mine) files.delete(key);
    return true;
  };
  const release = async (): Promise<void> => {
    if (leave()) await (await mine.opening).root.close();
  };
  try {
    return { file: await mine.opening, release };
  } catch (error) {
    leave();
    throw error;
  }
}

/**
 * canonical names a file however it is reached, symlinks resolved, as lmdb-js tells files apart
 * (by device and inode): the file's real path, or for a file not yet created its directory's.
 */
function canonical(path: string): string {
  for (const real of [() => realpathSync(path), () => join(realpathSync(dirname(path)), basename(path))]) {
    try {
      return real();
    } catch {
      // Not there yet: try the next, or keep the path as given.
    }
  }
  return path;
}

async function openFile(path: string, lmdb: Lmdb, now: () => number): Promise<LmdbFile> {
  let root: LmdbRoot;
  try {
    const created = !existsSync(path);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // overlappingSync (lmdb's default on Linux) let a compare-and-set from another process lose
    // an update now and then (test/providers/lmdb.test.ts, three processes incrementing one
    // counter: about 1 run in 40 ended one short); without it every commit is ordered.
    // 64 KB pages (for a new file) keep the free-page list short: lmdb-js merges it into every
    // commit, which with 4 KB pages took about 18 ms a commit in a file of a million sessions,
    // against under 2 ms (providers/lmdb/README.md).
    root = lmdb.open({ path, noSubdir: true, cache: false, overlappingSync: false, pageSize: PAGE_SIZE, maxDbs: MAX_DATABASES });
    if (created) for (const file of [path, `${path}-lock`]) if (existsSync(file)) chmodSync(file, 0o600);
  } catch (cause) {
    throw failure(NAME, `cannot open ${path}`, cause);
  }
  const file: LmdbFile = {
    root,
    slices: new Slices(root, root.openDB({ name: 'meta' })),
    index: root.openDB({ name: 'index' }),
    expiry: root.openDB({ name: 'expiry' }),
  };
  try {
    await migrate(root, file.slices, file.expiry, now);
  } catch (cause) {
    await root.close();
    throw failure(NAME, `cannot move the sessions of ${path} to the current layout`, cause);
  }
  return file;
}
