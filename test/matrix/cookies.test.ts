import assert from 'node:assert/strict';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { createManager, SessionError, type Manager, type ManagerOptions, type Session } from 'sessionkit';
import { closeServer, CookieClient, listen, type Reply } from 'sessionkit/testing';
import { renderFlash } from 'sessionkit/templates';

/**
 * The session cookie and the response around it (checklist rows 18, 19, 20 and 56): attributes on
 * every response that sets or clears it, refused cookie settings, flash messages a client cannot
 * forge, and one session cookie however the handler writes its headers.
 */

type Handler = (session: Session, req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

/** ROUTES answer under any prefix, so a cookie Path of /app still reaches them. */
const ROUTES: Record<string, Handler> = {
  set: (s, _req, res) => {
    s.set('user', 'alice');
    res.end('{}');
  },
  regenerate: async (s, _req, res) => {
    await s.regenerate();
    res.end('{}');
  },
  flash: (s, _req, res) => {
    s.flash.error('<img src=x onerror=alert(1)>');
    res.end('{}');
  },
  view: (s, _req, res) => void res.end(JSON.stringify(s.flash.view())),
  keys: (s, _req, res) => void res.end(JSON.stringify(s.keys())),
  logout: async (s, _req, res) => {
    await s.destroy();
    res.end('{}');
  },
  // Row 56: ways a handler writes its headers.
  'tuples': (s, _req, res) => {
    s.set('x', 1);
    res.writeHead(200, [['Set-Cookie', 'theme=dark'], ['Content-Type', 'text/plain']] as unknown as string[]);
    res.end('ok');
  },
  'flat': (s, _req, res) => {
    s.set('x', 1);
    res.writeHead(200, 'Fine', ['Set-Cookie', 'theme=dark', 'Set-Cookie', 'lang=en']);
    res.end('ok');
  },
  'object': (s, _req, res) => {
    s.set('x', 1);
    res.setHeader('Set-Cookie', 'early=1');
    res.writeHead(200, { 'set-cookie': 'theme=dark', 'Content-Type': 'text/plain' });
    res.end('ok');
  },
  'end-twice': (s, _req, res) => {
    s.set('x', 1);
    res.end('first');
    res.end('second');
  },
  'flushed': (s, _req, res) => {
    res.flushHeaders();
    s.set('late', true);
    res.end('late');
  },
  'streamed': (s, _req, res) => {
    res.write('part');
    s.set('late', true);
    res.end();
  },
};

async function serve(manager: Manager): Promise<{ server: Server; base: string }> {
  const middleware = manager.middleware();
  return listen((req, res) =>
    middleware(req, res, async (error?: unknown) => {
      const route = ROUTES[(req.url ?? '').split('/').pop()!];
      if (error || !route) {
        res.statusCode = error ? 500 : 404;
        res.end(String(error ?? ''));
        return;
      }
      await route((req as IncomingMessage & { session: Session }).session, req, res);
    }),
  );
}

/** Cookie is one Set-Cookie line split into its name, value and attributes (names lowercased). */
interface Cookie {
  name: string;
  value: string;
  attributes: Map<string, string>;
}

function parseSetCookie(line: string): Cookie {
  const [pair, ...rest] = line.split('; ');
  const eq = pair!.indexOf('=');
  const attributes = new Map(rest.map((part) => {
    const at = part.indexOf('=');
    return at === -1 ? [part.toLowerCase(), ''] : [part.slice(0, at).toLowerCase(), part.slice(at + 1)];
  }));
  return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attributes };
}

const clientWith = (base: string, cookie: string) => {
  const client = new CookieClient(base);
  client.cookie = cookie;
  return client;
};

/** sessionCookies returns the Set-Cookie lines of `reply` that carry the session cookie. */
const sessionCookies = (reply: Reply, name: string) => reply.setCookies.map(parseSetCookie).filter((c) => c.name === name);

