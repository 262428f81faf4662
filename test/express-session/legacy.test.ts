import { expect } from 'chai';
import { RedisStore } from 'connect-redis';
import connectPgSimple from 'connect-pg-simple';
import express, { type RequestHandler } from 'express';
import expressSession from 'express-session';
import { randomBytes } from 'node:crypto';
import { createManager, isSessionError, type Manager, type ManagerOptions } from 'sessionkit';
import session, { LEGACY_GRACE_MS, type ExpressSessionStore, type SessionMiddleware } from 'sessionkit/express-session';
import 'sessionkit/providers/postgres';
import 'sessionkit/providers/redis';
import { cookieAttribute, Jar, SECRET, serve, usePostgres, useRedis, type Running } from './support.ts';

/**
 * Switching an app from express-session to sessionkit without logging anyone out: the old app is
 * express-session itself with connect-redis or connect-pg-simple, so the cookie and the record are
 * the real old format. A user logs in there (passport's `req.session.passport`), the app switches,
 * and the same browser is still logged in.
 */

/** OLD_SECRET is what express-session's README uses: short, as such apps' secrets often are. */
const OLD_SECRET = 'keyboard cat';
const MONTH_MS = 30 * 24 * 3600 * 1000;

/** routes are the app's own routes, the same before and after the switch. */
function routes(app: express.Express): express.Express {
  app.post('/login', (req, res, next) => {
    req.session.regenerate((error) => {
      if (error) return next(error);
      const s = req.session as unknown as Record<string, unknown> & { cookie: { maxAge: number | null } };
      s.passport = { user: 'carol' };
      s.flash = { info: ['welcome back'] };
      if (req.query.remember) s.cookie.maxAge = MONTH_MS;
      req.session.save((error) => (error ? next(error) : res.json({ sessionID: req.sessionID })));
    });
  });
  app.get('/me', (req, res) => {
    const s = req.session as unknown as Record<string, unknown> & { cookie: { maxAge: number | null } };
    res.json({ user: (s.passport as { user?: string } | undefined)?.user ?? null, flash: s.flash ?? null, sessionID: req.sessionID, maxAge: s.cookie.maxAge });
  });
  return app;
}

function app(middleware: RequestHandler): express.Express {
  return routes(express().use(middleware));
}

/** Backend is one old store the tests run over, and the sessionkit provider beside it for the createManager case. */
interface Backend {
  name: string;
  /** store is the old app's express-session store; the drop-in reads and writes the same one. */
  store(): ExpressSessionStore;
  /** raw reads the old record under `sid` straight from the backend, or null. */
  raw(sid: string): Promise<unknown>;
  /** provider is a sessionkit provider on the same server, for an app that switches to createManager. */
  provider: Pick<ManagerOptions, 'provider' | 'providerConfig'>;
}

