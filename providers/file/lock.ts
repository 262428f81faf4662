import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, rename, rm, rmdir, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * LOCK_WAIT_MS bounds how long an operation waits for a session's lock before it fails: well
 * inside the Manager's default storeTimeout (2 s), so contention is reported as such, not as a
 * timeout of the whole call.
 */
export const LOCK_WAIT_MS = 1500;

/**
 * STALE_LOCK_MS is the age after which a lock counts as abandoned (its holder crashed or is
 * stalled) and may be broken. Breaking a lock is safe however long its holder stalls: the holder's
 * write can no longer land (see {@link Held.commit}).
 */
export const STALE_LOCK_MS = 10_000;

/** BATCH_MS bounds how long one process keeps a lock to run the operations it queued for it, so other processes get their turn. */
const BATCH_MS = 20;

/** REFRESH_MS is how old a waiter lets its prepared lock directory get before it moves its mtime to now, so a lock is never born looking stale. */
const REFRESH_MS = 1000;

/** HELD are the errors of renaming a directory onto a lock that someone holds: a non-empty directory, or a file (older versions, or planted). */
const HELD = new Set(['EEXIST', 'ENOTEMPTY', 'ENOTDIR']);

/** token is a random name part: 16 hex characters, too short to be taken for a session id. */
const token = () => randomBytes(8).toString('hex');

/** gone tells whether an error says that a path is not there (any more). */
const gone = (error: unknown) => ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '');

/** StoredRecord is a live record as a lock holder last read or wrote it. */
export interface StoredRecord {
  data: string;
  expiresAt: number;
}

/**
 * Held is one holding of the lock of `<dir>/<name>`. The lock is the directory `<name>.lock`,
 * which holds a marker named by this holder's token for as long as it is held. A holder writes
 * through {@link Held.commit}, which cannot land once the lock was broken.
 */
export class Held {
  /**
   * record caches the record under this lock as this holding last read or wrote it: null when
   * missing or expired, undefined when unknown. Every operation that changes the file under the
   * lock sets it to what it wrote, or to undefined.
   */
  record: StoredRecord | null | undefined;
  /** lost is set once a commit found the lock broken; nothing more is done under it. */
  lost = false;
  readonly #lock: string;
  readonly #token: string;
  #writes = 0;

  constructor(lock: string, holder: string) {
    this.#lock = lock;
    this.#token = holder;
  }