describe('the session cookie and the response around it', function () {
  this.timeout(20_000);

  const SETUPS: [string, ManagerOptions][] = [
    ['defaults', {}],
    ['secure, strict, a domain and a path', { secure: true, sameSite: 'strict', domain: 'example.com', cookiePath: '/app', cookieName: '__Secure-sid' }],
    ['__Host- prefix, signed', { secure: true, cookieName: '__Host-sid', secret: 'host-prefix-secret-0123456789abcdef' }],
  ];

  for (const [label, options] of SETUPS) {
    it(`every cookie set or cleared carries the configured attributes and Cache-Control: no-store (${label})`, async function () {
      // Row 18: create, regenerate, flash and logout.
      const manager = await createManager({ ...options, gcInterval: 0 });
      const { server, base } = await serve(manager);
      const { cookieName, cookiePath, domain, secure, sameSite } = manager.options;
      try {
        const client = new CookieClient(base);
        const flashOnly = new CookieClient(base);
        const replies: [string, Reply][] = [];
        for (const [who, path] of [[client, 'set'], [client, 'regenerate'], [flashOnly, 'flash'], [client, 'logout']] as const) {
          replies.push([path, await who.request(`${cookiePath.replace(/\/$/, '')}/${path}`)]);
        }
        for (const [path, reply] of replies) {
          const cookies = sessionCookies(reply, cookieName);
          assert.equal(cookies.length, 1, `${path}: exactly one session cookie`);
          const { value, attributes } = cookies[0]!;
          assert.equal(reply.headers.get('cache-control'), 'no-store', path);
          assert.equal(attributes.get('path'), cookiePath, path);
          assert.equal(attributes.get('domain'), domain, `${path}: Domain only when configured`);
          assert.equal(attributes.has('httponly'), true, path);
          assert.equal(attributes.has('secure'), secure, path);
          assert.equal(attributes.get('samesite'), { lax: 'Lax', strict: 'Strict', none: 'None' }[sameSite as string], path);
          if (path === 'logout') {
            assert.equal(value, '', 'the clearing cookie is empty');
            assert.equal(attributes.get('max-age'), '0');
            assert.equal(attributes.get('expires'), 'Thu, 01 Jan 1970 00:00:00 GMT');
          } else {
            assert.match(value, manager.options.secrets.length ? /^[0-9a-f]{32}\.[\w-]{43}$/ : /^[0-9a-f]{32}$/, path);
            assert.ok(!attributes.has('max-age') && !attributes.has('expires'), `${path}: a browser-session cookie by default`);
          }
        }
        const [created, regenerated] = [replies[0]![1], replies[1]![1]].map((reply) => sessionCookies(reply, cookieName)[0]!.value);
        assert.notEqual(regenerated, created, 'regenerate sends the new id');
      } finally {
        await closeServer(server);
        await manager.close();
      }
    });
  }

  it('a signed cookie loads its session only with an intact signature of a secret in the rotation, and an old one is re-signed', async function () {
    // Row 16 through the middleware; test/core/cookie.test.ts checks unsign itself.
    const [current, old, stranger] = ['current-secret-0123456789abcdefgh', 'older-secret-0123456789abcdefghij', 'stranger-secret-0123456789abcdefg'];
    const before = await createManager({ secret: old, gcInterval: 0 });
    const first = await serve(before);
    const client = new CookieClient(first.base);
    await client.request('/set');
    const oldCookie = client.cookie!;
    await closeServer(first.server);
    const manager = await createManager({ secret: [current, old], gcInterval: 0, provider: { open: async () => before.store } });
    const { server, base } = await serve(manager);
    try {
      const value = oldCookie.slice('sid='.length);
      const [id, mac] = value.split('.') as [string, string];
      const other = await createManager({ secret: stranger, gcInterval: 0 });
      const forged = other.cookieFor(id).split(';')[0]!.slice('sid='.length);
      await other.close();
      const bad = [`${value}x`, `x${value}`, `${value}.x`, `${id}.${mac.slice(0, -1)}`, `${id}.${mac}${mac}`, `${id}.`, id, `${id}.${'A'.repeat(43)}`, forged];
      for (const variant of bad) {
        const reply = await clientWith(base, `sid=${variant}`).request('/keys');
        assert.equal(reply.status, 200, variant);
        assert.deepEqual(JSON.parse(reply.body), [], `${variant} loads nothing`);
        assert.deepEqual(reply.setCookies, [], `${variant} gets no cookie`);
      }
      const rotated = await clientWith(base, oldCookie).request('/keys');
      assert.deepEqual(JSON.parse(rotated.body), ['user']);
      const [resigned] = sessionCookies(rotated, 'sid');
      assert.ok(resigned, 'the old signature loads the session and is replaced');
      assert.equal(resigned.value, manager.cookieFor(id).split(';')[0]!.slice('sid='.length));
      assert.notEqual(resigned.value, value);
    } finally {
      await closeServer(server);
      await manager.close();
      await before.close();
    }
  });

  it('cookie names, paths and domains that could break the header are refused at startup, and so are short secrets', async function () {
    // Rows 17 and 19, beyond the cases of test/core/manager.test.ts.
    const bad: ManagerOptions[] = [
      { cookieName: 'a=b' }, { cookieName: 'sid\r\nX-Evil: 1' }, { cookieName: 'sid\0' }, { cookieName: 'a,b' }, { cookieName: '"sid"' }, { cookieName: '' },
      { cookiePath: '/a b' }, { cookiePath: '/a\rb' }, { cookiePath: '/a;b' }, { cookiePath: 'relative' },
      { domain: 'a.com\nX: 1' }, { domain: 'a.com=1' }, { domain: 'a.com/x' }, { domain: 'a .com' },
      { secret: 'x'.repeat(31) }, { secret: ['rotation-secret-0123456789abcdefgh', 'short-TOPSECRET'] },
    ];
    for (const options of bad) {
      const error = await createManager({ ...options, gcInterval: 0 }).then(
        () => assert.fail(`accepted ${JSON.stringify(options)}`),
        (e: unknown) => e as SessionError,
      );
      assert.equal(error.code, 'ERR_SESSION_CONFIG', JSON.stringify(options));
      assert.ok(!error.message.includes('TOPSECRET') && !error.message.includes('x'.repeat(31)), error.message);
    }
  });

  describe('flash and header writing through the middleware', function () {
    let manager: Manager;
    let server: Server;
    let base: string;

    before(async function () {
      manager = await createManager({ gcInterval: 0 });
      ({ server, base } = await serve(manager));
    });
    after(async function () {
      await closeServer(server);
      await manager.close();
    });

    it('flash cookies a client sends are ignored, and a stored flash renders escaped, once', async function () {
      // Row 20: flash messages live in the server-side session; nothing the client sends becomes one.
      const forger = new CookieClient(base);
      forger.cookie = 'flash=success%3D%3Cscript%3E; macaron_flash=error%3Dhi; _flash=x; sid_flash=y';
      const view = JSON.parse((await forger.request('/view')).body) as { messages: unknown[] };
      assert.deepEqual(view.messages, []);
      const client = new CookieClient(base);
      await client.request('/flash');
      const html = renderFlash(JSON.parse((await client.request('/view')).body));
      assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;') && !html.includes('<img'), html);
      assert.deepEqual((JSON.parse((await client.request('/view')).body) as { messages: unknown[] }).messages, [], 'shown once');
    });

    for (const path of ['tuples', 'flat', 'object']) {
      it(`a handler passing cookies to writeHead (${path}) keeps them, and the response carries exactly one session cookie`, async function () {
        // Row 56 (CVE-2025-7339 class): header lists as tuples, flat arrays or objects.
        const reply = await new CookieClient(base).request(`/${path}`);
        assert.equal(reply.status, 200);
        assert.equal(reply.body, 'ok');
        const names = reply.setCookies.map((line) => line.split('=', 1)[0]).sort();
        assert.equal(names.filter((n) => n === 'sid').length, 1, JSON.stringify(reply.setCookies));
        assert.ok(names.includes('theme'), JSON.stringify(reply.setCookies));
        assert.equal(reply.headers.get('s'), null, 'no header made of a split string');
        const client = new CookieClient(base);
        client.cookie = reply.setCookies.find((line) => line.startsWith('sid='))!.split(';')[0];
        assert.equal((await client.request('/view')).status, 200);
      });
    }

    it('res.end called twice sends one response with one session cookie', async function () {
      const reply = await rawGet(base, '/end-twice');
      assert.match(reply, /^HTTP\/1\.1 200/);
      assert.equal(reply.match(/^set-cookie: sid=/gim)?.length, 1);
      assert.equal(reply.match(/HTTP\/1\.1/g)?.length, 1, 'one response');
      assert.ok(reply.includes('first') && !reply.includes('second'));
    });

    for (const path of ['flushed', 'streamed']) {
      it(`a session written after the headers went out (${path}) throws nothing and adds no late cookie`, async function () {
        const reply = await new CookieClient(base).request(`/${path}`);
        assert.equal(reply.status, 200);
        assert.deepEqual(reply.setCookies, []);
      });
    }
  });
});

/** rawGet sends a GET over a plain socket and returns every byte the server wrote before closing. */
async function rawGet(base: string, path: string): Promise<string> {
  const socket = connect(Number(new URL(base).port), '127.0.0.1');
  socket.end(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  let text = '';
  for await (const chunk of socket) text += String(chunk);
  return text;
}
