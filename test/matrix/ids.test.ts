import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManager, type Manager, type RejectedId, type Session } from 'sessionkit';
import { closeServer, CookieClient } from 'sessionkit/testing';

/**
 * What the Manager makes of the cookies a client sends (checklist rows 2, 3 and 4): a flood of
 * cookieless requests stores nothing, empty and repeated cookies are read one fixed way, and a
 * 64 KiB cookie is a fresh session. The per-provider versions of rows 1, 2, 4, 5, 6 and 9 live in
 * describeManager (src/testing/manager-suite/).
 */

/** serve runs the session middleware on a loopback server; GET /get answers the session's data, /set?k=v writes. */
async function serve(manager: Manager, maxHeaderSize?: number): Promise<{ server: Server; base: string }> {
  const middleware = manager.middleware();
  const server = createServer({ maxHeaderSize }, (req, res) =>
    middleware(req, res, (error?: unknown) => {
      if (error) {
        res.statusCode = 500;
        res.end(String(error));
        return;
      }
      const session = (req as IncomingMessage & { session: Session }).session;
      const url = new URL(req.url ?? '/', 'http://x');
      for (const [k, v] of url.searchParams) session.set(k, v);
      res.end(JSON.stringify(Object.fromEntries(session.keys().map((k) => [k, session.get(k)]))));
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** rawRequest sends `head` (request line and headers, CRLF-separated) as is and returns the status and body. */
async function rawRequest(base: string, head: string[]): Promise<{ status: number; body: string }> {
  const { port } = new URL(base);
  const socket = connect(Number(port), '127.0.0.1');
  socket.end([...head, 'Connection: close', '', ''].join('\r\n'));
  let text = '';
  for await (const chunk of socket) text += String(chunk);
  const [headers = '', body = ''] = text.split('\r\n\r\n');
  return { status: Number(headers.split(' ')[1]), body: /transfer-encoding: chunked/i.test(headers) ? body.split('\r\n')[1]! : body };
}

/** middlewareRound runs one cookieless request through `middleware` with in-process request and response objects. */
function middlewareRound(middleware: ReturnType<Manager['middleware']>): Promise<void> {
  return new Promise((resolve, reject) => {
    const headers = new Map<string, unknown>();
    const res = {
      headersSent: false,
      statusCode: 200,
      getHeader: (name: string) => headers.get(name.toLowerCase()),
      setHeader: (name: string, value: unknown) => headers.set(name.toLowerCase(), value),
      writeHead: () => res,
      end: () => (headers.has('set-cookie') ? reject(new Error('a cookieless request got a cookie')) : resolve()),
    };
    const req = { headers: {}, url: '/' } as IncomingMessage;
    middleware(req, res as unknown as ServerResponse, (error?: unknown) => {
      if (error) reject(error);
      else res.end();
    });
  });
}

describe('ids and cookies as the client sends them', function () {
  this.timeout(20_000);

  it('100 000 cookieless requests through the middleware leave the memory and file stores empty', async function () {
    // Row 2 at full size, in process (no sockets), for the two stores that hold sessions locally.
    const dir = await mkdtemp(join(tmpdir(), 'sessionkit-matrix-flood-'));
    try {
      for (const options of [{ provider: 'memory' }, { provider: 'file', providerConfig: join(dir, 'sessions') }]) {
        const rejected: RejectedId[] = [];
        const manager = await createManager({ ...options, gcInterval: 0, onRejectedId: (e) => rejected.push(e) });
        try {
          const middleware = manager.middleware();
          for (let i = 0; i < 100_000; i++) await middlewareRound(middleware);
          assert.equal(await manager.count(), 0, options.provider);
          assert.deepEqual(rejected, []);
        } finally {
          await manager.close();
        }
      }
      assert.deepEqual(await readdir(join(dir, 'sessions')), [], 'no file or directory was made');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('through node:http', function () {
    let manager: Manager;
    let server: Server;
    let base: string;
    const rejected: RejectedId[] = [];
    let alice: string;
    let bob: string;

    before(async function () {
      manager = await createManager({ gcInterval: 0, onRejectedId: (e) => rejected.push(e) });
      ({ server, base } = await serve(manager, 128 * 1024));
      const login = async (name: string) => {
        const client = new CookieClient(base);
        await client.request(`/?user=${name}`);
        return client.cookie!;
      };
      [alice, bob] = [await login('alice'), await login('bob')];
    });
    after(async function () {
      await closeServer(server);
      await manager.close();
    });
    beforeEach(function () {
      rejected.length = 0;
    });

    const read = async (cookie: string) => {
      const client = new CookieClient(base);
      client.cookie = cookie;
      const reply = await client.request('/');
      assert.equal(reply.status, 200, cookie);
      assert.deepEqual(reply.setCookies, [], `${cookie}: a read sets no cookie`);
      return JSON.parse(reply.body) as Record<string, string>;
    };

    it('an empty cookie value counts as no cookie: a fresh session, nothing reported', async function () {
      // Row 3.
      for (const cookie of ['sid=', 'sid=""', 'sid= ', 'other=1; sid=', 'sid']) assert.deepEqual(await read(cookie), {}, cookie);
      assert.deepEqual(rejected, []);
    });

    it('of two sid cookies the first one counts, whether it is valid or not, in one header or two', async function () {
      // Row 3: a fixed choice, so a planted second cookie never decides which session loads.
      const bare = (cookie: string) => cookie.slice('sid='.length);
      assert.deepEqual(await read(`${alice}; ${bob}`), { user: 'alice' });
      assert.deepEqual(await read(`${bob}; ${alice}`), { user: 'bob' });
      assert.deepEqual(await read(`sid=../../etc/passwd; ${alice}`), {});
      assert.deepEqual(await read(`SID=${bare(bob)}; other=${bare(bob)}; ${alice}`), { user: 'alice' });
      const twoHeaders = await rawRequest(base, ['GET / HTTP/1.1', 'Host: x', `Cookie: ${alice}`, `Cookie: ${bob}`]);
      assert.deepEqual({ status: twoHeaders.status, body: JSON.parse(twoHeaders.body) }, { status: 200, body: { user: 'alice' } });
      assert.deepEqual(rejected.map((e) => e.reason), ['malformed']);
    });

    it('an id in the query string or in a header is ignored: only the cookie carries it unless idHeader is configured', async function () {
      // OWASP: "avoid accepting" ids from another exchange mechanism.
      const id = alice.slice('sid='.length);
      for (const [path, headers] of [[`/?sid=${id}`, {}], ['/', { 'x-session-id': id }], ['/', { authorization: `Bearer ${id}` }]] as const) {
        const reply = await new CookieClient(base).request(path, { headers });
        assert.equal(JSON.parse(reply.body).user, undefined, `${path} ${JSON.stringify(headers)}`);
      }
      assert.deepEqual(rejected, []);
    });

    it('a 64 KiB cookie gives a fresh session, and a server with the default header limit refuses it before sessionkit runs', async function () {
      // Row 4: the longest values. Lengths 1, 2, 15, 17 and 4 kB run on every provider in describeManager.
      for (const value of ['a'.repeat(64 * 1024), `${alice}; pad=${'x'.repeat(64 * 1024)}`]) {
        const client = new CookieClient(base);
        client.cookie = value.startsWith('sid=') ? value : `sid=${value}`;
        const reply = await client.request('/?fresh=1');
        assert.equal(reply.status, 200);
        assert.deepEqual(JSON.parse(reply.body), { fresh: '1' }, 'not alice: a Cookie header above 16 KiB is not read');
        assert.ok(!reply.setCookies[0]!.includes('aaaa'));
      }
      const plain = await serve(manager);
      try {
        const client = new CookieClient(plain.base);
        client.cookie = `sid=${'a'.repeat(64 * 1024)}`;
        assert.equal((await client.request('/')).status, 431);
      } finally {
        await closeServer(plain.server);
      }
    });
  });
});
