import { expect } from 'chai';
import Fastify, { type FastifyInstance } from 'fastify';
import { createManager, type Manager } from 'sessionkit';
import { fastifySession } from 'sessionkit/fastify';
import { Browser, type RunningApp } from './browser.ts';

const WEEK_MS = 7 * 24 * 3600 * 1000;

/** fastifyShapeApp serves what @fastify/session users do with request.session, one route per idiom. */
async function fastifyShapeApp(manager: Manager): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(fastifySession, { manager });
  app.post('/fill', async (request) => {
    request.session.set('user', { id: 1 });
    request.session.set('theme', 'dark');
    request.session.cart = ['book'];
    return { id: request.session.sessionId };
  });
  app.get('/look', async (request) => ({
    user: request.session.get('user') ?? null,
    theme: request.session.get('theme') ?? null,
    cart: request.session.get('cart') ?? null,
    keys: Object.keys(request.session),
    sessionId: request.session.sessionId,
  }));
  app.post('/unset', async (request) => {
    request.session.set('theme', undefined);
    return { has: request.session.has('theme'), keys: Object.keys(request.session) };
  });
  app.post('/regenerate-keeping-user', async (request) => {
    const before = request.session.sessionId;
    await request.session.regenerate(['user']);
    return { changed: request.session.sessionId !== before, keys: Object.keys(request.session) };
  });
  app.post('/remember-then-regenerate', async (request) => {
    request.session.cookie.maxAge = WEEK_MS;
    await request.session.regenerate(['user']);
    return { maxAge: request.session.cookie.maxAge };
  });
  app.post('/save-reload', async (request) => {
    request.session.set('saved', 1);
    await request.session.save();
    request.session.set('unsaved', 1);
    await request.session.reload();
    return { keys: Object.keys(request.session) };
  });
  app.post('/touch', async (request) => {
    request.session.touch();
    return { ok: true };
  });
  app.post('/destroy', async (request) => {
    await request.session.destroy();
    return { keys: Object.keys(request.session) };
  });
  return app;
}

describe('@fastify/session users on fastifySession: request.session looks and behaves like theirs', function () {
  let manager: Manager;
  let server: FastifyInstance;
  let app: RunningApp;

  before(async function () {
    manager = await createManager({ gcInterval: 0, cookieLifeTime: 3600 });
    server = await fastifyShapeApp(manager);
    app = { base: await server.listen({ port: 0, host: '127.0.0.1' }), close: () => server.close() };
  });
  after(async function () {
    await app.close();
    await manager.close();
  });

  it('get and set (and plain properties) read and write the same data, and sessionId is the id in the cookie', async function () {
    const browser = new Browser(app.base);
    const { id } = await browser.json('/fill', { method: 'POST' });
    expect(id).to.equal(browser.cookie('sid'));
    expect(await browser.json('/look')).to.deep.equal({ user: { id: 1 }, theme: 'dark', cart: ['book'], keys: ['user', 'theme', 'cart'], sessionId: id });
  });

  it('set(key, undefined) deletes the key, as @fastify/passport relies on at logout', async function () {
    const browser = new Browser(app.base);
    await browser.json('/fill', { method: 'POST' });
    expect(await browser.json('/unset', { method: 'POST' })).to.deep.equal({ has: false, keys: ['user', 'cart'] });
    expect((await browser.json('/look')).keys).to.deep.equal(['user', 'cart']);
  });

  it('regenerate(keysToKeep) moves to a new id with only those keys, and the old id is gone', async function () {
    const browser = new Browser(app.base);
    await browser.json('/fill', { method: 'POST' });
    const old = browser.cookie('sid')!;
    expect(await browser.json('/regenerate-keeping-user', { method: 'POST' })).to.deep.equal({ changed: true, keys: ['user'] });
    expect(browser.cookie('sid')).to.not.equal(old);
    expect((await browser.json('/look')).keys).to.deep.equal(['user']);
    const replay = new Browser(app.base);
    replay.jar.set('sid', old);
    expect((await replay.json('/look')).keys).to.deep.equal([]);
  });

  it('regenerate(keysToKeep) keeps the lifetime cookie.maxAge gave the session ("remember me")', async function () {
    const browser = new Browser(app.base);
    await browser.json('/fill', { method: 'POST' });
    const page = await browser.request('/remember-then-regenerate', { method: 'POST' });
    expect(page.setCookies[0]).to.match(new RegExp(`^sid=[0-9a-f]{32}; Path=/; Max-Age=${WEEK_MS / 1000};`));
    expect((JSON.parse(page.body) as { maxAge: number }).maxAge).to.be.within(WEEK_MS - 1000, WEEK_MS);
  });

  it('save() stores what was written so far, and reload() drops what was written after', async function () {
    const browser = new Browser(app.base);
    await browser.json('/fill', { method: 'POST' });
    expect((await browser.json('/save-reload', { method: 'POST' })).keys).to.deep.equal(['user', 'theme', 'cart', 'saved']);
    expect((await browser.json('/look')).keys).to.deep.equal(['user', 'theme', 'cart', 'saved']);
  });

  it('touch() renews a persistent cookie without a write, and destroy() empties the session and clears its cookie', async function () {
    const browser = new Browser(app.base);
    await browser.json('/fill', { method: 'POST' });
    const touched = await browser.request('/touch', { method: 'POST' });
    expect(touched.setCookies[0]).to.match(/^sid=[0-9a-f]{32}; Path=\/; Max-Age=3600;/);
    expect(await browser.json('/destroy', { method: 'POST' })).to.deep.equal({ keys: [] });
    expect(browser.cookie('sid')).to.equal(undefined);
  });
});
