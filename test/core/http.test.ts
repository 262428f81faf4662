import { expect } from 'chai';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createManager, type Manager, type Session } from 'sessionkit';
import { closeServer, CookieClient, listen } from 'sessionkit/testing';

describe('node:http integration', function () {
  let manager: Manager;
  let server: Server;
  let base: string;
  let handler: (req: IncomingMessage, res: ServerResponse, session: Session) => Promise<void> | void;

  before(async function () {
    manager = await createManager({});
    ({ server, base } = await listen(async (req, res) => {
      const session = await manager.start(req, res);
      await handler(req, res, session);
    }));
  });
  after(async function () {
    await closeServer(server);
    await manager.close();
  });

  it('start and release persist a write, and the cookie rides on the response', async function () {
    handler = async (_req, res, session) => {
      session.set('n', session.getNumber('n') + 1);
      await session.release();
      res.end(String(session.get('n')));
    };
    const client = new CookieClient(base);
    expect((await client.request('/')).setCookies).to.have.length(1);
    const second = await client.request('/');
    expect(second.body).to.equal('2');
    expect(second.setCookies).to.deep.equal([]);
  });

  it('responses that set the session cookie carry Cache-Control: no-store', async function () {
    handler = async (_req, res, session) => {
      session.set('x', 1);
      await session.release();
      res.end('ok');
    };
    const reply = await new CookieClient(base).request('/');
    expect(reply.headers.get('cache-control')).to.equal('no-store');
  });

  it('cookies passed to writeHead as a raw header list or an object are kept beside the session cookie', async function () {
    for (const style of ['array', 'object']) {
      handler = async (_req, res, session) => {
        session.set('x', 1);
        await session.release();
        if (style === 'array') res.writeHead(200, ['Set-Cookie', 'theme=dark', 'Content-Type', 'text/plain']);
        else res.writeHead(200, { 'Set-Cookie': ['theme=dark'], 'Content-Type': 'text/plain' });
        res.end('ok');
      };
      const reply = await new CookieClient(base).request('/');
      expect(reply.status, style).to.equal(200);
      expect(reply.setCookies.map((c) => c.split('=')[0]).sort(), style).to.deep.equal(['sid', 'theme']);
    }
  });

  it('a session written after the headers went out neither throws nor tries to add a late cookie', async function () {
    handler = async (_req, res, session) => {
      res.write('streaming');
      session.set('late', true);
      await session.release();
      res.end();
    };
    const reply = await new CookieClient(base).request('/');
    expect(reply.body).to.equal('streaming');
    expect(reply.setCookies).to.deep.equal([]);
  });

  type WithSession = IncomingMessage & { session: Session };
  type Middleware = ReturnType<Manager['middleware']>;

  /** behindMiddleware serves `handler` behind a fresh manager.middleware() while `use` runs against it. */
  async function behindMiddleware(handler: (req: WithSession, res: ServerResponse, middleware: Middleware) => void, use: (client: CookieClient) => Promise<void>): Promise<void> {
    const middleware = manager.middleware();
    const { server: other, base: otherBase } = await listen((req, res) => middleware(req, res, () => handler(req as WithSession, res, middleware)));
    try {
      await use(new CookieClient(otherBase));
    } finally {
      await closeServer(other);
    }
  }

  it('middleware: calling res.end twice sends one response with one session cookie', async function () {
    await behindMiddleware(
      (req, res) => {
        req.session.set('x', 1);
        res.end('first');
        res.end('second');
      },
      async (client) => {
        const reply = await client.request('/');
        expect(reply.body).to.equal('first');
        expect(reply.setCookies).to.have.length(1);
      },
    );
  });

  it('middleware mounted twice keeps the first session: one cookie, one save', async function () {
    let second: Session | undefined;
    await behindMiddleware(
      (req, res, middleware) => {
        const first = req.session;
        middleware(req, res, () => {
          second = req.session;
          expect(second).to.equal(first);
          second.increment('n');
          res.end('ok');
        });
      },
      async (client) => {
        expect((await client.request('/')).setCookies).to.have.length(1);
        await client.request('/');
        expect(second?.getNumber('n')).to.equal(2);
      },
    );
  });

  it('start() behind the middleware adds no second cookie to the response', async function () {
    await behindMiddleware(
      (req, res) => {
        req.session.set('x', 1);
        void manager.start(req, res).then((late) => {
          late.set('y', 2);
          return late.release().then(() => res.end('ok'));
        });
      },
      async (client) => {
        const reply = await client.request('/');
        expect(reply.body).to.equal('ok');
        expect(reply.setCookies).to.have.length(1);
      },
    );
  });
});
