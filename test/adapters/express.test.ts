import { expect } from 'chai';
import express, { type ErrorRequestHandler, type Response } from 'express';
import { ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createManager, type Manager } from 'sessionkit';
import { expressSession } from 'sessionkit/express';
import { closeServer, CookieClient } from 'sessionkit/testing';
import { describeAdapterFlow, FLOW_ROUTES, type FlowResult, type RunningApp } from './flow.ts';

function send(res: Response, result: FlowResult): void {
  if ('redirect' in result) res.redirect(result.redirect);
  else res.set(result.headers ?? {}).json(result.json);
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

/** slowManager is a memory Manager whose every write takes 50 ms, so a response sent before its save completes is caught. */
async function slowManager() {
  const manager = await createManager({ gcInterval: 0 });
  const set = manager.store.set.bind(manager.store);
  const cas = manager.store.compareAndSet?.bind(manager.store);
  manager.store.set = async (...args) => (await new Promise((r) => setTimeout(r, 50)), set(...args));
  if (cas) manager.store.compareAndSet = async (...args) => (await new Promise((r) => setTimeout(r, 50)), cas(...args));
  return manager;
}

/**
 * expectLoginVisible serves `mount(app)`, which must route POST `<prefix>/login` (sets uid u9 and
 * redirects) and GET `<prefix>/me`, and checks five times over that the redirect's target sees the write.
 */
async function expectLoginVisible(mount: (app: express.Express, manager: Manager) => void, prefix = ''): Promise<void> {
  const manager = await slowManager();
  const app = express();
  mount(app, manager);
  const running = await serve(app);
  try {
    const client = new CookieClient(running.base);
    for (let i = 0; i < 5; i++) {
      client.cookie = undefined;
      const login = await client.request(`${prefix}/login`, { method: 'POST' });
      expect(login.status).to.equal(302);
      expect(login.headers.getSetCookie()).to.have.length(1);
      expect(JSON.parse((await client.request(`${prefix}/me`)).body)).to.deep.equal({ uid: 'u9' });
    }
  } finally {
    await running.close();
    await manager.close();
  }
}

/** loginRoutes adds POST /login (sets uid u9, redirects to me) and GET /me to `router`. */
function loginRoutes(router: express.Router, me = '/me'): void {
  router.post('/login', (req, res) => {
    req.session.set('uid', 'u9');
    res.redirect(me);
  });
  router.get('/me', (req, res) => {
    res.json({ uid: req.session.get('uid') ?? null });
  });
}

describe('express adapter', function () {
  it('a write followed by res.redirect is visible to the very next request, even when the store is slow', async function () {
    await expectLoginVisible((app, manager) => {
      app.use(expressSession(manager));
      loginRoutes(app);
    });
  });

  it('a write inside a mounted sub-app is saved before its response ends, with its cookie', async function () {
    await expectLoginVisible((app, manager) => {
      app.use(expressSession(manager));
      const sub = express();
      loginRoutes(sub, '/sub/me');
      app.use('/sub', sub);
    }, '/sub');
  });

  it('a response whose end another middleware wrapped first, around node\'s own end, still ends after the save', async function () {
    // Such a wrapper, made before the session hooked anything, would call node's end directly.
    const nodeEnd = ServerResponse.prototype.end;
    let wrapped = 0;
    await expectLoginVisible((app, manager) => {
      app.use((_req, res: ServerResponse, next) => {
        res.end = function (this: ServerResponse, ...args: unknown[]) {
          wrapped++;
          return nodeEnd.apply(this, args as Parameters<ServerResponse['end']>);
        } as ServerResponse['end'];
        next();
      });
      app.use(expressSession(manager));
      loginRoutes(app);
    });
    expect(wrapped).to.equal(10);
  });

  it('an end that node refuses (a number for a body) answers 500 through the error handler, on a store that saves at once and on one that waits', async function () {
    for (const manager of [await createManager({ gcInterval: 0 }), await slowManager()]) {
      const errors: unknown[] = [];
      const app = express();
      app.use(expressSession(manager));
      app.get('/bad', (req, res) => {
        req.session.set('n', 1);
        (res.end as (chunk: unknown) => void)(42);
      });
      app.get('/n', (req, res) => void res.json(req.session.get('n') ?? null));
      app.use(((error, _req, res, _next) => {
        errors.push((error as NodeJS.ErrnoException).code);
        res.status(500).send('internal error');
      }) as ErrorRequestHandler);
      const server = await serve(app);
      try {
        const client = new CookieClient(server.base);
        const reply = await client.request('/bad');
        expect(reply.status).to.equal(500);
        expect(errors).to.deep.equal(['ERR_INVALID_ARG_TYPE']);
        // The session was saved before the end was made, and the 500 carries its cookie.
        expect((await client.request('/n')).body).to.equal('1');
      } finally {
        await server.close();
        await manager.close();
      }
    }
  });

  it('adds no property to req or res (session, writeHead and end live on the prototypes), and an app without the middleware answers as before', async function () {
    const manager = await createManager({ gcInterval: 0 });
    const withSession = express();
    withSession.use(expressSession(manager));
    const own = (req: express.Request, res: express.Response) => [Object.hasOwn(req, 'session'), Object.hasOwn(res, 'writeHead'), Object.hasOwn(res, 'end')];
    withSession.get('/own', (req, res) => {
      req.session.set('seen', true);
      res.json([...own(req, res), req.session.get('seen')]);
    });
    const plain = express();
    plain.get('/own', (req, res) => {
      res.cookie('plain', '1').json([...own(req, res), (req as { session?: unknown }).session ?? null]);
    });
    const servers = [await serve(withSession), await serve(plain)];
    try {
      const [sessionReply, plainReply] = await Promise.all(servers.map((s) => new CookieClient(s.base).request('/own')));
      expect(JSON.parse(sessionReply!.body)).to.deep.equal([false, false, false, true]);
      expect(sessionReply!.headers.getSetCookie()).to.have.length(1);
      expect(JSON.parse(plainReply!.body)).to.deep.equal([false, false, false, null]);
      expect(plainReply!.headers.getSetCookie()).to.deep.equal(['plain=1; Path=/']);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
      await manager.close();
    }
  });

  it('a request that has its session already keeps it: the middleware mounted twice, or another session middleware first', async function () {
    const manager = await createManager({ gcInterval: 0 });
    const app = express();
    app.use((req, _res, next) => {
      // Another session middleware before sessionkit: its session stays, unless it left none.
      if (req.path === '/foreign') (req as { session?: unknown }).session = { foreign: true };
      if (req.path === '/unset') (req as { session?: unknown }).session = undefined;
      next();
    });
    app.use(expressSession(manager));
    app.use(expressSession(manager));
    app.get('/twice', (req, res) => void res.json(req.session.increment('n')));
    app.get('/foreign', (req, res) => void res.json(req.session));
    app.get('/unset', (req, res) => void res.json(req.session.increment('n')));
    const running = await serve(app);
    try {
      const client = new CookieClient(running.base);
      const first = await client.request('/twice');
      expect(first.headers.getSetCookie()).to.have.length(1);
      expect((await client.request('/twice')).body).to.equal('2');
      const foreign = await new CookieClient(running.base).request('/foreign');
      expect(JSON.parse(foreign.body)).to.deep.equal({ foreign: true });
      expect(foreign.headers.getSetCookie()).to.deep.equal([]);
      const unset = await new CookieClient(running.base).request('/unset');
      expect(unset.body).to.equal('1');
      expect(unset.headers.getSetCookie()).to.have.length(1);
      expect(await manager.count()).to.equal(2);
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
