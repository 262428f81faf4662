import fastifyView from '@fastify/view';
import { expect } from 'chai';
import ejs from 'ejs';
import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createManager, type Manager } from 'sessionkit';
import { fastifySession } from 'sessionkit/fastify';
import { flashLocals } from 'sessionkit/templates';
import { CookieClient } from 'sessionkit/testing';
import { describeAdapterFlow, FLOW_ROUTES, type RunningApp } from './flow.ts';

async function serve(app: FastifyInstance): Promise<RunningApp> {
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return { base, close: () => app.close() };
}

describeAdapterFlow('fastify', async (manager) => {
  const app = Fastify();
  await app.register(fastifySession, { manager });
  app.get('/*', async (request, reply) => {
    const route = FLOW_ROUTES[new URL(request.url, 'http://localhost').pathname];
    if (!route) return reply.code(404).send({ error: 'not found' });
    const query = new URL(request.url, 'http://localhost').searchParams;
    const locals = (reply as unknown as { locals: { flash: never } }).locals;
    const result = await route({ session: request.session, query, flash: () => locals.flash });
    if ('redirect' in result) return reply.redirect(result.redirect);
    reply.headers(result.headers ?? {});
    return result.json;
  });
  return serve(app);
});

describe('fastify adapter', function () {
  let manager: Manager;
  beforeEach(async function () {
    manager = await createManager({ gcInterval: 0 });
  });
  afterEach(async function () {
    await manager.close();
  });

  it('fastifySession carries the fastify-plugin metadata, so its decorators reach the root instance', function () {
    const reference = fp(async () => undefined, { fastify: '5.x', name: 'sessionkit' });
    for (const key of ['skip-override', 'fastify.display-name', 'plugin-meta']) {
      const symbol = Symbol.for(key);
      expect((fastifySession as unknown as Record<symbol, unknown>)[symbol], key).to.deep.equal((reference as unknown as Record<symbol, unknown>)[symbol]);
    }
  });

  it('registering without a manager fails at startup with a message naming the option', async function () {
    const app = Fastify();
    // @ts-expect-error the manager option is required
    app.register(fastifySession, {});
    let failure: Error | undefined;
    try {
      await app.ready();
    } catch (error) {
      failure = error as Error;
    }
    expect(failure?.message).to.match(/session\/fastify: .*manager/);
    await app.close();
  });

  it('the session cookie is added to cookies the route sets', async function () {
    const app = Fastify();
    await app.register(fastifySession, { manager });
    app.get('/', async (request, reply) => {
      request.session.set('uid', 'u1');
      reply.header('set-cookie', 'theme=dark; Path=/');
      return 'ok';
    });
    const running = await serve(app);
    try {
      const reply = await new CookieClient(running.base).request('/');
      expect(reply.setCookies.map((c) => c.split('=')[0]).sort()).to.deep.equal(['sid', 'theme']);
    } finally {
      await running.close();
    }
  });

  for (const order of ['before', 'after'] as const) {
    it(`@fastify/view templates get reply.locals.flash, shown once, with the view plugin registered ${order} the session`, async function () {
      const app = Fastify();
      const view = () => app.register(fastifyView, { engine: { ejs }, defaultContext: flashLocals() });
      if (order === 'before') await view();
      await app.register(fastifySession, { manager });
      if (order === 'after') await view();
      app.get('/flash', async (request, reply) => {
        request.session.flash.error('bad <input>');
        request.session.flash.info('fyi');
        return reply.redirect('/page');
      });
      app.get('/json', async () => ({ ok: true }));
      app.get('/page', (_request, reply) => reply.viewAsync('test/adapters/fixtures/page.ejs').then((html) => reply.type('text/html').send(html)));
      const running = await serve(app);
      try {
        const client = new CookieClient(running.base);
        expect((await client.request('/flash')).status).to.equal(302);
        await client.request('/json'); // renders nothing, consumes nothing
        const page = (await client.request('/page')).body;
        expect(page).to.include('class="flash flash-error" role="alert"');
        expect(page).to.include('bad &lt;input&gt;');
        expect(page).to.include('class="flash flash-info" role="status"');
        expect(page).to.not.include('<input>');
        const again = (await client.request('/page')).body;
        expect(again).to.not.include('flash-');
      } finally {
        await running.close();
      }
    });
  }
  it('reply.locals is made when first read: a hook that reads it before the session loads still gets the flash on it, and locals a handler assigns are its own', async function () {
    const app = Fastify();
    const early: object[] = [];
    // An application-level hook added before the plugin runs before its onRequest.
    app.addHook('onRequest', async (request, reply) => {
      if (request.url === '/page') early.push((reply as unknown as { locals: object }).locals);
    });
    await app.register(fastifySession, { manager });
    app.get('/flash', async (request) => {
      request.session.flash.success('saved');
      return 'ok';
    });
    app.get('/page', async (_request, reply) => {
      const locals = (reply as unknown as { locals: { flash: { successMsg: string } } }).locals;
      expect(locals).to.equal(early[0]);
      return locals.flash.successMsg;
    });
    app.get('/replaced', async (_request, reply) => {
      const withLocals = reply as unknown as { locals: Record<string, unknown> };
      withLocals.locals = { title: 'mine' };
      return withLocals.locals;
    });
    const running = await serve(app);
    try {
      const client = new CookieClient(running.base);
      await client.request('/flash');
      expect(JSON.parse((await client.request('/replaced')).body)).to.deep.equal({ title: 'mine' });
      expect((await client.request('/page')).body).to.equal('saved');
      expect(early).to.have.length(1);
    } finally {
      await running.close();
    }
  });
});
