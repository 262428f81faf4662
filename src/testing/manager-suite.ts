import assert from 'node:assert/strict';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { SessionError } from '../errors.ts';
import { generateId } from '../id.ts';
// The package root, so the built-in memory and file providers are registered as for any user.
import { createManager, type Manager } from '../index.ts';
import type { ManagerOptions, RejectedId } from '../options.ts';
import type { ConnectMiddleware } from '../http/node.ts';
import type { Store } from '../provider.ts';
import type { Session } from '../session.ts';
import { movedKey } from '../user-index.ts';
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
  '/setjson': (s, url) => {
    for (const [k, v] of url.searchParams) s.set(k, JSON.parse(v));
    return { id: s.id };
  },
  '/delete': (s, url) => {
    for (const key of url.searchParams.getAll('key')) s.delete(key);
    return { ok: true };
  },
  '/flush': (s) => {
    s.flush();
    return { ok: true };
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
  '/destroy-anyway': async (s) => {
    try {
      await s.destroy();
      return { failed: false, keys: s.keys() };
    } catch {
      return { failed: true, keys: s.keys() };
    }
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

/** Gate holds requests under `/gated/` after they loaded their session, until the test opens it; then they run the route after `/gated`. */
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

/** REQUEST_METHODS are the Store methods a request may call; the suite watches them to prove that some requests call none. */
const REQUEST_METHODS = ['get', 'set', 'destroy', 'compareAndSet', 'touch', 'regenerate', 'count', 'clear', 'indexAdd', 'indexRemove', 'indexList'] as const;

/** utf8AsLatin1 spells `text` as its UTF-8 bytes, one character each: what a raw UTF-8 header looks like to node. */
const utf8AsLatin1 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

/** fakeRequest is the part of a request the Manager reads, for values no HTTP client can send (NUL, CR, LF). */
const fakeRequest = (cookie?: string) => ({ headers: cookie === undefined ? {} : { cookie } }) as IncomingMessage;

const HOUR = 3_600_000;

/**
 * describeManager defines a mocha suite that runs the whole request flow over a provider through
 * `manager.middleware()` on a loopback node:http server: lazy creation, reads across requests,
 * regenerate, destroy, flash across a redirect, forged, malformed and colliding ids, corrupt
 * records, exact value round trips, size limits, and concurrent requests of one session that must
 * not lose updates or undo a destroy.
 */
export function describeManager(name: string, suite: ManagerSuiteOptions): void {
  describe(`Manager flow: ${name}`, function () {
    this.timeout(30_000);
    let manager: Manager;
    let server: Server;
    let base: string;
    const concurrency = suite.concurrency ?? 50;
    let gate = new Gate();
    /** reported and rejected collect what the manager sends to onError and onRejectedId. */
    const reported: Error[] = [];
    const rejected: RejectedId[] = [];

    /** routes answers the suite's requests once the session middleware has run. */
    const routes: RouteHandler = async (req, res, error) => {
      if (error) {
        res.statusCode = 500;
        res.end(String((error as Error).message));
        return;
      }
      const session = (req as IncomingMessage & { session: Session }).session;
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname.startsWith('/gated/')) {
        // Loaded now; act only once the test opens the gate.
        gate.arrived++;
        await gate.opened;
        url.pathname = url.pathname.slice('/gated'.length);
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
      const options = await suite.options();
      manager = await createManager({
        ...options,
        onError: (error) => {
          reported.push(error);
          options.onError?.(error);
        },
        onRejectedId: (event) => {
          rejected.push(event);
          options.onRejectedId?.(event);
        },
      });
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

    /** cookieOf is the Cookie header that presents `id` (signed when the manager signs). */
    const cookieOf = (id: string) => manager.cookieFor(id).split(';', 1)[0]!;
    /** idOf reads the session id out of a client's cookie. */
    const idOf = (cookie: string | undefined) => cookie?.slice(cookie.indexOf('=') + 1).split('.', 1)[0];
    const clientWith = (cookie: string | undefined) => {
      const client = new CookieClient(base);
      client.cookie = cookie;
      return client;
    };
    const later = () => manager.options.now() + HOUR;

    /** storeCallsDuring runs `run` and returns the names of the store methods it called, in order. */
    async function storeCallsDuring(run: () => Promise<unknown>): Promise<string[]> {
      const store = manager.store as unknown as Record<string, unknown>;
      const calls: string[] = [];
      const names = REQUEST_METHODS.filter((name) => typeof store[name] === 'function');
      const own = new Map(names.map((name) => [name, Object.getOwnPropertyDescriptor(store, name)]));
      for (const name of names) {
        const original = store[name] as (...args: unknown[]) => unknown;
        store[name] = (...args: unknown[]) => {
          calls.push(name);
          return original.apply(manager.store, args);
        };
      }
      try {
        await run();
      } finally {
        for (const [name, descriptor] of own) {
          if (descriptor) Object.defineProperty(store, name, descriptor);
          else delete store[name];
        }
      }
      return calls;
    }

    /** failingOnce makes the next call of the store's `method` reject, then restores it. */
    function failingOnce(method: keyof Store): void {
      const store = manager.store as unknown as Record<string, unknown>;
      const descriptor = Object.getOwnPropertyDescriptor(store, method);
      store[method] = async () => {
        if (descriptor) Object.defineProperty(store, method, descriptor);
        else delete store[method];
        throw new Error(`injected ${method} failure`);
      };
    }

    /** withIds makes the manager's next new ids `ids`, then fresh random ones again. */
    function withIds(ids: string[]): () => void {
      const original = manager.newId.bind(manager);
      manager.newId = () => ids.shift() ?? original();
      return () => void Reflect.deleteProperty(manager, 'newId');
    }

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
      let reply: Awaited<ReturnType<CookieClient['request']>> | undefined;
      assert.deepEqual(await storeCallsDuring(async () => (reply = await client.request('/noop'))), []);
      assert.equal(reply!.status, 200);
      assert.deepEqual(reply!.setCookies, []);
      assert.equal(await countIfSupported(), before);
    });

    it('a burst of cookieless requests calls no store method, sets no cookie and leaves the count alone', async function () {
      // Checklist row 2, bounded: what a flood of 100 000 would show, shown for 200.
      const before = await countIfSupported();
      let replies: Awaited<ReturnType<CookieClient['request']>>[] = [];
      const calls = await storeCallsDuring(async () => {
        replies = await Promise.all(Array.from({ length: 200 }, (_, i) => new CookieClient(base).request(i % 2 ? '/noop' : '/get')));
      });
      assert.deepEqual(calls, []);
      for (const reply of replies) {
        assert.equal(reply.status, 200);
        assert.deepEqual(reply.setCookies, []);
      }
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

    it('a forged well-formed id is never adopted, never stored, and is reported as unknown', async function () {
      const forged = generateId(manager.options.idLength);
      const client = clientWith(cookieOf(forged));
      rejected.length = 0;
      const reply = await client.request('/set?x=1');
      assert.equal(reply.setCookies.length, 1);
      assert.ok(!reply.setCookies[0]!.includes(forged));
      assert.deepEqual(await client.json('/get'), { x: '1' });
      assert.equal(await manager.store.get(forged), undefined);
      assert.deepEqual(rejected.map((event) => event.reason), ['unknown']);
    });

    it('malformed, traversal and look-alike ids never reach the store, get a fresh session and are reported', async function () {
      // Checklist rows 4, 5, 6 and 9.
      const owner = new CookieClient(base);
      const { id: live } = (await owner.json('/set?owner=alice')) as { id: string };
      const length = manager.options.idLength;
      const overHttp = [
        'a', 'ab', 'a'.repeat(15), 'a'.repeat(17), 'a'.repeat(length - 1), 'a'.repeat(length + 1), 'a'.repeat(4096),
        live.toUpperCase(), `${live}%00`, `${live} x`, `"${live}`, `${live}\\`,
        '../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', '%252e%252e%252fetc', '..\\..\\x', '/abs/path', 'C:\\x', `../${live}`,
        utf8AsLatin1('．．／' + live.slice(3)), utf8AsLatin1(live.slice(0, -1) + '\u0301'), utf8AsLatin1('а' + live.slice(1)),
        utf8AsLatin1('１' + live.slice(1)), utf8AsLatin1(live.slice(0, -1) + 'e\u0301'),
      ];
      rejected.length = 0;
      const calls = await storeCallsDuring(async () => {
        for (const value of overHttp) {
          const reply = await clientWith(`${manager.options.cookieName}=${value}`).request('/get');
          assert.equal(reply.status, 200, value);
          assert.deepEqual(JSON.parse(reply.body), {}, value);
          assert.deepEqual(reply.setCookies, [], value);
        }
        // What no HTTP client sends, the Manager still refuses.
        for (const value of [`${live.slice(1)}\0`, `${live.slice(2)}\r\n`, '\0'.repeat(length)]) {
          const session = await manager.load(fakeRequest(`${manager.options.cookieName}=${value}`));
          assert.ok(session.isNew && session.id !== value, JSON.stringify(value));
        }
      });
      assert.deepEqual(calls, []);
      assert.equal(rejected.length, overHttp.length + 3);
      assert.ok(rejected.every((event) => event.reason === 'malformed' || event.reason === 'bad-signature'), JSON.stringify(rejected));
      assert.deepEqual(await owner.json('/get'), { owner: 'alice' }, 'the live session is untouched');
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
      assert.equal(await manager.store.get(idOf(oldCookie)!), undefined, 'the old record is gone');
    });

    it('regenerate without a cookie, or with a malformed or unknown one, gives a fresh session and no error', async function () {
      // Checklist row 22.
      const name = manager.options.cookieName;
      for (const cookie of [undefined, `${name}=../../etc/passwd`, `${name}=${'z'.repeat(manager.options.idLength)}`, cookieOf(generateId(manager.options.idLength))]) {
        const client = clientWith(cookie);
        const reply = await client.request('/regenerate');
        assert.equal(reply.status, 200, String(cookie));
        assert.deepEqual(reply.setCookies, [], 'nothing to store, so no cookie');
        await client.request('/set?after=regenerate');
        assert.deepEqual(await client.json('/get'), { after: 'regenerate' });
      }
    });

    it('two concurrent regenerates of one session: no error, exactly one new id holds the data, the old id is dead', async function () {
      // Checklist row 23. Without Store.regenerate the fallback (get + set + destroy) cannot promise it.
      if (!manager.store.regenerate) this.skip();
      const client = new CookieClient(base);
      await client.request('/set?user=twice');
      const oldCookie = client.cookie;
      gate = new Gate();
      const racers = [clientWith(oldCookie), clientWith(oldCookie)];
      const replies = Promise.all(racers.map((racer) => racer.request('/gated/regenerate')));
      await gate.waitFor(2);
      gate.open();
      for (const reply of await replies) assert.equal(reply.status, 200, reply.body);
      const views = await Promise.all(racers.map((racer) => racer.json('/get')));
      assert.equal(views.filter((view) => (view as { user?: string }).user === 'twice').length, 1, JSON.stringify(views));
      assert.deepEqual(await clientWith(oldCookie).json('/get'), {});
      assert.equal(await manager.store.get(idOf(oldCookie)!), undefined);
    });

    it('a fresh id that is already in use is never written over, on create or on regenerate', async function () {
      // Checklist row 24: a generator that repeats an id.
      const victim = new CookieClient(base);
      const { id: taken } = (await victim.json('/set?owner=victim')) as { id: string };
      let restore = withIds([taken]);
      try {
        const intruder = new CookieClient(base);
        await intruder.request('/set?owner=intruder');
        // The id is replaced at save, so the cookie tells which one the session got.
        assert.notEqual(idOf(intruder.cookie), taken);
        assert.deepEqual(await intruder.json('/get'), { owner: 'intruder' });
      } finally {
        restore();
      }
      const mover = new CookieClient(base);
      const { id: before } = (await mover.json('/set?owner=mover')) as { id: string };
      restore = withIds([taken]);
      try {
        const reply = await mover.request('/regenerate');
        assert.equal(reply.status, 200, reply.body);
      } finally {
        restore();
      }
      assert.notEqual(idOf(mover.cookie), taken);
      assert.notEqual(idOf(mover.cookie), before);
      assert.deepEqual(await mover.json('/get'), { owner: 'mover' });
      assert.deepEqual(await victim.json('/get'), { owner: 'victim' });
      if (manager.store.indexList) assert.ok(!(await manager.store.indexList(movedKey(before))).includes(taken), 'no forward into the other session');
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
      assert.equal(await manager.store.get(idOf(oldCookie)!), undefined, 'the record is gone');
    });

    it('a request that loaded the session before a destroy and saves after it does not bring it back', async function () {
      // Checklist row 27, with the order forced: load, destroy, then save.
      const client = new CookieClient(base);
      await client.request('/set?user=gone');
      const cookie = client.cookie;
      gate = new Gate();
      const writer = clientWith(cookie).request('/gated/set?late=1');
      await gate.waitFor(1);
      await clientWith(cookie).request('/destroy');
      gate.open();
      await writer;
      assert.equal(await manager.store.get(idOf(cookie)!), undefined);
      assert.deepEqual(await clientWith(cookie).json('/get'), {});
    });

    it('a read-only request that finishes last does not undo a write made meanwhile', async function () {
      // Checklist row 30.
      const client = new CookieClient(base);
      await client.request('/set?a=1');
      gate = new Gate();
      const reader = clientWith(client.cookie).request('/gated/get');
      await gate.waitFor(1);
      await clientWith(client.cookie).request('/set?b=2');
      gate.open();
      assert.deepEqual(JSON.parse((await reader).body), { a: '1' });
      assert.deepEqual(await client.json('/get'), { a: '1', b: '2' });
    });

    it('flush and deleting the last key are persisted', async function () {
      // Checklist row 28.
      const client = new CookieClient(base);
      await client.request('/set?a=1&b=2');
      await client.request('/flush');
      assert.deepEqual(await client.json('/get'), {});
      await client.request('/set?only=x');
      await client.request('/delete?key=only');
      assert.deepEqual(await client.json('/get'), {});
    });

    it('a destroy whose store call fails is reported, reads empty for the rest of the request, and is retried at release', async function () {
      // Checklist row 29.
      const client = new CookieClient(base);
      await client.request('/set?user=stubborn');
      const cookie = client.cookie;
      failingOnce('destroy');
      assert.deepEqual(await client.json('/destroy-anyway'), { failed: true, keys: [] });
      assert.equal(await manager.store.get(idOf(cookie)!), undefined, 'release destroyed it');
      assert.deepEqual(await clientWith(cookie).json('/get'), {});
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
        return c.request(`/gated/set?w${i}=${i}`);
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
        const writer = client.request('/gated/set?late=1');
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

    it('an expiry refresh racing a write or a logout neither undoes the logout nor rewrites the data', async function () {
      // Checklist row 32: a second manager over the same provider refreshes on every read-only request.
      const refresher = await createManager({ ...(await suite.options()), touchInterval: 0, gcInterval: 0 });
      try {
        const created = await refresher.load(fakeRequest());
        created.set('a', '1');
        await created.release();
        const cookie = refresher.cookieFor(created.id).split(';', 1)[0]!;
        const reader = await refresher.load(fakeRequest(cookie));
        const writer = await refresher.load(fakeRequest(cookie));
        writer.set('b', '2');
        await writer.release();
        await reader.release();
        const after = await refresher.load(fakeRequest(cookie));
        assert.deepEqual(Object.fromEntries(after.keys().map((k) => [k, after.get(k)])), { a: '1', b: '2' });
        const toucher = await refresher.load(fakeRequest(cookie));
        const logout = await refresher.load(fakeRequest(cookie));
        await logout.destroy();
        await logout.release();
        await toucher.release();
        assert.equal(await refresher.store.get(created.id), undefined);
      } finally {
        await refresher.close();
      }
    });

    it('a stored record that cannot be decoded gives a fresh session, is reported and removed, and never fails the request', async function () {
      // Checklist rows 39 and 40: garbage, truncation, wrong shapes and prototype keys in a record.
      const bad = [
        'not json', '{"v":1,"c":1,"t":1,"d":{', '{}', '[]', '""', '{"v":9,"c":1,"t":1,"d":{}}', '{"v":1,"c":"x","t":1,"d":[]}',
        '{"v":1,"c":1,"t":1,"d":{"__proto__":{"polluted":true}}}',
        '{"v":1,"c":1,"t":1,"d":{"x":{"constructor":{"prototype":{"polluted":true}}}}}',
        '{"v":1,"c":1,"t":1,"d":{"\\u005f_proto__":{"polluted":true}}}',
      ];
      for (const record of bad) {
        const id = generateId(manager.options.idLength);
        await manager.store.set(id, record, later());
        reported.length = 0;
        for (let i = 0; i < 2; i++) {
          const reply = await clientWith(cookieOf(id)).request('/get');
          assert.equal(reply.status, 200, record);
          assert.deepEqual(JSON.parse(reply.body), {}, record);
        }
        assert.ok(reported.some((error) => (error as SessionError).code === 'ERR_SESSION_CORRUPT_RECORD'), record);
        assert.equal(await manager.store.get(id), undefined, `${record} is removed`);
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
      }
    });

    it('keys named like Session methods are plain data, and prototype keys are refused', async function () {
      // Checklist row 40.
      const names = ['save', 'destroy', 'release', 'regenerate', 'get', 'set', 'id', 'toString', 'hasOwnProperty', 'flash', 'then'];
      const client = new CookieClient(base);
      await client.request(`/set?${names.map((n) => `${n}=${n}-value`).join('&')}`);
      assert.deepEqual(await client.json('/get'), Object.fromEntries(names.map((n) => [n, `${n}-value`])));
      for (const key of ['__proto__', 'constructor', 'prototype']) {
        assert.equal((await client.request(`/set?${key}=polluted`)).status, 500, key);
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      const cookie = client.cookie;
      assert.equal((await client.request('/destroy')).status, 200, 'a stored "destroy" key does not replace destroy()');
      assert.deepEqual(await clientWith(cookie).json('/get'), {});
    });

    it('JSON values come back exactly as they were stored', async function () {
      // Checklist row 41: JSON data is what set() accepts (codec tests show the refusals).
      const values: Record<string, unknown> = {
        text: 'Zoë "q" \\ / \0 \u2028 🍪 \ud800 tab\tnewline\n',
        empty: '',
        numbers: [0, -1.5, 5e-324, 1.7976931348623157e308, Number.MAX_SAFE_INTEGER, 0.1 + 0.2, -1e-7],
        flags: [true, false, null],
        nested: { 'dotted.key': { 'key with spaces': 'v', ключ: 'значение', '': 'empty key', deeper: [[[{}]], []] } },
        emptyObject: {},
        emptyList: [],
        sql: `'); DROP TABLE sessions; --`,
      };
      const client = new CookieClient(base);
      const query = Object.entries(values).map(([k, v]) => `${k}=${encodeURIComponent(JSON.stringify(v))}`).join('&');
      assert.equal((await client.request(`/setjson?${query}`)).status, 200);
      assert.deepEqual(await client.json('/get'), values);
    });

    it('a session above maxRecordSize, or above what the backend holds, fails at save naming the limit and leaves the stored one unchanged', async function () {
      // Checklist row 42: the configured limit on every provider, and each backend's own limit below it.
      const first = await manager.load(fakeRequest());
      first.set('kept', 'small');
      await first.release();
      const cookie = cookieOf(first.id);
      const limit = manager.options.maxRecordSize;
      const over = await manager.load(fakeRequest(cookie));
      over.set('big', 'x'.repeat(limit));
      await assert.rejects(over.release(), (error: SessionError) => error.code === 'ERR_SESSION_TOO_LARGE' && /limit/.test(error.message));
      assert.deepEqual((await manager.load(fakeRequest(cookie))).keys(), ['kept']);
      const near = await manager.load(fakeRequest(cookie));
      const big = 'y'.repeat(limit - 200);
      near.set('big', big);
      const saved = await near.release().then(
        () => true,
        (error: SessionError) => {
          assert.ok(error.code === 'ERR_SESSION_TOO_LARGE' && /limit/.test(error.message), String(error));
          return false;
        },
      );
      const again = await manager.load(fakeRequest(cookie));
      assert.equal(again.get('kept'), 'small');
      assert.equal(again.get('big'), saved ? big : undefined);
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
