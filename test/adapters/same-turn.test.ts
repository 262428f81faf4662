import { expect } from 'chai';
import Fastify from 'fastify';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { createManager, SessionError, type Manager, type ManagerOptions, type Store } from 'sessionkit';
import { expressSession } from 'sessionkit/express';
import { fastifySession } from 'sessionkit/fastify';
import 'sessionkit/providers/memory';

/** exchange makes a node request carrying `cookie` and its response, as a server would get them. */
function exchange(cookie?: string): { req: IncomingMessage; res: ServerResponse } {
  const req = new IncomingMessage(new Socket());
  if (cookie !== undefined) req.headers.cookie = cookie;
  return { req, res: new ServerResponse(req) };
}

/** getNowFails is a store that reads synchronously and whose reads fail, as a broken in-process store would. */
function getNowFails(): Store {
  return {
    get: async () => undefined,
    getNow: () => {
      throw new Error('disk on fire');
    },
    set: async () => undefined,
    destroy: async () => undefined,
  };
}

describe('loading and saving in the same turn with a store that answers synchronously (Store.getNow, Store.compareAndSetNow)', function () {
  const managers: Manager[] = [];
  async function open(options: ManagerOptions): Promise<Manager> {
    const manager = await createManager({ gcInterval: 0, ...options });
    managers.push(manager);
    return manager;
  }
  afterEach(async function () {
    await Promise.all(managers.splice(0).map((m) => m.close()));
  });

  it('the Express middleware goes on before it returns, with the stored session or a fresh one', async function () {
    const manager = await open({ provider: 'memory' });
    const first = await manager.load(exchange().req);
    first.set('n', 1);
    await first.release();
    const cookie = manager.cookieFor(first.id).split(';')[0]!;
    for (const [given, expected] of [[cookie, 1], [undefined, undefined]] as const) {
      const { req, res } = exchange(given);
      let nextCalls = 0;
      expressSession(manager)(req, res, () => nextCalls++);
      expect(nextCalls, 'next called in the same turn').to.equal(1);
      expect((req as unknown as { session: { get(key: string): unknown } }).session.get('n')).to.equal(expected);
    }
  });

  it('a read that throws goes to next(err) as a store error naming the provider, or with onStoreError "continue" gives a detached session', async function () {
    const failing = await open({ provider: { open: async () => getNowFails() } });
    const { req, res } = exchange(`sid=${'a'.repeat(32)}`);
    const errors: unknown[] = [];
    expressSession(failing)(req, res, (error) => errors.push(error));
    expect(errors).to.have.length(1);
    expect(errors[0]).to.be.instanceOf(SessionError).with.property('code', 'ERR_SESSION_STORE');
    expect((errors[0] as Error).message).to.match(/^session\/custom: load failed/);
    expect(await failing.load(req).catch((e: unknown) => e), 'manager.load rejects, never throws').to.be.instanceOf(SessionError);

    const reported: Error[] = [];
    const lenient = await open({ provider: { open: async () => getNowFails() }, onStoreError: 'continue', onError: (e) => reported.push(e) });
    const second = exchange(`sid=${'a'.repeat(32)}`);
    const calls: unknown[] = [];
    expressSession(lenient)(second.req, second.res, (error) => calls.push(error));
    expect(calls).to.deep.equal([undefined]);
    expect(reported).to.have.length(1);
    expect((second.req as unknown as { session: { isNew: boolean } }).session.isNew).to.equal(true);
  });

  it('a write is saved in the same turn, and the response ends in that turn\'s check phase: the next read sees it without waiting', async function () {
    const manager = await open({ provider: 'memory' });
    const { req, res } = exchange();
    expressSession(manager)(req, res, () => {
      (req as unknown as { session: { set(key: string, value: unknown): void } }).session.set('n', 7);
      res.end('ok');
    });
    expect(res.writableEnded, 'the end waits for the check phase').to.equal(false);
    const next = exchange(manager.cookieFor(String((req as unknown as { sessionID: string }).sessionID)).split(';')[0]);
    expressSession(manager)(next.req, next.res, () => undefined);
    expect((next.req as unknown as { session: { get(key: string): unknown } }).session.get('n'), 'saved before end() returned').to.equal(7);
    await new Promise(setImmediate);
    expect(res.writableEnded, 'ended in the check phase').to.equal(true);
    expect(String(res.getHeader('set-cookie'))).to.match(/^sid=/);
  });

  it('a save whose record changed meanwhile falls back to the full save and merges, losing no update', async function () {
    const manager = await open({ provider: 'memory' });
    const first = await manager.load(exchange().req);
    first.set('count', 0);
    await first.release();
    const cookie = manager.cookieFor(first.id).split(';')[0]!;
    const [a, b] = [await manager.load(exchange(cookie).req), await manager.load(exchange(cookie).req)];
    a.increment('count');
    b.increment('count');
    await a.release();
    await b.release();
    expect((await manager.load(exchange(cookie).req)).get('count')).to.equal(2);
  });

  it('a value that is not JSON still fails the release with the error naming it', async function () {
    const manager = await open({ provider: 'memory' });
    const session = await manager.load(exchange().req);
    session.set('when', 'now');
    const value = { big: 1 as unknown };
    session.set('bad', value);
    value.big = 10n;
    const error = await session.release().then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(SessionError).with.property('code', 'ERR_SESSION_INVALID_VALUE');
    expect((error as Error).message).to.include('bad.big');
  });

  it('a get that throws instead of rejecting fails the load as a store error too, or gives a detached session with onStoreError "continue"', async function () {
    const throwing = (): Store => ({ ...getNowFails(), getNow: undefined, get: () => { throw new Error('disk on fire'); } });
    const strict = await open({ provider: { open: async () => throwing() } });
    const error = await strict.load(exchange(`sid=${'a'.repeat(32)}`).req).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(SessionError).with.property('code', 'ERR_SESSION_STORE');
    const lenient = await open({ provider: { open: async () => throwing() }, onStoreError: 'continue', onError: () => undefined });
    expect((await lenient.load(exchange(`sid=${'a'.repeat(32)}`).req)).isNew).to.equal(true);
  });

  it('on Fastify a read that throws answers 500 through the error handler', async function () {
    const manager = await open({ provider: { open: async () => getNowFails() } });
    const app = Fastify();
    await app.register(fastifySession, { manager });
    app.get('/', async () => 'never');
    const reply = await app.inject({ url: '/', headers: { cookie: `sid=${'a'.repeat(32)}` } });
    expect(reply.statusCode).to.equal(500);
    expect(reply.json().message).to.match(/^session\/custom: load failed/);
    await app.close();
  });
});
