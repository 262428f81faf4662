import { randomBytes } from 'node:crypto';
import { provider } from 'sessionkit/providers/memcache';
import { describeManager, describeStore } from 'sessionkit/testing';
import { requireServer } from '../support/servers.ts';

// A random prefix per run keeps this suite's keys apart from anything else in the memcached.
const config = `memcache://127.0.0.1:11211?prefix=sessionkit_test_${randomBytes(4).toString('hex')}:`;

describe('memcache against 127.0.0.1:11211', function () {
  before(async function () {
    await requireServer(this, 'memcached (.ci/memcached.sh)', '127.0.0.1', 11211);
  });

  describeStore('memcache', {
    clock: 'real',
    // memcached cannot list keys (no count or clear) and expires items itself (no gc).
    requires: ['compareAndSet', 'touch', 'regenerate', 'indexAdd', 'indexRemove', 'indexList', 'close'],
    expiryResolution: 1000,
    open: (options) => provider.open(config, options),
  });
  describeManager('memcache', { options: () => ({ provider: 'memcache', providerConfig: config }) });
});
