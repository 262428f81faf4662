import { expect } from 'chai';
import Koa from 'koa';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createManager } from 'sessionkit';
import { koaSession } from 'sessionkit/koa';
import { closeServer, CookieClient } from 'sessionkit/testing';
import { describeAdapterFlow, FLOW_ROUTES, type RunningApp } from './flow.ts';

async function serve(app: Koa): Promise<RunningApp> {
  app.silent = true; // the 500s below are expected; Koa would log each one
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}

describeAdapterFlow('koa', async (manager) => {
  const app = new Koa();
  app.use(koaSession(manager));
  app.use(async (ctx) => {
    const route = FLOW_ROUTES[ctx.path];
    if (!route) return; // Koa answers 404
    const result = await route({ session: ctx.session, query: new URLSearchParams(ctx.querystring), flash: () => ctx.state.flash });
    if ('redirect' in result) ctx.redirect(result.redirect);
    else {
      ctx.set(result.headers ?? {});
      ctx.body = result.json;
    }
  });
  return serve(app);
});

describe('koa adapter', function () {
  it('the session cookie is appended beside cookies the app sets, and ctx.state.flash is not consumed unless read', async function () {
    const manager = await createManager({ gcInterval: 0 });
    const app = new Koa();
    app.use(koaSession(manager));
    app.use(async (ctx) => {
      if (ctx.path === '/flash') {
        ctx.cookies.set('theme', 'dark');
        ctx.session.flash.warning('low disk');
      }
      ctx.body = ctx.path === '/view' ? ctx.state.flash.warningMsg : 'ok';
    });
    const running = await serve(app);
    try {
      const client = new CookieClient(running.base);
      const first = await client.request('/flash');
      expect(first.setCookies.map((c) => c.split('=')[0]).sort()).to.deep.equal(['sid', 'theme']);
      client.cookie = first.setCookies.find((c) => c.startsWith('sid='))!.split(';')[0];
      expect((await client.request('/other')).body).to.equal('ok');
      expect((await client.request('/view')).body).to.equal('low disk');
      expect((await client.request('/view')).body).to.equal('');
    } finally {
      await running.close();
      await manager.close();
    }
  });

  it('a downstream error reaches Koa error handling and saves nothing', async function () {
    const manager = await createManager({ gcInterval: 0 });
    const app = new Koa();
    const seen: Error[] = [];
    app.on('error', (error: Error) => seen.push(error));
    app.use(koaSession(manager));
    app.use(async (ctx) => {
      ctx.session.set('half', 'done');
      throw new Error('handler broke');
    });
    const running = await serve(app);
    try {
      const reply = await new CookieClient(running.base).request('/');
      expect(reply.status).to.equal(500);
      expect(reply.setCookies).to.deep.equal([]);
      expect(seen.map((e) => e.message)).to.deep.equal(['handler broke']);
      expect(await manager.count()).to.equal(0);
    } finally {
      await running.close();
      await manager.close();
    }
  });
});
