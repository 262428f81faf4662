import { expect } from 'chai';
import express, { type ErrorRequestHandler, type Response } from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createManager } from 'sessionkit';
import { expressSession } from 'sessionkit/express';
import { closeServer, CookieClient } from 'sessionkit/testing';
import { describeAdapterFlow, FLOW_ROUTES, type FlowResult, type RunningApp } from './flow.ts';

function send(res: Response, result: FlowResult): void {
  if ('redirect' in result) res.redirect(result.redirect);
  else res.json(result.json);
}

async function serve(app: express.Express): Promise<RunningApp> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}

const quietErrors: ErrorRequestHandler = (_error, _req, res, _next) => {
  res.status(500).send('internal error');
};

describeAdapterFlow('express', async (manager) => {
  const app = express();
  app.use(expressSession(manager));
  app.use(async (req, res, next) => {
    const route = FLOW_ROUTES[req.path];
    if (!route) return next();
    try {
      const query = new URL(req.originalUrl, 'http://localhost').searchParams;
      send(res, await route({ session: req.session, query, flash: () => res.locals.flash }));
    } catch (error) {
      next(error);
    }
  });
  app.use(quietErrors);
  return serve(app);
});

describe('express adapter', function () {
  it('a write followed by res.redirect is visible to the very next request, even when the store is slow', async function () {
    const manager = await createManager({ gcInterval: 0 });
    // Slow every write, so a response sent before the save completes would be caught.
    const set = manager.store.set.bind(manager.store);
    const cas = manager.store.compareAndSet?.bind(manager.store);
    manager.store.set = async (...args) => (await new Promise((r) => setTimeout(r, 50)), set(...args));
    if (cas) manager.store.compareAndSet = async (...args) => (await new Promise((r) => setTimeout(r, 50)), cas(...args));
    const app = express();
    app.use(expressSession(manager));
    app.post('/login', (req, res) => {
      req.session.set('uid', 'u9');
      res.redirect('/me');
    });
    app.get('/me', (req, res) => {
      res.json({ uid: req.session.get('uid') ?? null });
    });
    const running = await serve(app);
    try {
      const client = new CookieClient(running.base);
      for (let i = 0; i < 5; i++) {
        client.cookie = undefined;
        const login = await client.request('/login', { method: 'POST' });
        expect(login.status).to.equal(302);
        expect(JSON.parse((await client.request('/me')).body)).to.deep.equal({ uid: 'u9' });
      }
    } finally {
      await running.close();
      await manager.close();
    }
  });

  it('res.locals.flash is the flash view of the request, for res.render', async function () {
    const manager = await createManager({ gcInterval: 0 });
    const app = express();
    app.use(expressSession(manager));
    app.get('/now', (req, res) => {
      req.session.flash.info('right away', true);
      res.json(res.locals.flash.messages);
    });
    const running = await serve(app);
    try {
      const reply = await new CookieClient(running.base).request('/now');
      expect(JSON.parse(reply.body)).to.deep.equal([{ level: 'info', text: 'right away' }]);
    } finally {
      await running.close();
      await manager.close();
    }
  });
});