/** describeSwitch registers the switch tests over `backend`, which its `before` hook readies. */
function describeSwitch(backend: () => Backend): void {
  let running: Running[] = [];
  let middlewares: SessionMiddleware[] = [];
  let managers: Manager[] = [];
  /** reported is what onError got besides the expected notice that the store has no compare-and-set. */
  let reported: Error[] = [];
  const onError = (error: Error) => void (isSessionError(error, 'ERR_SESSION_UNSUPPORTED') || reported.push(error));

  afterEach(async function () {
    for (const server of running) await server.close();
    for (const middleware of middlewares) await (await middleware.manager()).close();
    for (const manager of managers) await manager.close();
    running = [];
    middlewares = [];
    managers = [];
    expect(reported.splice(0).map(String)).to.deep.equal([]);
  });

  async function start(middleware: RequestHandler): Promise<string> {
    const server = await serve(app(middleware));
    running.push(server);
    return server.base;
  }

  /** oldApp is express-session on the backend's store, as the app ran before the switch. */
  function oldApp(store: ExpressSessionStore): Promise<string> {
    return start(expressSession({ secret: OLD_SECRET, store: store as unknown as expressSession.Store, resave: false, saveUninitialized: false }));
  }

  /** dropIn is the app after the switch: sessionkit's drop-in on the same store, reading the old sessions once. */
  function dropIn(store: ExpressSessionStore): Promise<string> {
    const middleware = session({ secret: SECRET, store, legacy: { secret: OLD_SECRET }, resave: false, saveUninitialized: false, onError });
    middlewares.push(middleware);
    return start(middleware as unknown as RequestHandler);
  }

  /** loggedIn logs carol in on the old app and returns her browser and her old session id. */
  async function loggedIn(store: ExpressSessionStore, path = '/login'): Promise<{ browser: Jar; oldId: string }> {
    const browser = new Jar(await oldApp(store));
    const { sessionID } = await browser.json(path, 'POST');
    expect((await browser.json('/me')).user).to.equal('carol');
    expect(browser.cookies.get('connect.sid')).to.match(/^s%3A/);
    return { browser, oldId: sessionID as string };
  }

  /** moveTo is `browser` pointed at another app, cookies kept: the same browser after the switch. */
  function moveTo(browser: Jar, base: string): Jar {
    const moved = new Jar(base);
    for (const [name, value] of browser.cookies) moved.cookies.set(name, value);
    return moved;
  }

  it('a user logged in under express-session is still logged in after the switch to the drop-in, under a new id, and the old record is gone', async function () {
    const { store, raw } = backend();
    const shared = store();
    const { browser, oldId } = await loggedIn(shared);
    const after = moveTo(browser, await dropIn(shared));
    const first = await after.request('/me');
    const me = JSON.parse(first.body) as Record<string, unknown>;
    expect(me).to.include({ user: 'carol' });
    expect(me.flash).to.deep.equal({ info: ['welcome back'] });
    expect(me.sessionID).to.be.a('string').and.not.equal(oldId);
    expect(first.setCookies, 'one cookie: the new one under the old name').to.have.length(1);
    expect(after.cookies.get('connect.sid')).to.not.match(/^s%3A/);
    expect(await raw(oldId)).to.equal(null);
    expect((await after.json('/me')).sessionID).to.equal(me.sessionID);
  });

  it('a replay of the old cookie after the move is anonymous', async function () {
    const { store } = backend();
    const shared = store();
    const { browser } = await loggedIn(shared);
    const replay = browser.copy();
    await moveTo(browser, await dropIn(shared)).json('/me');
    // Another instance of the app: nothing of the move is in its memory, and this store keeps no index.
    expect((await moveTo(replay, await dropIn(shared)).json('/me')).user).to.equal(null);
  });

  it('concurrent first requests with one old cookie share one new session', async function () {
    const { store } = backend();
    const shared = store();
    const { browser } = await loggedIn(shared);
    const base = await dropIn(shared);
    const tabs = [moveTo(browser, base), moveTo(browser, base), moveTo(browser, base)];
    const pages = await Promise.all(tabs.map((tab) => tab.json('/me')));
    expect(pages.map((page) => page.user)).to.deep.equal(['carol', 'carol', 'carol']);
    expect(new Set(pages.map((page) => page.sessionID)).size).to.equal(1);
    expect(new Set(tabs.map((tab) => tab.cookies.get('connect.sid'))).size).to.equal(1);
  });

  it('an old cookie signed with another secret is not read', async function () {
    const { store, raw } = backend();
    const shared = store();
    const { browser, oldId } = await loggedIn(shared);
    const middleware = session({ secret: SECRET, store: shared, legacy: { secret: randomBytes(16).toString('hex') }, resave: false, saveUninitialized: false, onError });
    middlewares.push(middleware);
    const after = moveTo(browser, await start(middleware as unknown as RequestHandler));
    expect((await after.json('/me')).user).to.equal(null);
    expect(await raw(oldId)).to.not.equal(null);
  });

  it('a "remember me" cookie keeps its lifetime in the new session', async function () {
    const { store } = backend();
    const shared = store();
    const { browser } = await loggedIn(shared, '/login?remember=1');
    const after = moveTo(browser, await dropIn(shared));
    const first = await after.request('/me');
    expect(JSON.parse(first.body).maxAge).to.be.greaterThan(MONTH_MS - 60_000);
    expect(Number(cookieAttribute(first.setCookies[0]!, 'max-age'))).to.be.greaterThan(MONTH_MS / 1000 - 60);
  });

  describe('to createManager, with a cookie of another name and a sessionkit provider', function () {
    /** managerApp is the app on sessionkit's own middleware, with a clock the test can move. */
    async function managerApp(store: ExpressSessionStore, clock: { offset: number }): Promise<string> {
      const manager = await createManager({ ...backend().provider, legacy: { store, secret: [randomBytes(32).toString('hex'), OLD_SECRET] }, now: () => Date.now() + clock.offset, onError });
      managers.push(manager);
      return start(manager.middleware() as unknown as RequestHandler);
    }

    it('the user stays logged in, the old cookie is cleared and the new one set', async function () {
      const shared = backend().store();
      const { browser, oldId } = await loggedIn(shared);
      const after = moveTo(browser, await managerApp(shared, { offset: 0 }));
      const first = await after.request('/me');
      expect(JSON.parse(first.body).user).to.equal('carol');
      expect(first.setCookies.find((line) => line.startsWith('connect.sid=;'))).to.match(/Max-Age=0/);
      expect([...after.cookies.keys()]).to.deep.equal(['sid']);
      expect(await backend().raw(oldId)).to.equal(null);
      expect((await after.json('/me')).user).to.equal('carol');
    });

    it(`a replay of the old cookie joins the new session for ${LEGACY_GRACE_MS / 1000} s, in another process too, and is anonymous after`, async function () {
      const shared = backend().store();
      const { browser } = await loggedIn(shared);
      const clock = { offset: 0 };
      const [one, two] = [await managerApp(shared, clock), await managerApp(shared, clock)];
      const moved = await moveTo(browser, one).json('/me');
      const joined = await moveTo(browser, two).json('/me');
      expect(joined).to.include({ user: 'carol', sessionID: moved.sessionID });
      clock.offset = LEGACY_GRACE_MS + 1000;
      expect((await moveTo(browser, one).json('/me')).user).to.equal(null);
      expect((await moveTo(browser, two).json('/me')).user).to.equal(null);
    });
  });
}

describe('switching from express-session keeps users logged in', function () {
  describe('connect-redis (127.0.0.1:6379)', function () {
    const { client, prefix } = useRedis('legacy');
    describeSwitch(() => ({
      name: 'connect-redis',
      store: () => new RedisStore({ client, prefix }),
      raw: async (sid) => client.get(prefix + sid),
      provider: { provider: 'redis', providerConfig: `redis://127.0.0.1:6379/0?prefix=${prefix}sk:` },
    }));
  });

  describe('connect-pg-simple (127.0.0.1:5432)', function () {
    const PgStore = connectPgSimple(expressSession);
    const { pool, table } = usePostgres('legacy');
    describeSwitch(() => ({
      name: 'connect-pg-simple',
      store: () => new PgStore({ pool, tableName: table, createTableIfMissing: true, pruneSessionInterval: false }),
      raw: async (sid) => (await pool.query(`SELECT sess FROM "${table}" WHERE sid = $1`, [sid])).rows[0]?.sess ?? null,
      provider: { provider: 'postgres', providerConfig: `postgres://postgres@127.0.0.1:5432/test?table=${table}_sk` },
    }));
  });
});
