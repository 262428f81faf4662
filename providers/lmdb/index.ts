import { SessionError } from '../../src/errors.ts';
import { loadOptional } from '../shared/load.ts';
import type { Provider } from '../../src/provider.ts';
import { register } from '../../src/registry.ts';
import { parseConfig } from './config.ts';
import { acquireFile } from './file.ts';
import type { Lmdb } from './lmdb-js.ts';
import { LmdbStore, NAME } from './store.ts';

export { DEFAULT_PATH, parseConfig, type LmdbOptions } from './config.ts';
export { LmdbStore } from './store.ts';

/**
 * provider opens an {@link LmdbStore} on the file of the config string: it creates the parent
 * directory (mode 0700) when missing and the file readable by its owner only, opens it with
 * lmdb-js's object cache off (a per-process cache would go stale when another process writes),
 * and shares one open of a file among the stores of this process (see file.ts).
 */
export const provider: Provider = {
  async open(config, options) {
    const { path } = parseConfig(config);
    const lmdb = await loadOptional<Lmdb>(NAME, 'lmdb');
    if (typeof lmdb.IF_EXISTS !== 'number') throw new SessionError('ERR_SESSION_MISSING_DEPENDENCY', 'session/lmdb: the installed lmdb is too old (no IF_EXISTS); update it (npm install lmdb@latest)');
    const now = options.now ?? Date.now;
    const { file, release } = await acquireFile(path, lmdb, now);
    return new LmdbStore(file, now, lmdb.IF_EXISTS, release);
  },
};

register('lmdb', provider);
