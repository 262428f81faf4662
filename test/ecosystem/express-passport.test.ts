import { expect } from 'chai';
import flash from 'connect-flash';
import { csrfSync } from 'csrf-sync';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import lusca from 'lusca';
import { Passport } from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { createManager, type Flash, type Manager } from 'sessionkit';
import { memoryBackend, postgresBackend, redisBackend, type Backend } from './backends.ts';
import { Browser, listenOn, type RunningApp } from './browser.ts';
import { BAD_LOGIN, findUser, GOOD_LOGIN, verifyPassword, type User } from './users.ts';

/** CsrfLibrary names the CSRF guard an app is built with. */
type CsrfLibrary = 'csrf-sync' | 'lusca';

/** csrfGuard is the CSRF middleware of `library`, reading the token from the `_csrf` form field. */
function csrfGuard(library: CsrfLibrary): RequestHandler {
  if (library === 'lusca') return lusca.csrf();
  const { csrfSynchronisedProtection } = csrfSync({ getTokenFromRequest: (req) => req.body?._csrf });
  return csrfSynchronisedProtection;
}

/**
 * expressApp is the recipe of docs/ecosystem.md: passport-local logins on sessionkit's own
 * middleware, a CSRF guard, connect-flash for passport's messages, and sessionkit's leveled flash
 * under `session.flashes` (the manager is made with `flashProperty: 'flashes'`), which templates
 * still reach as `res.locals.flash`.
 */
function expressApp(manager: Manager, library: CsrfLibrary): express.Express {
  const passport = new Passport();
  passport.use(new LocalStrategy(verifyPassword));
  passport.serializeUser((user, done) => done(null, (user as User).id));
  passport.deserializeUser((id, done) => done(null, findUser(id)));

  const app = express();
  app.use(manager.middleware());
  app.use(express.urlencoded());
  app.use(flash());
  app.use(passport.session());
  app.use(csrfGuard(library));

  app.get('/', (req, res) => {
    res.json({ user: (req.user as User | undefined)?.name ?? null, info: req.flash('info'), flash: res.locals.flash });
  });
  app.get('/login', (req, res) => {
    res.json({ csrfToken: req.csrfToken!(), error: req.flash('error') });
  });
  app.post('/login', passport.authenticate('local', { successRedirect: '/members', failureRedirect: '/login', failureFlash: true }));
  app.get('/members', (req, res) => {
    if (!req.isAuthenticated()) return res.status(401).json({ user: null });
    res.json({ user: (req.user as User).name, sessionID: req.sessionID, csrfToken: req.csrfToken!() });
  });
  app.post('/logout', (req, res, next) => {
    req.logout((error) => {
      if (error) return next(error);
      req.flash('info', 'Signed out.');
      (req.session.flashes as Flash).success('See you soon.');
      res.redirect('/');
    });
  });

  // csrf-sync's error carries its status; lusca sets res.statusCode before passing its error on.
  const refuse: ErrorRequestHandler = (error: { status?: number; message: string }, _req, res, _next) => {
    res.status(error.status ?? (res.statusCode >= 400 ? res.statusCode : 500)).json({ error: error.message });
  };
  app.use(refuse);
  return app;
}

const SID = 'sid';

/** loginPage fetches the login form and returns the CSRF token it carries. */
async function csrfToken(browser: Browser, path = '/login'): Promise<string> {
  const token = (await browser.json(path)).csrfToken;
  expect(token, 'the page carries a CSRF token').to.be.a('string').and.not.equal('');
  return token as string;
}

/** logIn runs GET /login and POST /login as alice and returns the session cookie before and after. */
async function logIn(browser: Browser): Promise<{ before: string; after: string }> {
  const token = await csrfToken(browser);
  const before = browser.cookie(SID)!;
  const posted = await browser.request('/login', { form: { ...GOOD_LOGIN, _csrf: token } });
  expect(posted.status, posted.body).to.equal(302);
  expect(posted.location).to.equal('/members');
  return { before, after: browser.cookie(SID)! };
}

