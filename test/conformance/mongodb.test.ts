import { randomBytes } from 'node:crypto';
import type { OpenOptions, Provider, Store } from 'sessionkit';
import { MongoStore, provider, type IndexEntryDocument } from 'sessionkit/providers/mongodb';
import { describeManager, describeStore } from 'sessionkit/testing';
import { FakeMongoCollection } from '../fakes/mongodb.ts';
import { requireEnvServer } from '../support/servers.ts';

/** requires lists every optional method the mongodb store has. */
const requires: (keyof Store)[] = ['compareAndSet', 'touch', 'regenerate', 'count', 'clear', 'gc', 'indexAdd', 'indexRemove', 'indexList'];

/** openFake opens a MongoStore over a fake session collection and a fake index collection sharing one clock. */
function openFake(options: OpenOptions): MongoStore {
  const now = options.now ?? Date.now;
  return new MongoStore(new FakeMongoCollection(now), { now, index: new FakeMongoCollection<IndexEntryDocument>(now) });
}

/** fakeProvider hands the Manager a store over the fakes, each manager its own collections. */
const fakeProvider: Provider = { open: async (_config, options) => openFake(options) };

// No MongoDB server is available to this project's CI: the contract runs over an in-process fake
// of the driver calls MongoStore makes (test/fakes/mongodb.ts), with the suite's fake clock
// driving both the store and the fake.
describeStore('mongodb (fake driver)', { clock: 'fake', requires, open: async (options) => openFake(options) });
describeManager('mongodb (fake driver)', { options: () => ({ provider: fakeProvider }) });

describe('mongodb (server at SESSIONKIT_TEST_MONGODB_URL)', function () {
  const urls = { store: '', manager: '' };
  before(function () {
    const base = requireEnvServer(this, 'SESSIONKIT_TEST_MONGODB_URL', 'mongodb://127.0.0.1:27017/sessionkit_test');
    const withCollection = () => `${base}${base.includes('?') ? '&' : '?'}collection=sessionkit_test_${randomBytes(4).toString('hex')}`;
    urls.store = withCollection();
    urls.manager = withCollection();
  });

  describeStore('mongodb (server)', { clock: 'fake', requires, open: (options) => provider.open(urls.store, options) });
  describeManager('mongodb (server)', { options: () => ({ provider: 'mongodb', providerConfig: urls.manager }) });
});
