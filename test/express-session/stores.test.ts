import { RedisStore } from 'connect-redis';
import connectPgSimple from 'connect-pg-simple';
import memorystore from 'memorystore';
import session, { storeProvider, type ExpressSessionStore } from 'sessionkit/express-session';
import { describeManager, describeStore } from 'sessionkit/testing';
import { usePostgres, useRedis } from './support.ts';

/**
 * sessionkit's conformance kit over express-session stores, through `storeProvider`: the store
 * contract (with a fake clock, as the adapter checks expiry itself) and the whole Manager flow.
 * These stores have no compare-and-set; the kit leaves out the tests that need one. The stores
 * that take the session module are made with the drop-in's, as an app without express-session
 * would make them.
 */

/** describeExpressStore runs both suites over stores made by `make`, one for each suite. */
function describeExpressStore(name: string, make: () => ExpressSessionStore): void {
  describeStore(name, { open: (options) => storeProvider(make()).open('', options) });
  // The suite collects what the manager reports; the default onError would print the expected no-compare-and-set notice.
  describeManager(name, { atomic: false, options: () => ({ provider: storeProvider(make()), onError: () => undefined }) });
}

describe('express-session stores as providers', function () {
  describe('memorystore', function () {
    // Its types ask for express-session's module; the drop-in's session.Store is what it uses of it.
    const MemoryStore = memorystore(session as unknown as Parameters<typeof memorystore>[0]);
    describeExpressStore('memorystore', () => new MemoryStore({}));
  });

  describe('connect-redis 9 (127.0.0.1:6379)', function () {
    const { client, prefix } = useRedis('connect-redis');
    describeExpressStore('connect-redis', () => new RedisStore({ client, prefix }));
  });

  describe('connect-pg-simple (127.0.0.1:5432)', function () {
    const PgStore = connectPgSimple(session);
    const { pool, table } = usePostgres('cps');
    describeExpressStore('connect-pg-simple', () => new PgStore({ pool, tableName: table, createTableIfMissing: true, pruneSessionInterval: false }));
  });
});
