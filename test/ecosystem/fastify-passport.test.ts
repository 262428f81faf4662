import formBody from '@fastify/formbody';
import { Authenticator } from '@fastify/passport';
import { expect } from 'chai';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { Strategy as LocalStrategy } from 'passport-local';
import { createManager, type FlashView, type Manager } from 'sessionkit';
import { fastifySession } from 'sessionkit/fastify';
import { memoryBackend } from './backends.ts';
import { Browser, type RunningApp } from './browser.ts';
import { expectAnonymous, expectLogoutEndsLogin, expectRememberCookie, expectWrongPasswordRefused, postLogin, THIRTY_DAYS_MS } from './passport-flow.ts';
import { findUser, GOOD_LOGIN, verifyPassword, type User } from './users.ts';

/** flashOf reads the flash view fastifySession puts in reply.locals, which Fastify's types do not declare. */
const flashOf = (reply: FastifyReply) => (reply as FastifyReply & { locals: { flash: FlashView } }).locals.flash;

/**
 * fastifyApp is the Fastify recipe of docs/ecosystem.md: @fastify/passport with passport-local on
 * `fastifySession`, passport's failure message through @fastify/flash (which @fastify/passport
 * registers and which keeps its messages with `session.get/set('flash')`; @fastify/passport flashes
 * a string given as `failureFlash`, not passport-local's message object), sessionkit's leveled
 * flash in `reply.locals.flash`, and "remember me" through `request.session.cookie.maxAge`.
 */
async function fastifyApp(manager: Manager): Promise<FastifyInstance> {
  const passport = new Authenticator();
  passport.use('local', new LocalStrategy(verifyPassword));
  passport.registerUserSerializer(async (user: User) => user.id);
  passport.registerUserDeserializer(async (id: string) => findUser(id));

  const app = Fastify();
  await app.register(formBody);
  await app.register(fastifySession, { manager });
  await app.register(passport.initialize());
  await app.register(passport.secureSession());

  app.get('/', async (request, reply) => {
    request.session.views = ((request.session.views as number | undefined) ?? 0) + 1;
    return { user: (request.user as User | undefined)?.name ?? null, views: request.session.views, flash: flashOf(reply) };
  });
  app.get('/login', async (_request, reply) => ({ error: reply.flash('error') }));
  app.post('/login', { preValidation: passport.authenticate('local', { failureRedirect: '/login', failureFlash: 'Incorrect username or password.' }) }, async (request, reply) => {
    if ((request.body as { remember?: string }).remember === 'on') request.session.cookie.maxAge = THIRTY_DAYS_MS;
    request.session.flash.success(`Welcome, ${(request.user as User).name}.`);
    return reply.redirect('/members');
  });
  app.get('/members', async (request, reply) => {
    if (!request.isAuthenticated()) return reply.code(401).send({ user: null });
    return { user: (request.user as User).name, sessionId: request.session.sessionId, expires: request.session.cookie.expires, flash: flashOf(reply) };
  });
  app.post('/logout', async (request, reply) => {
    await request.logout();
    request.session.flash.info('Signed out.');
    return reply.redirect('/');
  });
  return app;
}

describe('fastify 5 + @fastify/passport + passport-local on fastifySession: anonymous → login → members → logout → anonymous', function () {
  const backend = memoryBackend();
  let manager: Manager;
  let server: FastifyInstance;
  let app: RunningApp;

  before(async function () {
    manager = await createManager({ ...backend.options, gcInterval: 0 });
    server = await fastifyApp(manager);
    const base = await server.listen({ port: 0, host: '127.0.0.1' });
    app = { base, close: () => server.close() };
  });
  after(async function () {
    await app.close();
    await manager.close();
  });

  it('login regenerates the id and starts over with only the login (regenerate(keysToKeep)), and the pre-login cookie stays anonymous', async function () {
    const browser = new Browser(app.base);
    expect(await browser.json('/')).to.deep.include({ user: null, views: 1 });
    const { before, after } = await postLogin(browser, GOOD_LOGIN);
    const members = await browser.json('/members');
    expect(members).to.deep.include({ user: 'alice', sessionId: after, expires: null });
    expect((members.flash as FlashView).successMsg, 'reply.locals.flash').to.equal('Welcome, alice.');
    expect(await browser.json('/'), '@fastify/passport cleared the pre-login data').to.deep.include({ user: 'alice', views: 1 });
    await expectAnonymous(app.base, before!);
  });

  it('logout ends the login, its flash shows once, and a replay of the logged-in cookie is anonymous', async function () {
    await expectLogoutEndsLogin(app.base);
  });

  it('a wrong password redirects to the login form, which shows passport\'s message once through @fastify/flash', async function () {
    const browser = new Browser(app.base);
    await expectWrongPasswordRefused(browser);
    expect((await browser.json('/login')).error).to.deep.equal(['Incorrect username or password.']);
    expect((await browser.json('/login')).error).to.deep.equal([]);
  });

  it('request.session.cookie.maxAge set at login ("remember me") gives a 30-day cookie and cookie.expires about 30 days ahead', async function () {
    const browser = new Browser(app.base);
    expectRememberCookie((await postLogin(browser, { ...GOOD_LOGIN, remember: 'on' })).page);
    const expires = Date.parse((await browser.json('/members')).expires as string);
    expect(expires - Date.now()).to.be.within(THIRTY_DAYS_MS - 60_000, THIRTY_DAYS_MS);
  });
});
