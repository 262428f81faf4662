import assert from 'node:assert/strict';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { SessionError } from '../errors.ts';
// The package root, so the built-in memory and file providers are registered as for any user.
import { createManager, type Manager } from '../index.ts';
import type { ManagerOptions } from '../options.ts';
import type { ConnectMiddleware } from '../http/node.ts';
import type { Session } from '../session.ts';
import { closeServer, CookieClient, listen } from './http-client.ts';

/** ManagerSuiteOptions configure {@link describeManager}. */
export interface ManagerSuiteOptions {
  /** options returns the ManagerOptions of a fresh manager (provider, providerConfig, …). */
  options(): ManagerOptions | Promise<ManagerOptions>;
  /** concurrency is the number of parallel requests in the lost-update tests [50]. */
  concurrency?: number;
  /**
   * mount runs the suite inside a framework: it gets the session middleware and the suite's
   * routes (both connect-style) and returns the request listener, e.g.
   * `(session, routes) => express().use(session).use(routes)`. Default: plain node:http.
   */
  mount?: (session: ConnectMiddleware, routes: ConnectMiddleware) => (req: IncomingMessage, res: ServerResponse) => void;
}

type RouteHandler = (req: IncomingMessage, res: ServerResponse, error?: unknown) => Promise<void>;

type Route = (session: Session, url: URL, res: ServerResponse) => Promise<unknown> | unknown;

const ROUTES: Record<string, Route> = {
  '/noop': () => ({ ok: true }),
  '/set': (s, url) => {
    for (const [k, v] of url.searchParams) s.set(k, v);
    return { id: s.id };
  },
  '/get': (s) => Object.fromEntries(s.keys().map((k) => [k, s.get(k)])),
  '/inc': (s) => ({ n: s.increment('n') }),
  '/regenerate': async (s) => {
    await s.regenerate();
    return { id: s.id };
  },
  '/destroy': async (s) => {
    await s.destroy();
    return { ok: true };
  },
  '/logout': async (s) => {
    await s.destroy();
    s.flash.info('logged out');
    return { ok: true };
  },
  '/flash': (s, _url, res) => {
    s.flash.success('saved');
    s.flash.error('careful');
    res.statusCode = 302;
    res.setHeader('location', '/view');
    return undefined;
  },
  '/view': (s) => s.flash.view(),
  '/login': async (s, url) => {
    await s.regenerate();
    s.bindUser(url.searchParams.get('user')!);
    s.set('user', url.searchParams.get('user'));
    return { id: s.id };
  },
};

