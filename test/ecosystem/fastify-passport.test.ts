import formBody from '@fastify/formbody';
import { Authenticator } from '@fastify/passport';
import { expect } from 'chai';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { Strategy as LocalStrategy } from 'passport-local';
import { createManager, type FlashView, type Manager } from 'sessionkit';
import { fastifySession } from 'sessionkit/fastify';
import { memoryBackend } from './backends.ts';
import { Browser, type RunningApp } from './browser.ts';
import { BAD_LOGIN, findUser, GOOD_LOGIN, verifyPassword, type User } from './users.ts';

const THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000;

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

const SID = 'sid';

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
    const before = browser.cookie(SID)!;
    const login = await browser.request('/login', { form: GOOD_LOGIN });
    expect(login.status, login.body).to.equal(302);
    expect(login.location).to.equal('/members');
    const after = browser.cookie(SID)!;
    expect(after).to.match(/^[0-9a-f]{32}$/).and.not.equal(before);
    const members = await browser.json('/members');
    expect(members).to.deep.include({ user: 'alice', sessionId: after, expires: null });
    expect((members.flash as FlashView).successMsg, 'reply.locals.flash').to.equal('Welcome, alice.');
    expect(await browser.json('/'), '@fastify/passport cleared the pre-login data').to.deep.include({ user: 'alice', views: 1 });
    const fixated = new Browser(app.base);
    fixated.jar.set(SID, before);
    expect((await fixated.request('/members')).status).to.equal(401);
  });

  it('logout ends the login, its flash shows once, and a replay of the logged-in cookie is anonymous', async function () {
    const browser = new Browser(app.base);
    await browser.request('/login', { form: GOOD_LOGIN });
    const loggedIn = browser.cookie(SID)!;
    const out = await browser.request('/logout', { method: 'POST' });
    expect(out.status, out.body).to.equal(302);
    expect(browser.cookie(SID)).to.match(/^[0-9a-f]{32}$/).and.not.equal(loggedIn);
    expect((await browser.request('/members')).status).to.equal(401);
    const home = await browser.json('/');
    expect(home.user).to.equal(null);
    expect((home.flash as FlashView).infoMsg).to.equal('Signed out.');
    expect(((await browser.json('/')).flash as FlashView).infoMsg).to.equal('');
    const replay = new Browser(app.base);
    replay.jar.set(SID, loggedIn);
    expect((await replay.request('/members')).status).to.equal(401);
  });

  it('a wrong password redirects to the login form, which shows passport\'s message once through @fastify/flash', async function () {
    const browser = new Browser(app.base);
    const login = await browser.request('/login', { form: BAD_LOGIN });
    expect(login.status).to.equal(302);
    expect(login.location).to.equal('/login');
    expect((await browser.json('/login')).error).to.deep.equal(['Incorrect username or password.']);
    expect((await browser.json('/login')).error).to.deep.equal([]);
    expect((await browser.request('/members')).status).to.equal(401);
  });

  it('request.session.cookie.maxAge set at login ("remember me") gives a 30-day cookie and cookie.expires about 30 days ahead', async function () {
    const browser = new Browser(app.base);
    const login = await browser.request('/login', { form: { ...GOOD_LOGIN, remember: 'on' } });
    expect(login.setCookies).to.have.length(1);
    expect(login.setCookies[0]).to.match(new RegExp(`^${SID}=[0-9a-f]{32}; Path=/; Max-Age=${THIRTY_DAYS_MS / 1000};`));
    const expires = Date.parse((await browser.json('/members')).expires as string);
    expect(expires - Date.now()).to.be.within(THIRTY_DAYS_MS - 60_000, THIRTY_DAYS_MS);
  });
});
