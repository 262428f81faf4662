import { randomBytes } from 'node:crypto';
import type { OpenOptions, Provider, Store } from 'sessionkit';
import { CouchbaseStore, provider } from 'sessionkit/providers/couchbase';
import { describeManager, describeStore } from 'sessionkit/testing';
import { FakeCouchbase } from '../fakes/couchbase.ts';
import { requireEnvServer } from '../support/servers.ts';

/** REQUIRES lists every optional method CouchbaseStore has; it has no gc, the server expires documents. */
const REQUIRES: (keyof Store)[] = ['compareAndSet', 'touch', 'regenerate', 'count', 'clear', 'indexAdd', 'indexRemove', 'indexList', 'close'];

// No Couchbase server is available to this project's CI: the contract runs over an in-process
// fake of the SDK calls CouchbaseStore makes (test/fakes/couchbase.ts). The suite's fake clock
// drives both the store and the fake's expiry, which has the server's one-second resolution.
const openFake = async (options: OpenOptions) => {
  const fake = new FakeCouchbase(options.now);
  return new CouchbaseStore(fake.collection, { query: fake.query, keyspace: '`sessions`', now: options.now });
};

describeStore('couchbase (fake driver)', { clock: 'fake', expiryResolution: 1000, requires: REQUIRES, open: openFake });

// The Manager flow over the same fake, on real time; the fake stands in for the registered
// provider, whose `open` would connect to a cluster.
const fakeProvider: Provider = { open: (_config, options) => openFake(options) };
describeManager('couchbase (fake driver)', { options: () => ({ provider: fakeProvider }) });

describe('couchbase (cluster at SESSIONKIT_TEST_COUCHBASE_URL)', function () {
  let url = '';
  before(function () {
    const base = requireEnvServer(this, 'SESSIONKIT_TEST_COUCHBASE_URL', 'couchbase://Administrator:password@127.0.0.1?bucket=sessions');
    // Each run gets its own key prefix, so count and clear see only this run's sessions.
    const prefix = `sessionkit_test_${randomBytes(4).toString('hex')}:`;
    url = /[?&]prefix=/.test(base) ? base : `${base}${base.includes('?') ? '&' : '?'}prefix=${encodeURIComponent(prefix)}`;
  });

  // The server expires documents by its own clock, so this row runs on real time.
  describeStore('couchbase (server)', { clock: 'real', expiryResolution: 1000, requires: REQUIRES, open: (options) => provider.open(url, options) });
  describeManager('couchbase (server)', { options: () => ({ provider: 'couchbase', providerConfig: url }) });
});
