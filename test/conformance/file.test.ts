import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provider } from 'sessionkit/providers/file';
import { describeManager, describeStore } from 'sessionkit/testing';

describe('file provider conformance', function () {
  let root: string;
  before(async function () {
    root = await mkdtemp(join(tmpdir(), 'sessionkit-file-'));
  });
  after(async function () {
    await rm(root, { recursive: true, force: true });
  });
  describeStore('file', {
    open: (options) => provider.open(join(root, 'store'), options),
    requires: ['compareAndSet', 'touch', 'regenerate', 'count', 'clear', 'gc', 'indexAdd', 'indexRemove', 'indexList'],
  });
  describeManager('file', { options: () => ({ provider: 'file', providerConfig: join(root, 'manager') }) });
});
