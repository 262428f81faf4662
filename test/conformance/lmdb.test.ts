import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provider } from 'sessionkit/providers/lmdb';
import { describeManager, describeStore } from 'sessionkit/testing';

describe('lmdb provider conformance', function () {
  let dir: string;
  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'sessionkit-lmdb-'));
  });
  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });
  describeStore('lmdb', { open: (options) => provider.open(join(dir, 'store.lmdb'), options) });
  describeManager('lmdb', { options: () => ({ provider: 'lmdb', providerConfig: join(dir, 'manager.lmdb') }) });
});
