import { expect } from 'chai';
import Koa, { type Middleware } from 'koa';
import passportModule from 'koa-passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { createManager, type FlashView, type Manager } from 'sessionkit';
import { koaSession } from 'sessionkit/koa';
import { memoryBackend } from './backends.ts';
import { Browser, listenOn, type RunningApp } from './browser.ts';
import { expectAnonymous, expectLogoutEndsLogin, expectRememberCookie, expectWrongPasswordRefused, postLogin, SID, THIRTY_DAYS_MS } from './passport-flow.ts';
import { findUser, GOOD_LOGIN, verifyPassword, type User } from './users.ts';

/** formBody parses url-encoded bodies into ctx.request.body, where passport-local looks (what koa-bodyparser does). */
const formBody: Middleware = async (ctx, next) => {
  if (ctx.is('application/x-www-form-urlencoded')) {
    let text = '';
    for await (const chunk of ctx.req) text += chunk;
    (ctx.request as { body?: unknown }).body = Object.fromEntries(new URLSearchParams(text));
  }
  await next();
};

/**
 * koaApp is the Koa recipe of docs/ecosystem.md: koa-passport with passport-local on
 * `koaSession(manager)`, a koa-session style views counter, "remember me" through
 * `ctx.session.maxAge`, and `ctx.session = null` to forget a visitor.
 */
function koaApp(manager: Manager): Koa {
  const passport = new passportModule.KoaPassport();
  passport.use(new LocalStrategy(verifyPassword));
  passport.serializeUser<User, string>((user, done) => done(null, user.id));
  passport.deserializeUser<string, User>((id, done) => done(null, findUser(id)));

  const app = new Koa();
  app.use(koaSession(manager));
  app.use(formBody);
  app.use(passport.initialize());
  app.use(passport.session());

  const routes: Record<string, Middleware> = {
    'GET /': (ctx) => {
      ctx.session.views = ((ctx.session.views as number | undefined) ?? 0) + 1;
      ctx.body = { user: (ctx.state.user as User | undefined)?.name ?? null, views: ctx.session.views, flash: ctx.state.flash };
    },
    'POST /login': (ctx, next) =>
      passport.authenticate('local', { failureRedirect: '/login' })(ctx, async () => {
        if ((ctx.request as { body?: Record<string, string> }).body?.remember === 'on') ctx.session.maxAge = THIRTY_DAYS_MS;
        ctx.session.flash.success(`Welcome, ${(ctx.state.user as User).name}.`);
        ctx.redirect('/members');
      }).then(() => next()),
    'GET /members': (ctx) => {
      if (!ctx.isAuthenticated()) {
        ctx.status = 401;
        ctx.body = { user: null };
        return;
      }
      ctx.body = { user: (ctx.state.user as User).name, sessionId: ctx.session.id, maxAge: ctx.session.maxAge, flash: ctx.state.flash };
    },
    'POST /logout': async (ctx) => {
      await ctx.logout();
      ctx.session.flash.info('Signed out.');
      ctx.redirect('/');
    },
    'POST /forget': (ctx) => {
      ctx.session = null;
      ctx.body = { forgotten: true };
    },
  };
  app.use(async (ctx, next) => {
    const route = routes[`${ctx.method} ${ctx.path}`];
    if (route) await route(ctx, next);
  });
  return app;
}

describe('koa 3 + koa-passport + passport-local on koaSession(manager): anonymous → login → members → logout → anonymous', function () {
  const backend = memoryBackend();
  let manager: Manager;
  let app: RunningApp;

  before(async function () {
    manager = await createManager({ ...backend.options, gcInterval: 0 });
    app = await listenOn(koaApp(manager));
  });
  after(async function () {
    await app.close();
    await manager.close();
  });

  it('login regenerates the id and keeps the data (sessionkit\'s regenerate), and the pre-login cookie stays anonymous', async function () {
    const browser = new Browser(app.base);
    expect(await browser.json('/')).to.deep.include({ user: null, views: 1 });
    const { before, after } = await postLogin(browser, GOOD_LOGIN);
    const members = await browser.json('/members');
    expect(members).to.deep.include({ user: 'alice', sessionId: after, maxAge: 'session' });
    expect((members.flash as FlashView).successMsg, 'ctx.state.flash').to.equal('Welcome, alice.');
    expect(await browser.json('/'), 'the views counter went on across the login').to.deep.include({ user: 'alice', views: 2 });
    await expectAnonymous(app.base, before!);
  });

  it('logout ends the login, its flash shows once, and a replay of the logged-in cookie is anonymous', async function () {
    await expectLogoutEndsLogin(app.base);
  });

  it('a wrong password redirects to the login form and logs nobody in', async function () {
    await expectWrongPasswordRefused(new Browser(app.base));
  });

  it('ctx.session.maxAge set at login ("remember me") gives a 30-day cookie, and ctx.session.maxAge reads it back', async function () {
    const browser = new Browser(app.base);
    expectRememberCookie((await postLogin(browser, { ...GOOD_LOGIN, remember: 'on' })).page);
    expect(await browser.json('/members')).to.deep.include({ user: 'alice', maxAge: THIRTY_DAYS_MS });
  });

  it('ctx.session = null destroys the session: a clearing cookie, and the old cookie is anonymous', async function () {
    const browser = new Browser(app.base);
    const { after: loggedIn } = await postLogin(browser, GOOD_LOGIN);
    const forget = await browser.request('/forget', { method: 'POST' });
    expect(forget.setCookies).to.have.length(1);
    expect(forget.setCookies[0]).to.match(new RegExp(`^${SID}=; Path=/; Max-Age=0;`));
    expect(browser.cookie(SID)).to.equal(undefined);
    await expectAnonymous(app.base, loggedIn);
  });
});
