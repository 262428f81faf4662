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
import { expectAnonymous, expectWrongPasswordRefused, postLogin, SID } from './passport-flow.ts';
import { findUser, GOOD_LOGIN, verifyPassword, type User } from './users.ts';

/** CsrfLibrary names the CSRF guard an app is built with. */
type CsrfLibrary = 'csrf-sync' | 'lusca';

/**
 * CsrfGuard is a CSRF library's middleware, which reads the token from the `_csrf` form field, and
 * how to replace the session's token (csrf-sync) or secret (lusca) with a new one.
 */
interface CsrfGuard {
  protect: RequestHandler;
  rotate(req: express.Request): void;
}

function csrfGuard(library: CsrfLibrary): CsrfGuard {
  if (library === 'lusca') return { protect: lusca.csrf(), rotate: (req) => void delete req.session._csrfSecret };
  const { csrfSynchronisedProtection, generateToken } = csrfSync({ getTokenFromRequest: (req) => req.body?._csrf });
  return { protect: csrfSynchronisedProtection, rotate: (req) => void generateToken(req, true) };
}

/**
 * expressApp is the recipe of docs/ecosystem.md: passport-local logins on sessionkit's own
 * middleware, a CSRF guard, connect-flash for passport's messages, and sessionkit's leveled flash
 * under `session.flashes` (the manager is made with `flashProperty: 'flashes'`), which templates
 * still reach as `res.locals.flash`. sessionkit's regenerate keeps the session's data, so the
 * recipe replaces the CSRF token at login (`rotateCsrfAtLogin: false` shows why).
 */
function expressApp(manager: Manager, library: CsrfLibrary, { rotateCsrfAtLogin = true } = {}): express.Express {
  const csrf = csrfGuard(library);
  const passport = new Passport();
  passport.use(new LocalStrategy(verifyPassword));
  passport.serializeUser((user, done) => done(null, (user as User).id));
  passport.deserializeUser((id, done) => done(null, findUser(id)));

  const app = express();
  app.use(manager.middleware());
  app.use(express.urlencoded());
  app.use(flash());
  app.use(passport.session());
  app.use(csrf.protect);

  app.get('/', (req, res) => {
    res.json({ user: (req.user as User | undefined)?.name ?? null, info: req.flash('info'), flash: res.locals.flash });
  });
  app.get('/login', (req, res) => {
    res.json({ csrfToken: req.csrfToken!(), error: req.flash('error') });
  });
  app.post('/login', passport.authenticate('local', { failureRedirect: '/login', failureFlash: true }), (req, res) => {
    // A token known before login (one an attacker planted with the session) must not outlive it.
    if (rotateCsrfAtLogin) csrf.rotate(req);
    res.redirect('/members');
  });
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

/** csrfToken fetches the login form and returns the CSRF token it carries. */
async function csrfToken(browser: Browser, path = '/login'): Promise<string> {
  const token = (await browser.json(path)).csrfToken;
  expect(token, 'the page carries a CSRF token').to.be.a('string').and.not.equal('');
  return token as string;
}

/** logIn opens the login form and posts it as alice, with its CSRF token. */
async function logIn(browser: Browser): ReturnType<typeof postLogin> {
  const token = await csrfToken(browser);
  return postLogin(browser, { ...GOOD_LOGIN, _csrf: token });
}

/**
 * fixateAndLogIn plays session fixation: an attacker opens the login form, gets a session and its
 * CSRF token, and plants that session's cookie in the victim's browser; the victim logs in with it.
 */
async function fixateAndLogIn(base: string): Promise<{ victim: Browser; plantedToken: string }> {
  const attacker = new Browser(base);
  const plantedToken = await csrfToken(attacker);
  const victim = new Browser(base);
  victim.jar.set(SID, attacker.cookie(SID)!);
  await logIn(victim);
  return { victim, plantedToken };
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
      const members = await browser.json('/members');
      expect(members.user).to.equal('alice');
      expect(members.sessionID, 'req.sessionID is the id in the cookie').to.equal(after);
      await expectAnonymous(app.base, before!);
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
      await expectAnonymous(app.base, loggedIn);
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
      await expectWrongPasswordRefused(browser, { _csrf: await csrfToken(browser) });
      expect((await browser.json('/login')).error).to.deep.equal(['Incorrect username or password.']);
      expect((await browser.json('/login')).error).to.deep.equal([]);
    });

    it('a CSRF token fixed before login along with the session is refused after login, where the recipe replaces it', async function () {
      const { victim, plantedToken } = await fixateAndLogIn(app.base);
      const forged = await victim.request('/logout', { form: { _csrf: plantedToken } });
      expect(forged.status, forged.body).to.equal(403);
      expect((await victim.json('/members')).user, 'still logged in').to.equal('alice');
      const fresh = await csrfToken(victim, '/members');
      expect(fresh).to.not.equal(plantedToken);
      expect((await victim.request('/logout', { form: { _csrf: fresh } })).status).to.equal(302);
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

describe('passport on sessionkit without replacing the CSRF token at login', function () {
  for (const library of ['csrf-sync', 'lusca'] as const) {
    it(`${library}: a token fixed before login stays valid after it, since regenerate keeps the session's data`, async function () {
      const manager = await createManager({ gcInterval: 0, flashProperty: 'flashes' });
      const running = await listenOn(expressApp(manager, library, { rotateCsrfAtLogin: false }));
      try {
        const { victim, plantedToken } = await fixateAndLogIn(running.base);
        const forged = await victim.request('/logout', { form: { _csrf: plantedToken } });
        expect(forged.status, 'the forged request is accepted').to.equal(302);
        expect((await victim.request('/members')).status).to.equal(401);
      } finally {
        await running.close();
        await manager.close();
      }
    });
  }
});
