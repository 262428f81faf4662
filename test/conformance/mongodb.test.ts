import { randomBytes } from 'node:crypto';
import { MongoStore, provider } from 'sessionkit/providers/mongodb';
import { describeStore } from 'sessionkit/testing';
import { FakeMongoCollection } from '../fakes/mongodb.ts';
import { requireEnvServer } from '../support/servers.ts';

// No MongoDB server is available to this project's CI: the contract runs over an in-process fake
// of the driver calls MongoStore makes (test/fakes/mongodb.ts), with the suite's fake clock
// driving both the store and the fake.
describeStore('mongodb (fake driver)', {
  clock: 'fake',
  open: async (options) => new MongoStore(new FakeMongoCollection(options.now), { now: options.now }),
});

describe('mongodb (server at SESSIONKIT_TEST_MONGODB_URL)', function () {
  let url = '';
  before(function () {
    const base = requireEnvServer(this, 'SESSIONKIT_TEST_MONGODB_URL', 'mongodb://127.0.0.1:27017/sessionkit_test');
    const collection = `sessionkit_test_${randomBytes(4).toString('hex')}`;
    url = `${base}${base.includes('?') ? '&' : '?'}collection=${collection}`;
  });

  describeStore('mongodb (server)', { clock: 'fake', open: (options) => provider.open(url, options) });
});
