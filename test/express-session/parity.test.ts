import { expect } from 'chai';
import express, { type RequestHandler } from 'express';
import expressSession from 'express-session';
import memorystore from 'memorystore';
import { randomBytes } from 'node:crypto';
import { Passport } from 'passport';
import { isSessionError } from 'sessionkit';
import session, { type SessionMiddleware, type SessionOptions } from 'sessionkit/express-session';
import { Jar, lifetimeOf, SECRET, serve, type Running } from './support.ts';

/**
 * The examples of express-session's README, and the behaviour apps and passport rely on, run the
 * same test bodies against express-session itself and against `sessionkit/express-session`: where
 * an app can observe it, the drop-in behaves as express-session does.
 */

/** Loose is `req.session` as these apps use it: plain properties and express-session's methods. */
type Loose = Record<string, any> & {
  id: string;
  cookie: { maxAge: number | null; expires: Date | null };
  regenerate(callback: (error?: unknown) => void): void;
  save(callback: (error?: unknown) => void): void;
  destroy(callback: (error?: unknown) => void): void;
  reload(callback: (error?: unknown) => void): void;
  touch(): unknown;
};

const loose = (req: express.Request): Loose => req.session as unknown as Loose;

/** Implementation is one session middleware under test, made from express-session's options. */
interface Implementation {
  name: string;
  middleware(options: Record<string, unknown>): RequestHandler;
}

const opened: SessionMiddleware[] = [];

const IMPLEMENTATIONS: Implementation[] = [
  { name: 'express-session', middleware: (options) => expressSession(options as unknown as expressSession.SessionOptions) },
  {
    name: 'sessionkit/express-session',
    middleware: (options) => {
      // The notice that an express-session store has no compare-and-set is expected here; anything else is printed.
      const onError = (error: Error) => void (isSessionError(error, 'ERR_SESSION_UNSUPPORTED') || console.error(error));
      const middleware = session({ onError, ...(options as SessionOptions) });
      opened.push(middleware);
      return middleware as unknown as RequestHandler;
    },
  },
];

/** hold is a request handler step that waits until the test calls `release`. */
function gate(): { hold: RequestHandler; arrived: Promise<void>; release(): void } {
  let release!: () => void;
  let arrive!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  return { hold: (_req, _res, next) => (arrive(), void released.then(() => next())), arrived, release };
}

/** readmeApp is express-session's README examples and a few routes that read the session back. */
function readmeApp(middleware: RequestHandler, wait: RequestHandler = (_req, _res, next) => next()): express.Express {
  const app = express();
  app.use(middleware);
  // README "View counter": req.session.views per pathname.
  const count: RequestHandler = (req, _res, next) => {
    const s = loose(req);
    if (!s.views) s.views = {};
    s.views[req.path] = (s.views[req.path] || 0) + 1;
    next();
  };
  app.get(['/foo', '/bar'], count, (req, res) => res.send(`you viewed this page ${loose(req).views[req.path]} times`));
  // README "User login": regenerate, set the user, save, then redirect.
  app.post('/login', (req, res, next) => {
    const prev = loose(req);
    prev.regenerate((error) => {
      if (error) return next(error);
      loose(req).user = String(req.query.user);
      loose(req).save((error) => (error ? next(error) : res.redirect('/')));
    });
  });
  // README logout: clear the user, save, regenerate.
  app.post('/logout', (req, res, next) => {
    loose(req).user = null;
    loose(req).save((error) => {
      if (error) return next(error);
      loose(req).regenerate((error) => (error ? next(error) : res.redirect('/')));
    });
  });
  app.post('/user', (req, res) => {
    loose(req).user = String(req.query.name);
    res.json({ ok: true });
  });
  app.get('/me', (req, res) => res.json({ user: loose(req).user ?? null, sessionID: req.sessionID, id: loose(req).id, cart: loose(req).cart ?? null }));
  app.post('/cart', (req, res) => {
    loose(req).cart = { items: [String(req.query.item)] };
    res.json({ sessionID: req.sessionID });
  });
  app.post('/regenerate', (req, res, next) => {
    const prev = loose(req);
    prev.regenerate((error) => {
      if (error) return next(error);
      res.json({ previousCart: prev.cart ?? null, cart: loose(req).cart ?? null, sameObject: prev === loose(req), sessionID: req.sessionID });
    });
  });
  app.post('/destroy', (req, res, next) => {
    loose(req).destroy((error) => (error ? next(error) : res.json({ unset: req.session === undefined })));
  });
  app.get('/reload', wait, (req, res, next) => {
    const before = loose(req).user ?? null;
    loose(req).reload((error) => (error ? next(error) : res.json({ before, after: loose(req).user ?? null })));
  });
  app.get('/cookie', (req, res) => {
    const s = loose(req);
    s.touch();
    res.json({ maxAge: s.cookie.maxAge, expires: s.cookie.expires });
  });
  app.post('/remember', (req, res) => {
    loose(req).user = 'remembered';
    loose(req).cookie.maxAge = 30 * 24 * 3600 * 1000;
    res.json({ maxAge: loose(req).cookie.maxAge });
  });
  app.get('/anything', (_req, res) => res.json({ ok: true }));
  app.get('/has-session', (req, res) => res.json({ has: req.session !== undefined }));
  app.post('/unset', (req, res) => {
    loose(req).cart = { items: ['unsaved'] };
    if (req.query.how === 'delete') delete (req as { session?: unknown }).session;
    else (req as { session?: unknown }).session = null;
    res.json({ ok: true });
  });
  return app;
}

