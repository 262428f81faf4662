import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createManager, SessionError, type Manager, type ManagerOptions, type Provider, type Session } from 'sessionkit';
import { CouchbaseStore } from 'sessionkit/providers/couchbase';
import { MongoStore, type IndexEntryDocument } from 'sessionkit/providers/mongodb';
import 'sessionkit/providers/memcache';
import 'sessionkit/providers/mysql';
import 'sessionkit/providers/postgres';
import 'sessionkit/providers/redis';
import { closeServer, CookieClient, listen, type Reply } from 'sessionkit/testing';
import { FakeCouchbase } from '../fakes/couchbase.ts';
import { FakeMongoCollection } from '../fakes/mongodb.ts';
import { freePort, startProxy, type Outage, type Proxy } from '../support/faults.ts';
import { requireServer } from '../support/servers.ts';

/**
 * Store faults as a request sees them, through the middleware (checklist rows 34 to 38): a store
 * that is down at startup, down while a request loads or saves its session, hung, and back again.
 * Each networked provider runs against its shared server through a loopback proxy the test cuts
 * and hangs; mongodb and couchbase run over their fakes, switched down and up.
 */

/** FAIL_WITHIN_MS bounds a request that meets a store that is down: a timeout at most, never a queue. */
const FAIL_WITHIN_MS = 3000;
/** RECOVER_WITHIN_MS bounds how long requests may keep failing once the store is back. */
const RECOVER_WITHIN_MS = 10_000;
const PASSWORD = 's3cret-PW';
const run = randomBytes(4).toString('hex');
const table = `sessionkit_matrix_${run}`;

/** Backend is a networked provider: its shared server and a config reaching it through `port`. */
interface Backend {
  provider: string;
  server: number;
  /** config reaches the server through `port`; `short` asks for sub-second command timeouts. */
  config(port: number, short?: boolean): string;
}

const BACKENDS: Backend[] = [
  {
    provider: 'redis',
    server: 6379,
    config: (port, short) => `redis://127.0.0.1:${port}/0?prefix=sessionkit_matrix:${run}:${short ? '&read_timeout=300ms&write_timeout=300ms&max_retries=1' : ''}`,
  },
  {
    provider: 'memcache',
    server: 11211,
    // memcache's timeout also bounds a reconnect, so the outage runs on the short one as well.
    config: (port) => `memcache://127.0.0.1:${port}?prefix=sessionkit_matrix:${run}:&timeout=300ms&retries=1`,
  },
  {
    provider: 'postgres',
    server: 5432,
    config: (port, short) => `postgres://postgres@127.0.0.1:${port}/test?table=${table}&connect_timeout=2${short ? '&statement_timeout=500' : ''}`,
  },
  { provider: 'mysql', server: 3306, config: (port, short) => `root:@tcp(127.0.0.1:${port})/test?table=${table}&timeout=1s${short ? '&readTimeout=500ms' : ''}` },
];

/** serve runs the middleware with /set?k=v, /get, /noop and /gated/… (held until `gate` resolves); errors answer 503 with their code. */
async function serve(manager: Manager, gate: { arrived: number; opened: Promise<void> }): Promise<{ server: Server; base: string }> {
  const middleware = manager.middleware();
  return listen((req, res) =>
    middleware(req, res, async (error?: unknown) => {
      if (error) {
        res.statusCode = 503;
        res.end(JSON.stringify({ code: (error as SessionError).code, message: (error as Error).message }));
        return;
      }
      const session = (req as IncomingMessage & { session: Session }).session;
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname.startsWith('/gated/')) {
        gate.arrived++;
        await gate.opened;
      }
      if (url.pathname.endsWith('/set')) for (const [k, v] of url.searchParams) session.set(k, v);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(url.pathname === '/noop' ? {} : Object.fromEntries(session.keys().map((k) => [k, session.get(k)]))));
    }),
  );
}

/** timed sends one request and returns the reply and how long it took. */
async function timed(client: CookieClient, path: string): Promise<Reply & { ms: number }> {
  const started = Date.now();
  const reply = await client.request(path);
  return { ...reply, ms: Date.now() - started };
}