function describeExpressFlow(library: CsrfLibrary, backend: Backend): void {
  describe(`${backend.name} + ${library}`, function () {
    let manager: Manager;
    let app: RunningApp;

    before(async function () {
      await backend.ready(this);
      manager = await createManager({ ...backend.options, gcInterval: 0, flashProperty: 'flashes' });
      app = await listenOn(expressApp(manager, library));
    });
    after(async function () {
      await app?.close();
      await manager?.close();
      await backend.cleanup();
    });

    it('login with a valid CSRF token regenerates the session id, and the pre-login cookie stays anonymous', async function () {
      const browser = new Browser(app.base);
      expect((await browser.json('/')).user, 'anonymous at first').to.equal(null);
      const { before, after } = await logIn(browser);
      expect(before, 'the login form started a session (it holds the CSRF secret)').to.match(/^[0-9a-f]{32}$/);
      expect(after, 'a new id after login (no fixation)').to.match(/^[0-9a-f]{32}$/).and.not.equal(before);
      const members = await browser.json('/members');
      expect(members.user).to.equal('alice');
      expect(members.sessionID, 'req.sessionID is the id in the cookie').to.equal(after);
      const fixated = new Browser(app.base);
      fixated.jar.set(SID, before);
      expect((await fixated.request('/members')).status, 'the pre-login id does not log in').to.equal(401);
    });

    it('logout ends the login: the members page refuses, and a replay of the logged-in cookie is anonymous', async function () {
      const browser = new Browser(app.base);
      const { after: loggedIn } = await logIn(browser);
      const token = await csrfToken(browser, '/members');
      const out = await browser.request('/logout', { form: { _csrf: token } });
      expect(out.status, out.body).to.equal(302);
      expect(out.location).to.equal('/');
      expect(browser.cookie(SID), 'logout regenerates the id').to.match(/^[0-9a-f]{32}$/).and.not.equal(loggedIn);
      expect((await browser.request('/members')).status).to.equal(401);
      const replay = new Browser(app.base);
      replay.jar.set(SID, loggedIn);
      expect((await replay.request('/members')).status, 'the logged-in cookie no longer logs in').to.equal(401);
      expect((await replay.json('/')).user).to.equal(null);
    });

    it('connect-flash (session.flash) and the leveled flash (session.flashes, res.locals.flash) each show their message once', async function () {
      const browser = new Browser(app.base);
      await logIn(browser);
      await browser.request('/logout', { form: { _csrf: await csrfToken(browser, '/members') } });
      const home = await browser.json('/');
      expect(home.info, 'connect-flash').to.deep.equal(['Signed out.']);
      expect(home.flash, 'the leveled flash as templates see it').to.deep.include({ successMsg: 'See you soon.', messages: [{ level: 'success', text: 'See you soon.' }] });
      const again = await browser.json('/');
      expect(again.info).to.deep.equal([]);
      expect((again.flash as { messages: unknown[] }).messages).to.deep.equal([]);
    });

    it('a wrong password redirects to the login form, which shows connect-flash\'s error once', async function () {
      const browser = new Browser(app.base);
      const token = await csrfToken(browser);
      const posted = await browser.request('/login', { form: { ...BAD_LOGIN, _csrf: token } });
      expect(posted.status).to.equal(302);
      expect(posted.location).to.equal('/login');
      expect((await browser.json('/login')).error).to.deep.equal(['Incorrect username or password.']);
      expect((await browser.json('/login')).error).to.deep.equal([]);
      expect((await browser.request('/members')).status).to.equal(401);
    });

    it('a POST without the CSRF token, or with the token of another session, is refused with 403 and logs nobody in', async function () {
      const browser = new Browser(app.base);
      await csrfToken(browser);
      const missing = await browser.request('/login', { form: GOOD_LOGIN });
      expect(missing.status, missing.body).to.equal(403);
      const other = new Browser(app.base);
      const foreign = await csrfToken(other);
      const forged = await browser.request('/login', { form: { ...GOOD_LOGIN, _csrf: foreign } });
      expect(forged.status, forged.body).to.equal(403);
      expect((await browser.request('/members')).status).to.equal(401);
    });
  });
}

describe('express 5 + passport-local + CSRF + connect-flash on manager.middleware(): anonymous → login → members → logout → anonymous', function () {
  for (const library of ['csrf-sync', 'lusca'] as const) {
    for (const backend of [memoryBackend(), redisBackend(), postgresBackend()]) describeExpressFlow(library, backend);
  }
});

describe('connect-flash without the flashProperty option', function () {
  it('req.flash fails with an error that names the flashProperty option, since session.flash is the leveled flash by default', async function () {
    const manager = await createManager({ gcInterval: 0 });
    const app = express();
    app.use(manager.middleware());
    app.use(flash());
    app.get('/', (req, res) => {
      req.flash('info', 'hello');
      res.json({ ok: true });
    });
    let failure: Error | undefined;
    app.use(((error, _req, res, _next) => {
      failure = error;
      res.status(500).end();
    }) as ErrorRequestHandler);
    const running = await listenOn(app);
    try {
      expect((await new Browser(running.base).request('/')).status).to.equal(500);
      expect(failure?.message).to.match(/^session: "flash" is part of the session's API \(its leveled flash\), not a data key; connect-flash .* need the flashProperty option set to another name$/);
    } finally {
      await running.close();
      await manager.close();
    }
  });
});
