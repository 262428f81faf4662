import { resolve } from 'node:path';
import { configError, parseKeyValues, rejectUnknown } from '../shared/dsn.ts';

const NAME = 'lmdb';

/** DEFAULT_PATH is the database file used for an empty config string, relative to `process.cwd()`. */
export const DEFAULT_PATH = 'data/sessions.lmdb';

/**
 * LmdbOptions are the parsed lmdb config: `path` is the absolute path of the database FILE (LMDB
 * keeps its lock in `<path>-lock` beside it); it defaults to {@link DEFAULT_PATH}.
 */
export interface LmdbOptions {
  path: string;
}

/**
 * parseConfig reads the lmdb config string: a file path (`data/sessions.lmdb`, `/var/lib/app/sessions.lmdb`),
 * or macaron's ledis form `data_dir=./app.db`, whose value is read as that file path. An empty
 * string means {@link DEFAULT_PATH}. A relative path resolves against `process.cwd()` (the one
 * impurity); a path that starts with `word=` must be written `./word=…`. Another key, an empty
 * `data_dir` or a NUL byte is an `ERR_SESSION_PROVIDER_CONFIG` error naming it.
 */
export function parseConfig(config: string): LmdbOptions {
  let path = config.trim();
  if (/^[a-z_]+=/i.test(path)) {
    const entries = parseKeyValues(NAME, path, ',');
    rejectUnknown(NAME, entries.keys(), ['data_dir']);
    path = entries.get('data_dir') ?? '';
    if (path === '') throw configError(NAME, 'data_dir is empty');
  }
  if (path === '') path = DEFAULT_PATH;
  if (path.includes('\0')) throw configError(NAME, 'path contains a NUL byte');
  return { path: resolve(process.cwd(), path) };
}
