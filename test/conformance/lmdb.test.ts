import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from 'sessionkit';
import { provider } from 'sessionkit/providers/lmdb';
import { describeManager, describeStore } from 'sessionkit/testing';

/** requires lists every optional method the lmdb store has. */
const requires: (keyof Store)[] = ['compareAndSet', 'touch', 'regenerate', 'count', 'clear', 'gc', 'indexAdd', 'indexRemove', 'indexList'];

describe('lmdb provider conformance', function () {
  let dir: string;
  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'sessionkit-lmdb-'));
  });
  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });
  describeStore('lmdb', { requires, open: (options) => provider.open(join(dir, 'store.lmdb'), options) });
  describeManager('lmdb', { options: () => ({ provider: 'lmdb', providerConfig: join(dir, 'manager.lmdb') }) });
});