/** expectStoreFailure checks a reply that met a store that is down or hung. */
function expectStoreFailure(reply: Reply & { ms: number }, bound = FAIL_WITHIN_MS): void {
  assert.equal(reply.status, 503, reply.body);
  assert.equal((JSON.parse(reply.body) as { code: string }).code, 'ERR_SESSION_STORE', reply.body);
  assert.ok(reply.ms < bound, `failed after ${reply.ms} ms, expected under ${bound} ms`);
  assert.deepEqual(reply.setCookies, [], 'no cookie for a session that was not stored');
}

/**
 * outageFlow runs rows 35, 36 and 38 over one manager whose store `outage` takes down: a save
 * that meets the outage, a load that meets it, a cookieless request that needs no store, and
 * recovery without a restart, with the data written before the outage intact.
 */
async function outageFlow(manager: Manager, outage: Outage): Promise<void> {
  let open!: () => void;
  const gate = { arrived: 0, opened: new Promise<void>((resolve) => (open = resolve)) };
  const { server, base } = await serve(manager, gate);
  try {
    const client = new CookieClient(base);
    assert.equal((await client.request('/set?before=1')).status, 200);
    const saver = new CookieClient(base);
    saver.cookie = client.cookie;
    const saving = timed(saver, '/gated/set?during=1');
    while (gate.arrived < 1) await sleep(5);
    await outage.stop();
    open();
    expectStoreFailure(await saving);
    expectStoreFailure(await timed(client, '/get'));
    const anonymous = await timed(new CookieClient(base), '/noop');
    assert.equal(anonymous.status, 200, 'a request that needs no session needs no store');
    await outage.start();
    const deadline = Date.now() + RECOVER_WITHIN_MS;
    let reply = await client.request('/get');
    while (reply.status !== 200 && Date.now() < deadline) {
      await sleep(100);
      reply = await client.request('/get');
    }
    assert.equal(reply.status, 200, `not back within ${RECOVER_WITHIN_MS} ms: ${reply.body}`);
    assert.deepEqual(JSON.parse(reply.body), { before: '1' }, 'the write from before the outage is there, the failed save is not');
    assert.equal((await client.request('/set?after=1')).status, 200);
    assert.deepEqual(await client.json('/get'), { before: '1', after: '1' });
  } finally {
    await closeServer(server);
  }
}

