import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { open } from 'lmdb';
import type { Store } from 'sessionkit';
import { provider } from 'sessionkit/providers/lmdb';

/** TempStore is an lmdb store in a fresh temporary directory. */
export interface TempStore {
  dir: string;
  path: string;
  store: Store;
}

/** openTempStore opens the store file `file` in a fresh temporary directory, with a one-hour lifetime on the clock `now`. */
export async function openTempStore(file: string, now: () => number): Promise<TempStore> {
  const dir = await mkdtemp(join(tmpdir(), 'sessionkit-lmdb-'));
  const path = join(dir, file);
  return { dir, path, store: await provider.open(path, { maxLifetime: 3_600_000, now }) };
}

/** TempFixture is what one test works on: `store` on `path` in `temp.dir`, whose clock reads `now`; a test may set `now` and reopen `store`. */
export interface TempFixture {
  temp: TempStore;
  path: string;
  store: Store;
  now: number;
}

/**
 * eachTempStore opens a fresh store on `file` before each test of the enclosing describe block,
 * its clock reading the fixture's `now` (set to `start` first), and removes it after the test.
 */
export function eachTempStore(file: string, start: number): TempFixture {
  const fixture = { now: start } as TempFixture;
  beforeEach(async function () {
    fixture.now = start;
    fixture.temp = await openTempStore(file, () => fixture.now);
    ({ path: fixture.path, store: fixture.store } = fixture.temp);
  });
  afterEach(async function () {
    await removeTempStore(fixture.temp, fixture.store);
  });
  return fixture;
}

/** removeTempStore closes `store` (the test's, which it may have reopened on the same file) and removes the directory. */
export async function removeTempStore(temp: TempStore, store: Store): Promise<void> {
  await store.close?.();
  await rm(temp.dir, { recursive: true, force: true });
}

/**
 * Layout is what a closed store's file holds: the keys of its `index` and `expiry` databases, the
 * sessions stored in its slices (expired ones not yet dropped included), their expiry keys, and
 * the ends of the slices listed in `meta`. It checks that each listed slice has its database and
 * no other slice database exists, and that each stored session has one expiry key.
 */
export interface Layout {
  index: unknown[][];
  expiry: unknown[][];
  sessions: number;
  sessionExpiry: unknown[][];
  slices: number[];
}

/** layout opens the file of a closed store directly and reads back its databases. */
export async function layout(path: string): Promise<Layout> {
  const root = open({ path, noSubdir: true, cache: false, maxDbs: 1000 });
  try {
    const keys = (name: string) => [...root.openDB({ name }).getKeys()] as unknown[][];
    const slices = (root.openDB({ name: 'meta' }).get('slice-ends') ?? []) as number[];
    const names = ([...root.getKeys()] as string[]).filter((name) => name.startsWith('slice:'));
    assert.deepEqual(names.sort(), slices.map((end) => `slice:${end}`).sort(), 'one database per listed slice, none other');
    const inSlices = names.flatMap((name) => keys(name));
    const sessionExpiry = inSlices.filter((key) => Array.isArray(key));
    const sessions = inSlices.length - sessionExpiry.length;
    assert.equal(sessionExpiry.length, sessions, 'one expiry key per stored session');
    return { index: keys('index'), expiry: keys('expiry'), sessions, sessionExpiry, slices };
  } finally {
    await root.close();
  }
}

/** Child is a node process running an ES module script, with its stdout read line by line. */
export interface Child {
  /** line resolves with the next line the child prints. */
  line(): Promise<string>;
  /** exited resolves with the child's exit code once it has ended. */
  exited: Promise<number | null>;
}

/**
 * startChild runs `code` as an ES module in another node process, from the repository root so
 * `sessionkit` imports resolve to the sources; it is killed after `timeoutMs`.
 */
export function startChild(code: string, timeoutMs = 20_000): Child {
  const child = spawn(process.execPath, ['--conditions=sessionkit-source', '--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: resolve(import.meta.dirname, '../..'),
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: timeoutMs,
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('exit', (code) => done(code));
  });
  return {
    async line() {
      const next = await lines.next();
      if (next.done) throw new Error(`the child ended without printing a line (exit ${await exited})`);
      return next.value;
    },
    exited,
  };
}
