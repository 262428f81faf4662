import { expect } from 'chai';
import type { ServerResponse } from 'node:http';
import { createManager, type SessionError } from 'sessionkit';
import { closeServer, CookieClient, listen } from 'sessionkit/testing';
import { describeAdapterFlow, FLOW_ROUTES, type FlowResult } from './flow.ts';

function send(res: ServerResponse, result: FlowResult): void {
  if ('redirect' in result) {
    res.writeHead(302, { location: result.redirect });
    res.end();
  } else {
    res.writeHead(200, { 'content-type': 'application/json', ...result.headers });
    res.end(JSON.stringify(result.json));
  }
}

describeAdapterFlow('node:http', async (manager) => {
  const { server, base } = await listen(async (req, res) => {
    try {
      const session = await manager.start(req, res);
      const url = new URL(req.url ?? '/', 'http://localhost');
      const route = FLOW_ROUTES[url.pathname];
      const result = route ? await route({ session, query: url.searchParams, flash: () => session.flash.view() }) : undefined;
      await session.release();
      if (result) send(res, result);
      else res.writeHead(404).end();
    } catch {
      res.writeHead(500).end('internal error');
    }
  });
  return { base, close: () => closeServer(server) };
});

describe('node:http start(req, res)', function () {
  it('saves before the response ends, so a handler that never calls release() loses nothing', async function () {
    const manager = await createManager({ gcInterval: 0 });
    const { server, base } = await listen(async (req, res) => {
      const session = await manager.start(req, res);
      const visits = session.increment('visits');
      res.end(String(visits));
    });
    const client = new CookieClient(base);
    for (let i = 1; i <= 3; i++) expect((await client.request('/')).body).to.equal(String(i));
    await closeServer(server);
    await manager.close();
  });

  /** refusedEnd serves a handler that writes the session, lets `before` act on the response, then ends it with a number, which node refuses. */
  async function refusedEnd(before: (res: ServerResponse) => void = () => {}) {
    const errors: Error[] = [];
    const manager = await createManager({ gcInterval: 0, onError: (e) => errors.push(e) });
    const { server, base } = await listen(async (req, res) => {
      const session = await manager.start(req, res);
      session.set('n', 1);
      before(res);
      (res.end as (chunk: unknown) => void)(42);
    });
    return { errors, manager, server, base };
  }

  it('an end that node refuses (a number for a body) answers 500 and reaches onError, the process unharmed', async function () {
    const { errors, manager, server, base } = await refusedEnd();
    const reply = await new CookieClient(base).request('/');
    expect(reply.status).to.equal(500);
    expect(errors.map((e) => (e as NodeJS.ErrnoException).code)).to.deep.equal(['ERR_INVALID_ARG_TYPE']);
    await closeServer(server);
    await manager.close();
  });

  it('an end that node refuses after the headers went out reaches onError and cuts the response, the process unharmed', async function () {
    const { errors, manager, server, base } = await refusedEnd((res) => res.write('partial'));
    const cut = () => fetch(`${base}/`).then((reply) => reply.text()).then(() => undefined, (error: Error) => error);
    expect(await cut(), 'the client sees the response cut').to.be.instanceOf(Error);
    expect(await cut(), 'and the server goes on serving').to.be.instanceOf(Error);
    expect(errors.map((e) => (e as NodeJS.ErrnoException).code)).to.deep.equal(['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_TYPE']);
    await closeServer(server);
    await manager.close();
  });

  it('a save that fails answers 500 with no cookie for the unstored session, and reaches onError', async function () {
    const errors: Error[] = [];
    const manager = await createManager({ gcInterval: 0, maxRecordSize: 100, onError: (e) => errors.push(e) });
    const { server, base } = await listen(async (req, res) => {
      const session = await manager.start(req, res);
      session.set('big', 'x'.repeat(200));
      res.setHeader('content-length', 2);
      res.end('ok');
    });
    const reply = await new CookieClient(base).request('/');
    expect(reply.status).to.equal(500);
    expect(reply.setCookies).to.deep.equal([]);
    expect(errors.map((e) => (e as SessionError).code)).to.deep.equal(['ERR_SESSION_TOO_LARGE']);
    await closeServer(server);
    await manager.close();
  });

  it('a handler that releases itself and answers 500 after a failed save sends no cookie either', async function () {
    const errors: Error[] = [];
    const manager = await createManager({ gcInterval: 0, maxRecordSize: 100, onError: (e) => errors.push(e) });
    const { server, base } = await listen(async (req, res) => {
      const session = await manager.start(req, res);
      session.set('big', 'x'.repeat(200));
      try {
        await session.release();
        res.end('saved');
      } catch {
        res.writeHead(500).end('too large');
      }
    });
    const reply = await new CookieClient(base).request('/');
    expect(reply.status).to.equal(500);
    expect(reply.setCookies).to.deep.equal([]);
    expect(errors, 'the save tried again as the response ended is reported').to.have.length(1);
    await closeServer(server);
    await manager.close();
  });
});