describe('store faults through the middleware', function () {
  this.timeout(30_000);
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  before(function () {
    process.on('unhandledRejection', onUnhandled);
  });
  after(async function () {
    process.off('unhandledRejection', onUnhandled);
    const pgClient = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
    await pgClient.connect().catch(() => undefined);
    await pgClient.query(`DROP TABLE IF EXISTS "${table}", "${table}_index"`).catch(() => undefined);
    await pgClient.end().catch(() => undefined);
    const my = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' }).catch(() => undefined);
    await my?.query(`DROP TABLE IF EXISTS \`${table}\`, \`${table}_index\``).catch(() => undefined);
    await my?.end().catch(() => undefined);
  });
  afterEach(function () {
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
  });

  it('createManager against a store that is down rejects within seconds, naming the provider and address but not the password', async function () {
    // Row 34, for the networked providers with a server here; mongodb and couchbase open the
    // same way against a real driver in test/providers/{mongodb,couchbase}.test.ts.
    const port = await freePort();
    const configs: [string, string][] = [
      ['redis', `redis://:${PASSWORD}@127.0.0.1:${port}/0?dial_timeout=1s`],
      ['memcache', `memcache://user:${PASSWORD}@127.0.0.1:${port}?timeout=300ms`],
      ['postgres', `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/test?connect_timeout=2`],
      ['mysql', `root:${PASSWORD}@tcp(127.0.0.1:${port})/test?timeout=1s`],
    ];
    for (const [provider, providerConfig] of configs) {
      const started = Date.now();
      const error = await createManager({ provider, providerConfig, gcInterval: 0 }).then(
        (manager) => manager.close().then(() => assert.fail(`${provider} opened against a closed port`)),
        (e: unknown) => e as SessionError,
      );
      assert.ok(Date.now() - started < 6000, `${provider} took ${Date.now() - started} ms`);
      assert.equal(error.code, 'ERR_SESSION_STORE', `${provider}: ${error.message}`);
      assert.ok(error.message.startsWith(`session/${provider}: `) && error.message.includes(`127.0.0.1:${port}`), error.message);
      assert.ok(!error.message.includes(PASSWORD), error.message);
    }
  });

  for (const backend of BACKENDS) {
    describe(backend.provider, function () {
      let proxy: Proxy | undefined;
      let manager: Manager | undefined;

      before(async function () {
        await requireServer(this, backend.provider, '127.0.0.1', backend.server);
      });
      afterEach(async function () {
        await manager?.close();
        await proxy?.stop();
        manager = proxy = undefined;
      });

      it('a store that goes down fails the requests that need it at once, serves the others, and comes back without a restart', async function () {
        // Rows 35 (load), 36 (save after the handler ran) and 38 (recovery).
        proxy = await startProxy(backend.server);
        manager = await createManager({ provider: backend.provider, providerConfig: backend.config(proxy.port), gcInterval: 0, onError: () => undefined });
        await outageFlow(manager, proxy);
      });

      it('a store that stops answering fails each of 20 requests at its timeout, and requests without a session go on meanwhile', async function () {
        // Row 37.
        proxy = await startProxy(backend.server);
        const options: ManagerOptions = { provider: backend.provider, providerConfig: backend.config(proxy.port, true), gcInterval: 0, onError: () => undefined };
        manager = await createManager(options);
        const { server, base } = await serve(manager, { arrived: 0, opened: Promise.resolve() });
        try {
          const client = new CookieClient(base);
          await client.request('/set?x=1');
          proxy.mute();
          const hung = Promise.all(
            Array.from({ length: 20 }, () => {
              const c = new CookieClient(base);
              c.cookie = client.cookie;
              return timed(c, '/get');
            }),
          );
          const anonymous = await timed(new CookieClient(base), '/noop');
          assert.equal(anonymous.status, 200);
          assert.ok(anonymous.ms < 500, `a cookieless request waited ${anonymous.ms} ms behind the hung store`);
          for (const reply of await hung) expectStoreFailure(reply, 4000);
        } finally {
          await closeServer(server);
        }
      });
    });
  }

  describe('mongodb and couchbase (fake drivers)', function () {
    /** fakeOutage opens stores over fakes whose `down` switch is the outage. */
    function fakeOutage(open: (now: () => number) => { store: Promise<unknown> | unknown; fakes: { down: boolean }[] }): { provider: Provider; outage: Outage } {
      let fakes: { down: boolean }[] = [];
      const provider: Provider = {
        open: async (_config, options) => {
          const opened = open(options.now ?? Date.now);
          fakes = opened.fakes;
          return opened.store as never;
        },
      };
      const outage: Outage = {
        stop: async () => void fakes.forEach((fake) => (fake.down = true)),
        start: async () => void fakes.forEach((fake) => (fake.down = false)),
      };
      return { provider, outage };
    }

    it('mongodb: a store that goes down fails the requests that need it at once, and comes back without a restart', async function () {
      // Rows 35, 36 and 38; row 37 needs the real driver's timeouts (test/providers/mongodb.test.ts).
      const { provider, outage } = fakeOutage((now) => {
        const sessions = new FakeMongoCollection(now);
        const index = new FakeMongoCollection<IndexEntryDocument>(now);
        return { store: new MongoStore(sessions, { now, index }), fakes: [sessions, index] };
      });
      const manager = await createManager({ provider, gcInterval: 0, onError: () => undefined });
      try {
        await outageFlow(manager, outage);
      } finally {
        await manager.close();
      }
    });

    it('couchbase: a store that goes down fails the requests that need it at once, and comes back without a restart', async function () {
      const { provider, outage } = fakeOutage((now) => {
        const fake = new FakeCouchbase(now);
        return { store: new CouchbaseStore(fake.collection, { query: fake.query, keyspace: '`sessions`', now }), fakes: [fake] };
      });
      const manager = await createManager({ provider, gcInterval: 0, onError: () => undefined });
      try {
        await outageFlow(manager, outage);
      } finally {
        await manager.close();
      }
    });
  });
});
