import { randomBytes } from 'node:crypto';
import type { Store } from 'sessionkit';
import { provider } from 'sessionkit/providers/redis';
import { describeManager, describeStore } from 'sessionkit/testing';
import { requireServer } from '../support/servers.ts';

/** Each run writes under its own prefix, so rows never see each other's keys or the shared server's. */
const prefix = () => `sessionkit_test:${randomBytes(4).toString('hex')}:`;

/** requires lists every optional method the redis store has; gc is left out, Redis expires keys itself. */
const requires: (keyof Store)[] = ['compareAndSet', 'touch', 'regenerate', 'count', 'clear', 'indexAdd', 'indexRemove', 'indexList'];

/** describeRedis runs the Store contract and the Manager flow over one redis config, each under its own prefix. */
function describeRedis(name: string, config: (prefix: string) => string): void {
  const storeConfig = config(prefix());
  describeStore(name, { clock: 'real', requires, open: (options) => provider.open(storeConfig, options) });
  const managerConfig = config(prefix());
  describeManager(name, { options: () => ({ provider: 'redis', providerConfig: managerConfig }) });
}

describe('redis standalone (127.0.0.1:6379)', function () {
  before(async function () {
    await requireServer(this, 'redis', '127.0.0.1', 6379);
  });
  describeRedis('redis', (p) => `redis://127.0.0.1:6379/0?prefix=${p}`);
});

describe('redis cluster (127.0.0.1:7000-7002)', function () {
  before(async function () {
    await requireServer(this, 'redis cluster (.ci/redis-cluster.sh)', '127.0.0.1', 7000);
  });
  describeRedis('redis cluster', (p) => `redis+cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002?prefix=${p}`);
});

describe('redis sentinel (127.0.0.1:26379, master "sessionkit")', function () {
  before(async function () {
    await requireServer(this, 'redis sentinel (.ci/redis-sentinel.sh)', '127.0.0.1', 26379);
  });
  describeRedis('redis sentinel', (p) => `ha_mode=sentinel,master_name=sessionkit,sentinel_addrs=127.0.0.1:26379,db=0,prefix=${p}`);
});
