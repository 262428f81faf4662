import { randomBytes } from 'node:crypto';
import { provider } from 'sessionkit/providers/redis';
import { describeStore } from 'sessionkit/testing';
import { requireServer } from '../support/servers.ts';

/** Each run writes under its own prefix, so rows never see each other's keys or the shared server's. */
const prefix = () => `sessionkit_test:${randomBytes(4).toString('hex')}:`;

describe('redis standalone (127.0.0.1:6379)', function () {
  before(async function () {
    await requireServer(this, 'redis', '127.0.0.1', 6379);
  });
  const config = `redis://127.0.0.1:6379/0?prefix=${prefix()}`;
  describeStore('redis', { clock: 'real', open: (options) => provider.open(config, options) });
});

describe('redis cluster (127.0.0.1:7000-7002)', function () {
  before(async function () {
    await requireServer(this, 'redis cluster (.ci/redis-cluster.sh)', '127.0.0.1', 7000);
  });
  const config = `redis+cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002?prefix=${prefix()}`;
  describeStore('redis cluster', { clock: 'real', open: (options) => provider.open(config, options) });
});

describe('redis sentinel (127.0.0.1:26379, master "sessionkit")', function () {
  before(async function () {
    await requireServer(this, 'redis sentinel (.ci/redis-sentinel.sh)', '127.0.0.1', 26379);
  });
  const config = `ha_mode=sentinel,master_name=sessionkit,sentinel_addrs=127.0.0.1:26379,db=0,prefix=${prefix()}`;
  describeStore('redis sentinel', { clock: 'real', open: (options) => provider.open(config, options) });
});