for (const implementation of IMPLEMENTATIONS) {
  describe(`express-session's documented behaviour: ${implementation.name}`, function () {
    let running: Running | undefined;

    /** start serves the README app on `options` (a secret and resave: false added) and returns a client. */
    async function start(options: Record<string, unknown> = {}, wait?: RequestHandler): Promise<Jar> {
      running = await serve(readmeApp(implementation.middleware({ secret: SECRET, resave: false, ...options }), wait));
      return new Jar(running.base);
    }

    afterEach(async function () {
      await running?.close();
      running = undefined;
      for (const middleware of opened.splice(0)) await (await middleware.manager()).close();
    });

    it('the README view counter counts the visits of each page in req.session.views', async function () {
      const client = await start();
      expect((await client.request('/foo')).body).to.equal('you viewed this page 1 times');
      expect((await client.request('/foo')).body).to.equal('you viewed this page 2 times');
      expect((await client.request('/bar')).body).to.equal('you viewed this page 1 times');
      expect((await client.request('/foo')).body).to.equal('you viewed this page 3 times');
    });

    it('req.sessionID is req.session.id and stays the same while the cookie is sent', async function () {
      const client = await start();
      const first = await client.json('/me');
      expect(first.sessionID).to.be.a('string').and.equal(first.id);
      expect((await client.json('/me')).sessionID).to.equal(first.sessionID);
    });

    it('regenerate(cb) gives an empty session under a new id, and the old cookie reaches nothing', async function () {
      const client = await start();
      const { sessionID: oldId } = await client.json('/cart?item=book', 'POST');
      const old = client.copy();
      const regenerated = await client.json('/regenerate', 'POST');
      expect(regenerated.cart).to.equal(null);
      expect(regenerated.sessionID).to.be.a('string').and.not.equal(oldId);
      expect((await client.json('/me')).sessionID).to.equal(regenerated.sessionID);
      expect((await old.json('/me')).cart).to.equal(null);
    });

    it('after regenerate the old session object still holds the old data, as passport keepSessionInfo needs', async function () {
      const client = await start();
      await client.request('/cart?item=pen', 'POST');
      const regenerated = await client.json('/regenerate', 'POST');
      expect(regenerated.sameObject).to.equal(false);
      expect(regenerated.previousCart).to.deep.equal({ items: ['pen'] });
    });

    it('the README login (regenerate, set user, save, redirect) is seen by the next request under a new id', async function () {
      const client = await start();
      const { sessionID: before } = await client.json('/me');
      const login = await client.request('/login?user=tj', 'POST');
      expect(login.status).to.equal(302);
      const me = await client.json('/me');
      expect(me.user).to.equal('tj');
      expect(me.sessionID).to.not.equal(before);
    });

    it('the README logout (user = null, save, regenerate) leaves no user, under the new id or the old one', async function () {
      const client = await start();
      await client.request('/login?user=tj', 'POST');
      const loggedIn = client.copy();
      expect((await client.request('/logout', 'POST')).status).to.equal(302);
      expect((await client.json('/me')).user).to.equal(null);
      expect((await loggedIn.json('/me')).user).to.equal(null);
    });

    it('destroy(cb) unsets req.session, and the cookie then reaches an empty session', async function () {
      const client = await start();
      await client.request('/login?user=tj', 'POST');
      const old = client.copy();
      expect(await client.json('/destroy', 'POST')).to.deep.equal({ unset: true });
      expect((await client.json('/me')).user).to.equal(null);
      expect((await old.json('/me')).user).to.equal(null);
    });

    it('reload(cb) reads what another request wrote meanwhile', async function () {
      const { hold, arrived, release } = gate();
      const client = await start({}, hold);
      await client.request('/login?user=tj', 'POST');
      const reloading = client.copy().json('/reload');
      await arrived;
      await client.request('/user?name=ann', 'POST');
      release();
      expect(await reloading).to.deep.equal({ before: 'tj', after: 'ann' });
    });

    it('with cookie.maxAge, req.session.cookie.maxAge counts down from it and the cookie is persistent', async function () {
      const client = await start({ cookie: { maxAge: 60_000 } });
      const first = await client.request('/cookie');
      const { maxAge } = JSON.parse(first.body) as { maxAge: number };
      expect(maxAge).to.be.within(55_000, 60_000);
      expect(lifetimeOf(first.setCookies[0]!)).to.be.within(55, 60);
    });

    it('without cookie.maxAge, req.session.cookie.maxAge is null and the cookie lasts the browser session', async function () {
      const client = await start();
      const first = await client.request('/cookie');
      expect(JSON.parse(first.body)).to.deep.equal({ maxAge: null, expires: null });
      expect(first.setCookies).to.have.length(1);
      expect(lifetimeOf(first.setCookies[0]!)).to.equal(undefined);
    });

    it('req.session.cookie.maxAge set in a request makes that session\'s cookie last that long ("remember me")', async function () {
      const client = await start({ saveUninitialized: false });
      const remember = await client.request('/remember', 'POST');
      expect(JSON.parse(remember.body).maxAge).to.be.within(30 * 24 * 3600 * 1000 - 5000, 30 * 24 * 3600 * 1000);
      expect(lifetimeOf(remember.setCookies[0]!)).to.be.within(30 * 24 * 3600 - 5, 30 * 24 * 3600);
      const later = JSON.parse((await client.request('/cookie')).body) as { maxAge: number };
      expect(later.maxAge).to.be.greaterThan(29 * 24 * 3600 * 1000);
      expect((await client.json('/me')).user).to.equal('remembered');
    });

    it('saveUninitialized defaults to true: a visit that writes nothing gets a cookie for a stored session', async function () {
      const client = await start();
      const first = await client.request('/anything');
      expect(first.setCookies).to.have.length(1);
      const { sessionID } = await client.json('/me');
      expect((await client.json('/me')).sessionID).to.equal(sessionID);
    });

    it('saveUninitialized: false sends no cookie until the session is written', async function () {
      const client = await start({ saveUninitialized: false });
      expect((await client.request('/anything')).setCookies).to.deep.equal([]);
      expect((await client.request('/cart?item=cup', 'POST')).setCookies).to.have.length(1);
      expect((await client.json('/me')).cart).to.deep.equal({ items: ['cup'] });
    });

    it('rolling: true sends the cookie again on a request that writes nothing', async function () {
      const client = await start({ rolling: true, cookie: { maxAge: 60_000 } });
      await client.request('/cart?item=a', 'POST');
      expect((await client.request('/anything')).setCookies).to.have.length(1);
    });

    it('a request that writes to a session with a persistent cookie sends the cookie again, its expiry moved', async function () {
      const client = await start({ cookie: { maxAge: 60_000 } });
      await client.request('/cart?item=a', 'POST');
      const again = await client.request('/cart?item=b', 'POST');
      expect(again.setCookies).to.have.length(1);
      expect(lifetimeOf(again.setCookies[0]!)).to.be.within(55, 60);
    });

    it('without rolling, a request that writes nothing to a stored session sends no cookie', async function () {
      const client = await start({ cookie: { maxAge: 60_000 } });
      await client.request('/cart?item=a', 'POST');
      expect((await client.request('/anything')).setCookies).to.deep.equal([]);
    });

    it("unset: 'destroy' destroys the session when req.session is set to null", async function () {
      const client = await start({ unset: 'destroy' });
      await client.request('/login?user=tj', 'POST');
      const old = client.copy();
      await client.request('/unset', 'POST');
      expect((await old.json('/me')).user).to.equal(null);
    });

    it("unset: 'destroy' destroys the session when req.session is deleted", async function () {
      const client = await start({ unset: 'destroy' });
      await client.request('/login?user=tj', 'POST');
      const old = client.copy();
      await client.request('/unset?how=delete', 'POST');
      expect((await old.json('/me')).user).to.equal(null);
    });

    it("unset: 'keep' (the default) keeps the stored session but not the changes of the request that set req.session to null", async function () {
      const client = await start();
      await client.request('/login?user=tj', 'POST');
      await client.request('/unset', 'POST');
      expect(await client.json('/me')).to.include({ user: 'tj', cart: null });
    });

    it('name sets the cookie name; connect.sid by default', async function () {
      const byDefault = await start();
      await byDefault.request('/anything');
      expect([...byDefault.cookies.keys()]).to.deep.equal(['connect.sid']);
      await running!.close();
      const named = await start({ name: 'app.sid' });
      await named.request('/anything');
      expect([...named.cookies.keys()]).to.deep.equal(['app.sid']);
    });

    it('a request outside cookie.path has no session', async function () {
      const client = await start({ cookie: { path: '/foo' } });
      expect(await client.json('/has-session')).to.deep.equal({ has: false });
      expect((await client.request('/foo')).body).to.equal('you viewed this page 1 times');
    });

    it('genid makes the ids of new sessions', async function () {
      const ids: string[] = [];
      const client = await start({ genid: () => (ids.push(randomBytes(16).toString('hex')), ids.at(-1)!) });
      const { sessionID } = await client.json('/me');
      expect(ids).to.include(sessionID);
    });

    it('with a list of secrets, a cookie signed by a later one of them is still accepted', async function () {
      const MemoryStore = memorystore(expressSession);
      const store = new MemoryStore({});
      const old = randomBytes(32).toString('hex');
      const client = await start({ secret: old, store });
      await client.request('/login?user=tj', 'POST');
      await running!.close();
      running = await serve(readmeApp(implementation.middleware({ secret: [SECRET, old], store, resave: false })));
      const rotated = new Jar(running.base);
      for (const [name, value] of client.cookies) rotated.cookies.set(name, value);
      expect((await rotated.json('/me')).user).to.equal('tj');
    });

    describe('passport 0.7 login and logout', function () {
      /** passportApp logs in with req.login (which regenerates) after the visitor put something in the session. */
      async function startPassport(keepSessionInfo: boolean): Promise<Jar> {
        const passport = new Passport();
        passport.serializeUser((user, done) => done(null, (user as { id: string }).id));
        passport.deserializeUser((id: string, done) => done(null, { id }));
        const app = express();
        app.use(implementation.middleware({ secret: SECRET, resave: false, saveUninitialized: false }));
        app.use(passport.session());
        app.post('/return-to', (req, res) => {
          loose(req).returnTo = '/checkout';
          res.json({ ok: true });
        });
        app.post('/login', (req, res, next) => {
          req.login({ id: 'carol' }, { session: true, keepSessionInfo }, (error) => (error ? next(error) : res.json({ sessionID: req.sessionID })));
        });
        app.post('/logout', (req, res, next) => {
          req.logout({ keepSessionInfo }, (error) => (error ? next(error) : res.json({ sessionID: req.sessionID })));
        });
        app.get('/me', (req, res) => res.json({ user: (req.user as { id: string } | undefined)?.id ?? null, returnTo: loose(req).returnTo ?? null }));
        running = await serve(app);
        return new Jar(running.base);
      }

      it('login regenerates: the user is logged in under a new id and the pre-login data is dropped', async function () {
        const client = await startPassport(false);
        await client.json('/return-to', 'POST');
        const before = client.copy();
        await client.json('/login', 'POST');
        expect(await client.json('/me')).to.deep.equal({ user: 'carol', returnTo: null });
        expect(await before.json('/me')).to.deep.equal({ user: null, returnTo: null });
      });

      it('login with keepSessionInfo keeps the pre-login data in the new session', async function () {
        const client = await startPassport(true);
        await client.json('/return-to', 'POST');
        await client.json('/login', 'POST');
        expect(await client.json('/me')).to.deep.equal({ user: 'carol', returnTo: '/checkout' });
      });

      it('logout regenerates: the user is gone under the new id and the old one', async function () {
        const client = await startPassport(false);
        await client.json('/login', 'POST');
        const loggedIn = client.copy();
        await client.json('/logout', 'POST');
        expect((await client.json('/me')).user).to.equal(null);
        expect((await loggedIn.json('/me')).user).to.equal(null);
      });

      it('logout with keepSessionInfo keeps the other data and drops the user', async function () {
        const client = await startPassport(true);
        await client.json('/return-to', 'POST');
        await client.json('/login', 'POST');
        await client.json('/logout', 'POST');
        expect(await client.json('/me')).to.deep.equal({ user: null, returnTo: '/checkout' });
      });
    });
  });
}
