import { expect } from 'chai';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { createManager, isSessionError, type Manager } from 'sessionkit';
import { expressSession } from 'sessionkit/express';
import { fastifySession } from 'sessionkit/fastify';
import { koaSession } from 'sessionkit/koa';
import { closeServer } from 'sessionkit/testing';

/** setupError returns what `setup` throws, or undefined. */
function setupError(setup: () => unknown): unknown {
  try {
    setup();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('adapters given something other than a Manager', function () {
  // What `createManager(…)` gives without `await`, the usual slip.
  let pending: Promise<Manager>;
  beforeEach(function () {
    pending = createManager({ gcInterval: 0 });
  });
  afterEach(async function () {
    await (await pending).close();
  });

  for (const [name, adapter, call] of [
    ['express', expressSession, 'expressSession(manager)'],
    ['koa', koaSession, 'koaSession(manager)'],
  ] as const) {
    it(`${name}: a Promise fails at setup with ERR_SESSION_CONFIG telling to await createManager`, function () {
      const error = setupError(() => adapter(pending as unknown as Manager));
      expect(isSessionError(error, 'ERR_SESSION_CONFIG')).to.equal(true);
      expect((error as Error).message).to.equal(`session/${name}: ${call} needs a manager from createManager, got a Promise; createManager is async: await it first`);
    });

    it(`${name}: undefined, null, a plain object or another copy's manager fail at setup naming what was given`, function () {
      for (const [value, got] of [
        [undefined, 'undefined'],
        [null, 'null'],
        [{}, 'object'],
        [{ load() {} }, 'a manager of another copy of sessionkit; import createManager and the adapter from one installed copy'],
      ] as const) {
        const error = setupError(() => adapter(value as unknown as Manager));
        expect(isSessionError(error, 'ERR_SESSION_CONFIG'), String(got)).to.equal(true);
        expect((error as Error).message).to.equal(`session/${name}: ${call} needs a manager from createManager, got ${got}`);
      }
    });
  }

  it('fastify: registering with a Promise fails at ready() with the same hint', async function () {
    const app = Fastify();
    app.register(fastifySession, { manager: pending as unknown as Manager });
    const error = await app.ready().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(isSessionError(error, 'ERR_SESSION_CONFIG')).to.equal(true);
    expect((error as Error).message).to.equal('session/fastify: register(fastifySession, { manager }) needs a manager from createManager, got a Promise; createManager is async: await it first');
    await app.close();
  });

  it('koa: nothing is mounted when koaSession is given a Promise', function () {
    const app = new Koa();
    expect(() => app.use(koaSession(pending as unknown as Manager))).to.throw(/await it first/);
    expect(app.middleware).to.have.length(0);
  });

  it('express: app.use(manager.middleware) without the call answers 500 with a SessionError saying so, and the process goes on', async function () {
    const manager = await pending;
    const app = express();
    const seen: unknown[] = [];
    app.use(manager.middleware as unknown as express.RequestHandler);
    app.get('/', (_req, res) => void res.send('unreachable'));
    app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      seen.push(error);
      res.status(500).send('failed');
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/`);
      expect(response.status).to.equal(500);
      expect(await response.text()).to.equal('failed');
      expect(seen).to.have.length(1);
      expect(isSessionError(seen[0], 'ERR_SESSION_CONFIG')).to.equal(true);
      expect((seen[0] as Error).message).to.equal('session: manager.middleware makes the middleware: app.use(manager.middleware()), with the parentheses');
    } finally {
      await closeServer(server);
    }
  });

  it('a real Manager passes every adapter as before', async function () {
    const manager = await pending;
    expect(expressSession(manager)).to.be.a('function');
    expect(koaSession(manager)).to.be.a('function');
    expect(manager.middleware()).to.be.a('function');
    const app = Fastify();
    await app.register(fastifySession, { manager });
    await app.ready();
    await app.close();
  });
});
