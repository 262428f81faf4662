import type { Stats } from 'node:fs';
import { lstat, mkdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SessionError } from '../../src/errors.ts';
import { failure } from '../shared/errors.ts';

const NAME = 'file';

/** ID_RUN finds what could be a session id in a message: a run of 32 or more lowercase hex characters. */
const ID_RUN = /[0-9a-f]{32,}/g;
/** MAX_CAUSE_DEPTH bounds how deep {@link hidingIds} looks through a chain of causes. */
const MAX_CAUSE_DEPTH = 8;

/**
 * hidingIds is {@link failure} for a file-system error of the store at `root`:
 * `session/file: <what>: <message>`, with every run of 32 or more lowercase hex characters — a
 * session id, or the hash naming an index key — replaced by `***` in the message and in the cause
 * it keeps (message, stack, `path`, `dest`, and its own causes). Runs that are part of the root's
 * own path (a container volume's id, say) stay, so a path reads `<root>/e/6/***`: where it failed,
 * never whose session. A {@link SessionError} passes through unchanged; the store's own messages
 * name no id.
 */
export function hidingIds(what: string, cause: unknown, root: string): SessionError {
  const inRoot = new Set(root.match(ID_RUN));
  return failure(NAME, what, cause, [...idsIn(cause)].filter((run) => !inRoot.has(run)));
}

/** idsIn collects the id-like runs of every string `cause` and its causes carry. */
function idsIn(cause: unknown, found = new Set<string>(), depth = 0): Set<string> {
  if (typeof cause === 'string') {
    for (const [run] of cause.matchAll(ID_RUN)) found.add(run);
  } else if (cause !== null && typeof cause === 'object' && depth <= MAX_CAUSE_DEPTH) {
    const source = cause as { message?: unknown; stack?: unknown; cause?: unknown };
    for (const text of [source.message, source.stack]) idsIn(text, found, depth);
    for (const value of Object.values(cause)) if (typeof value === 'string') idsIn(value, found, depth);
    idsIn(source.cause, found, depth + 1);
  }
  return found;
}

/**
 * notADirectory is the error for a path below the root that is a symlink or anything else but a
 * real directory (`found` is what lstat or readdir saw there): the store follows no link between
 * its root and a record, so the sessions that would live there are neither read, written nor
 * collected until it is removed. `more` counts further such paths, for gc's report.
 */
export function notADirectory(path: string, found: { isSymbolicLink(): boolean; isFile(): boolean }, more = 0): SessionError {
  const kind = found.isSymbolicLink() ? 'symlink' : found.isFile() ? 'file' : 'special file';
  const others = more > 0 ? ` (and ${more} more)` : '';
  return new SessionError(
    'ERR_SESSION_STORE',
    `session/${NAME}: ${path} is a ${kind}, not a directory${others}; the store follows no link below its root, so it neither reads, writes nor collects sessions there`,
  );
}

/** LINK stands for a path that resolved elsewhere although each lstat found a directory: something moved it meanwhile. */
const LINK = { isSymbolicLink: () => true, isFile: () => false };

/**
 * Dirs resolves and checks the directories under one store root. The root itself may be reached
 * through symlinks (it is configuration); below it, no symlink is ever followed: a directory is
 * used only after `realpath` shows it to be the root's own subdirectory, and one that is missing is
 * created level by level, each level checked with `lstat` before anything is made inside it.
 */
export class Dirs {
  readonly root: string;
  #real: Promise<string> | undefined;

  constructor(root: string) {
    this.root = root;
  }

  /**
   * realRoot creates the root (0700) when missing and returns its real path, once. A root that
   * group or others may write is refused: anyone who can write there can plant a link or a session.
   */
  realRoot(): Promise<string> {
    this.#real ??= this.#openRoot().catch((error: unknown) => {
      this.#real = undefined;
      throw error;
    });
    return this.#real;
  }

  async #openRoot(): Promise<string> {
    let s: Stats;
    let real: string;
    try {
      await mkdir(this.root, { recursive: true, mode: 0o700 });
      [s, real] = await Promise.all([stat(this.root), realpath(this.root)]);
    } catch (error) {
      throw failure(NAME, `open ${this.root} failed`, error);
    }
    if (!s.isDirectory()) throw new SessionError('ERR_SESSION_STORE', `session/${NAME}: ${this.root} is not a directory`);
    if ((s.mode & 0o022) !== 0) {
      const mode = (s.mode & 0o7777).toString(8).padStart(4, '0');
      throw new SessionError('ERR_SESSION_STORE', `session/${NAME}: ${this.root} is writable by group or others (mode ${mode}); make it private with chmod 700`);
    }
    return real;
  }

  /**
   * check tells whether `parts` (names below the root) lead to a real directory: true when they
   * do, false when some level is missing. A level that is a symlink or not a directory rejects
   * with a message naming the first such level.
   */
  async check(parts: readonly string[]): Promise<boolean> {
    const real = await this.realRoot();
    let resolved: string;
    try {
      resolved = await realpath(join(this.root, ...parts));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'ELOOP') throw error;
      await this.#walk(parts, false);
      return false;
    }
    if (resolved === join(real, ...parts)) return true;
    await this.#walk(parts, false);
    // Only a change under way can get here: report it as a link rather than guess what moved.
    throw notADirectory(join(this.root, ...parts), LINK);
  }

  /** make is {@link check} that creates the missing levels (0700), each inside a level already checked. */
  async make(parts: readonly string[]): Promise<void> {
    if (await this.check(parts)) return;
    await this.#walk(parts, true);
  }

  /**
   * walk goes down `parts` one level at a time with lstat, refusing a level that is not a real
   * directory; a missing level is created when `create` is set, else the walk stops there.
   */
  async #walk(parts: readonly string[], create: boolean): Promise<void> {
    let path = this.root;
    for (const part of parts) {
      path = join(path, part);
      let s = await lstat(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      if (s === undefined) {
        if (!create) return;
        await mkdir(path, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'EEXIST') throw error;
        });
        s = await lstat(path);
      }
      if (!s.isDirectory()) throw notADirectory(path, s);
    }
  }
}