/** Gate holds requests of the `/gated` route after they loaded their session, until the test opens it. */
class Gate {
  arrived = 0;
  #open!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.#open = resolve));
  open(): void {
    this.#open();
  }
  async waitFor(count: number): Promise<void> {
    while (this.arrived < count) await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * describeManager defines a mocha suite that runs the whole request flow over a provider through
 * `manager.middleware()` on a loopback node:http server: lazy creation, reads across requests,
 * regenerate, destroy, flash across a redirect, forged ids, and concurrent requests of one
 * session that must not lose updates.
 */
export function describeManager(name: string, suite: ManagerSuiteOptions): void {
  describe(`Manager flow: ${name}`, function () {
    this.timeout(30_000);
    let manager: Manager;
    let server: Server;
    let base: string;
    const concurrency = suite.concurrency ?? 50;
    let gate = new Gate();

    /** routes answers the suite's requests once the session middleware has run. */
    const routes: RouteHandler = async (req, res, error) => {
      if (error) {
        res.statusCode = 500;
        res.end(String((error as Error).message));
        return;
      }
      const session = (req as IncomingMessage & { session: Session }).session;
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/gated') {
        // Loaded now; write only once the test opens the gate.
        gate.arrived++;
        await gate.opened;
        for (const [k, v] of url.searchParams) session.set(k, v);
        res.end();
        return;
      }
      const route = ROUTES[url.pathname];
      try {
        const body = route ? await route(session, url, res) : undefined;
        if (!route) res.statusCode = 404;
        res.setHeader('content-type', 'application/json');
        res.end(body === undefined ? '' : JSON.stringify(body));
      } catch (failure) {
        res.statusCode = 500;
        res.end(String((failure as Error).message));
      }
    };

    before(async function () {
      manager = await createManager(await suite.options());
      const middleware = manager.middleware();
      const listener = suite.mount
        ? suite.mount(middleware, (req, res, next) => void routes(req, res).catch(next))
        : (req: IncomingMessage, res: ServerResponse) => middleware(req, res, (error?: unknown) => void routes(req, res, error));
      ({ server, base } = await listen(listener));
    });
    after(async function () {
      if (server) await closeServer(server);
      await manager?.close();
    });

    const countIfSupported = async (): Promise<number | undefined> => {
      try {
        return await manager.count();
      } catch (error) {
        if (error instanceof SessionError && error.code === 'ERR_SESSION_UNSUPPORTED') return undefined;
        throw error;
      }
    };

    it('a request that never writes stores nothing and sets no cookie', async function () {
      const before = await countIfSupported();
      const client = new CookieClient(base);
      const reply = await client.request('/noop');
      assert.equal(reply.status, 200);
      assert.deepEqual(reply.setCookies, []);
      assert.equal(await countIfSupported(), before);
    });

    it('a value set in one request is read by the next request of the same client', async function () {
      const client = new CookieClient(base);
      const first = await client.request('/set?user=alice&role=admin');
      assert.equal(first.setCookies.length, 1);
      assert.match(first.setCookies[0]!, /HttpOnly/);
      assert.deepEqual(await client.json('/get'), { user: 'alice', role: 'admin' });
      const again = await client.request('/get');
      assert.deepEqual(again.setCookies, [], 'an unchanged session sends no cookie');
    });

    it('a forged well-formed id is never adopted', async function () {
      const client = new CookieClient(base);
      const forged = 'a'.repeat(32);
      client.cookie = `sid=${forged}`;
      const reply = await client.request('/set?x=1');
      assert.equal(reply.setCookies.length, 1);
      assert.ok(!reply.setCookies[0]!.includes(forged));
      assert.deepEqual(await client.json('/get'), { x: '1' });
    });

    it('regenerate keeps the data, issues a new id and the old id stops working', async function () {
      const client = new CookieClient(base);
      await client.request('/set?user=bob');
      const oldCookie = client.cookie;
      const reply = await client.request('/regenerate');
      assert.equal(reply.setCookies.length, 1);
      assert.notEqual(client.cookie, oldCookie);
      assert.deepEqual(await client.json('/get'), { user: 'bob' });
      const replay = new CookieClient(base);
      replay.cookie = oldCookie;
      assert.deepEqual(await replay.json('/get'), {});
    });

    it('destroy removes the session, expires the cookie, and a replayed cookie is anonymous', async function () {
      const client = new CookieClient(base);
      await client.request('/set?user=carol');
      const oldCookie = client.cookie;
      const reply = await client.request('/destroy');
      assert.equal(reply.setCookies.length, 1);
      assert.match(reply.setCookies[0]!, /Max-Age=0/);
      const replay = new CookieClient(base);
      replay.cookie = oldCookie;
      assert.deepEqual(await replay.json('/get'), {});
    });

    it('a flash set after destroy lives in a new session under a new id', async function () {
      const client = new CookieClient(base);
      await client.request('/set?user=dan');
      const oldCookie = client.cookie;
      const reply = await client.request('/logout');
      assert.equal(reply.setCookies.length, 1);
      assert.notEqual(client.cookie, oldCookie);
      const view = (await client.json('/view')) as { infoMsg: string };
      assert.equal(view.infoMsg, 'logged out');
    });

    it('flash messages survive a redirect and are shown exactly once', async function () {
      const client = new CookieClient(base);
      const redirect = await client.request('/flash');
      assert.equal(redirect.status, 302);
      const view = (await client.json('/view')) as { successMsg: string; errorMsg: string; messages: unknown[] };
      assert.equal(view.successMsg, 'saved');
      assert.equal(view.errorMsg, 'careful');
      assert.deepEqual(view.messages, [
        { level: 'success', text: 'saved' },
        { level: 'error', text: 'careful' },
      ]);
      const second = (await client.json('/view')) as { messages: unknown[] };
      assert.deepEqual(second.messages, []);
    });

    it(`concurrent increments of one session all count`, async function () {
      const client = new CookieClient(base);
      await client.request('/set?start=1');
      await Promise.all(Array.from({ length: concurrency }, () => client.request('/inc')));
      const data = (await client.json('/get')) as { n: number };
      assert.equal(data.n, concurrency);
    });

    it(`concurrent requests writing different keys keep every key`, async function () {
      const client = new CookieClient(base);
      await client.request('/set?start=1');
      await Promise.all(Array.from({ length: concurrency }, (_, i) => client.request(`/set?k${i}=${i}`)));
      const data = (await client.json('/get')) as Record<string, string>;
      for (let i = 0; i < concurrency; i++) assert.equal(data[`k${i}`], String(i));
    });

    it('a destroy racing with writes leaves the session destroyed', async function () {
      const client = new CookieClient(base);
      await client.request('/set?user=eve');
      const cookie = client.cookie;
      const writers = Array.from({ length: 10 }, (_, i) => {
        const c = new CookieClient(base);
        c.cookie = cookie;
        return c.request(`/set?w${i}=1`);
      });
      const killer = new CookieClient(base);
      killer.cookie = cookie;
      await Promise.all([...writers, killer.request('/destroy')]);
      const after = new CookieClient(base);
      after.cookie = cookie;
      const data = (await after.json('/get')) as Record<string, string>;
      assert.equal(data.user, undefined, 'destroyed data is not resurrected');
    });

    it('a regenerate racing with writes loses none of them, and the racing requests never see the new id', async function () {
      if (!manager.store.indexList) this.skip();
      const client = new CookieClient(base);
      await client.request('/set?start=1');
      const oldCookie = client.cookie;
      gate = new Gate();
      const writers = Array.from({ length: 10 }, (_, i) => {
        const c = new CookieClient(base);
        c.cookie = oldCookie;
        return c.request(`/gated?w${i}=${i}`);
      });
      await gate.waitFor(writers.length);
      await client.request('/regenerate');
      gate.open();
      for (const reply of await Promise.all(writers)) assert.deepEqual(reply.setCookies, []);
      const data = (await client.json('/get')) as Record<string, string>;
      for (let i = 0; i < writers.length; i++) assert.equal(data[`w${i}`], String(i));
      const replay = new CookieClient(base);
      replay.cookie = oldCookie;
      assert.deepEqual(await replay.json('/get'), {}, 'the old id reaches nothing');
    });

    describe('user sessions', function () {
      before(function () {
        if (!manager.store.indexList) this.skip();
      });
      const login = async (user: string) => {
        const client = new CookieClient(base);
        await client.request('/set?before=login');
        const { id } = (await client.json(`/login?user=${encodeURIComponent(user)}`)) as { id: string };
        return { client, id };
      };
      const userId = () => `user-${Math.random().toString(36).slice(2)} é`;

      it('listUserSessions lists exactly the live sessions bound to that user', async function () {
        const [alice, bob] = [userId(), userId()];
        const a1 = await login(alice);
        const a2 = await login(alice);
        await login(bob);
        assert.deepEqual((await manager.listUserSessions(alice)).sort(), [a1.id, a2.id].sort());
        assert.equal((await manager.listUserSessions(bob)).length, 1);
        assert.deepEqual(await manager.listUserSessions(userId()), []);
      });

      it('the listing follows regenerate and destroy', async function () {
        const user = userId();
        const a = await login(user);
        const b = await login(user);
        const { id: moved } = (await a.client.json('/regenerate')) as { id: string };
        assert.deepEqual((await manager.listUserSessions(user)).sort(), [moved, b.id].sort());
        await b.client.request('/destroy');
        assert.deepEqual(await manager.listUserSessions(user), [moved]);
        await manager.destroy(moved);
        assert.deepEqual(await manager.listUserSessions(user), []);
      });

      it('destroyUserSessions logs the user out everywhere and leaves other users alone', async function () {
        const [user, other] = [userId(), userId()];
        const sessions = [await login(user), await login(user), await login(user)];
        const bystander = await login(other);
        assert.equal(await manager.destroyUserSessions(user), 3);
        for (const { client } of sessions) assert.deepEqual(await client.json('/get'), {});
        assert.deepEqual(await manager.listUserSessions(user), []);
        assert.equal(((await bystander.client.json('/get')) as { user: string }).user, other);
        assert.equal(await manager.destroyUserSessions(user), 0);
      });

      it('a write racing with destroyUserSessions does not bring the session back', async function () {
        const user = userId();
        const { client } = await login(user);
        gate = new Gate();
        const writer = client.request('/gated?late=1');
        await gate.waitFor(1);
        await manager.destroyUserSessions(user);
        gate.open();
        await writer;
        assert.deepEqual(await manager.listUserSessions(user), []);
        assert.equal(((await client.json('/get')) as { user?: string }).user, undefined);
      });

      it('bad user ids are refused with a SessionError', async function () {
        await assert.rejects(manager.listUserSessions(''), SessionError);
        await assert.rejects(manager.listUserSessions('x'.repeat(501)), SessionError);
        await assert.rejects(manager.destroyUserSessions(42 as unknown as string), SessionError);
      });
    });

    it('count and destroy by id go through the manager where the store supports them', async function () {
      const before = await countIfSupported();
      const client = new CookieClient(base);
      const { id } = (await client.json('/set?x=1')) as { id: string };
      if (before !== undefined) assert.equal(await manager.count(), before + 1);
      await manager.destroy(id);
      assert.deepEqual(await client.json('/get'), {});
      if (before !== undefined) assert.equal(await manager.count(), before);
    });
  });
}