  /**
   * commit writes `data` to `target`, a file beside the lock, with mtime `expiresAt`: through a
   * 0600 temp file created in the lock directory, synced, and renamed into place. It returns false,
   * having written nothing, when the lock was broken meanwhile. That check is in the kernel, not
   * before it: breaking a lock moves its directory away, so the rename of a temp file inside it
   * finds no source. The marker is checked after the temp file is created, because a temp file
   * created through the lock's path after a break would sit in the new holder's directory.
   */
  async commit(target: string, data: string, expiresAt: number): Promise<boolean> {
    const temp = join(this.#lock, `${this.#token}.${++this.#writes}.tmp`);
    let handle: FileHandle;
    try {
      handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    } catch (error) {
      if (gone(error)) return this.#lose();
      throw error;
    }
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
      const when = new Date(expiresAt);
      await handle.utimes(when, when);
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    await handle.close();
    if (!(await this.#owned())) {
      // The name is this holder's own, so this removes nothing of the new holder's.
      await unlink(temp).catch(() => undefined);
      return this.#lose();
    }
    try {
      await rename(temp, target);
    } catch (error) {
      if (gone(error)) return this.#lose();
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    return true;
  }

  /** release removes the marker and then the lock directory, which rmdir removes only while empty; a lock that was broken is left to its new holder. */
  async release(): Promise<void> {
    try {
      await rmdir(join(this.#lock, this.#token));
    } catch {
      return;
    }
    await rmdir(this.#lock).catch(() => undefined);
  }

  #lose(): false {
    this.lost = true;
    return false;
  }

  async #owned(): Promise<boolean> {
    try {
      await lstat(join(this.#lock, this.#token));
      return true;
    } catch (error) {
      if (gone(error)) return false;
      throw error;
    }
  }
}

/**
 * breakLock breaks the lock at `lock` (a directory, or a file left by an older version): it
 * renames it to a temp name beside it, which fences out its holder, and removes it. A lock already
 * gone is no error.
 */
export async function breakLock(lock: string): Promise<void> {
  const moved = `${lock.slice(0, -'.lock'.length)}.${token()}.tmp`;
  try {
    await rename(lock, moved);
  } catch (error) {
    if (gone(error)) return;
    throw error;
  }
  await rm(moved, { recursive: true, force: true });
}

/** isStale tells whether the lock at `lock` was last changed more than {@link STALE_LOCK_MS} ago (real time, as the file system keeps it); a missing one is not. */
export async function isStale(lock: string): Promise<boolean> {
  const s = await lstat(lock).catch(() => undefined);
  return s !== undefined && Date.now() - s.mtimeMs > STALE_LOCK_MS;
}

/**
 * acquire takes the lock of `<dir>/<name>`, or returns undefined once `deadline()` has passed.
 * A waiter prepares a directory holding its marker (`<name>.<token>.tmp/<token>`) and renames it
 * to `<name>.lock`: rename puts a directory in place only when nothing or an empty directory is
 * there, so exactly one waiter wins, across processes too. `prepare` makes sure `dir` exists;
 * it runs again when the directory was removed meanwhile (gc removes empty ones).
 */
async function acquire(dir: string, name: string, deadline: () => number, prepare: () => Promise<void>): Promise<Held | undefined> {
  const holder = token();
  const lock = join(dir, `${name}.lock`);
  const staged = join(dir, `${name}.${holder}.tmp`);
  let stagedAt = 0;
  try {
    for (let attempt = 0; ; attempt++) {
      const now = Date.now();
      if (stagedAt === 0) {
        await prepare();
        stagedAt = await stage(staged, holder);
      } else if (now - stagedAt > REFRESH_MS) {
        stagedAt = await utimes(staged, new Date(now), new Date(now)).then(() => now, () => 0);
      }
      if (stagedAt !== 0) {
        try {
          await rename(staged, lock);
          stagedAt = -1;
          return new Held(lock, holder);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? '';
          if (code === 'ENOENT') stagedAt = 0;
          else if (!HELD.has(code)) throw error;
          else if (await isStale(lock)) {
            await breakLock(lock);
            continue;
          }
        }
      }
      if (Date.now() >= deadline()) return undefined;
      // Short random waits: the holder keeps a lock for a few milliseconds at a time.
      await sleep(Math.random() * Math.min(1 + attempt, 8));
    }
  } finally {
    if (stagedAt > 0) await rm(staged, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** stage creates the directory a waiter renames into place and its marker; it returns when, or 0 when `dir` is missing. */
async function stage(staged: string, holder: string): Promise<number> {
  try {
    await mkdir(staged, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  await mkdir(join(staged, holder), { mode: 0o700 });
  return Date.now();
}

interface Job {
  run(held: Held): Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  deadline: number;
}

/**
 * Locks runs operations under per-name file locks, queueing them per lock within this process:
 * only one operation of the process ever waits for a given file lock, and once it has the lock,
 * the operations queued meanwhile run one after another under the same holding (for at most
 * {@link BATCH_MS}), so a process never contends with itself and many writers of one session cost
 * one lock round trip per batch, not one each.
 */
export class Locks {
  readonly #queues = new Map<string, Job[]>();

  /**
   * run runs `fn` holding the lock of `<dir>/<name>`. It rejects with `timed out waiting for a
   * session lock` when the lock was not had within {@link LOCK_WAIT_MS}; `prepare` makes sure
   * `dir` exists before a lock is made in it.
   */
  run<T>(dir: string, name: string, prepare: () => Promise<void>, fn: (held: Held) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job: Job = { run: fn, resolve: resolve as (value: unknown) => void, reject, deadline: Date.now() + LOCK_WAIT_MS };
      const key = join(dir, name);
      const queue = this.#queues.get(key);
      if (queue) {
        queue.push(job);
        return;
      }
      this.#queues.set(key, [job]);
      void this.#drain(key, dir, name, prepare);
    });
  }

  async #drain(key: string, dir: string, name: string, prepare: () => Promise<void>): Promise<void> {
    const queue = this.#queues.get(key)!;
    while (queue.length > 0) {
      let held: Held | undefined;
      try {
        held = await acquire(dir, name, () => Math.min(...queue.map((job) => job.deadline)), prepare);
      } catch (error) {
        for (const job of queue.splice(0)) job.reject(error);
        continue;
      }
      if (held === undefined) {
        const now = Date.now();
        const late = queue.filter((job) => job.deadline <= now);
        queue.splice(0, queue.length, ...queue.filter((job) => job.deadline > now));
        for (const job of late) job.reject(new Error('timed out waiting for a session lock'));
        continue;
      }
      const since = Date.now();
      for (;;) {
        const job = queue.shift()!;
        const settle = await job.run(held).then(
          (value) => () => job.resolve(value),
          (error: unknown) => () => job.reject(error),
        );
        if (queue.length > 0 && !held.lost && Date.now() - since < BATCH_MS) {
          settle();
          continue;
        }
        // The last operation of a holding answers once the lock is gone, so its caller finds the directory as the operation left it.
        await held.release();
        settle();
        break;
      }
    }
    this.#queues.delete(key);
  }
}
