// One benchmark server per child process: `node … bench/servers/app.ts <variant> [redisPort]`.
// It listens on an ephemeral loopback port and prints `{"port":N}` on stdout.
//
// Every variant serves the same routes:
//   GET /init   creates a session holding { uid: '12345', count: 0 } and sets its cookie
//   GET /ro     reads `uid` from the session
//   GET /rw     increments `count` in the session and returns the new value
//   GET /count  returns `count` without changing it (used to check for lost updates)
// express-skd-memory (the express-session drop-in, property-style handlers) and koa-sk-memory
// serve the probes (cpu-probe.ts, gc-survival.ts, …) only; the bench's table does not run them.
// Bare variants answer the same routes without any session, as the ceiling; express-floor-memory
// answers them through a minimal session middleware (`floorSession`), to show what a session
// layer doing only the usual work gets against express-session.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

const variant = process.argv[2] ?? '';
const redisPort = Number(process.argv[3] ?? 6379);
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const REDIS_PREFIX = 'sessionkit_bench:';

function announce(server: http.Server): void {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** sessionkitManager opens a Manager over the memory provider or a redis store at `redisPort`. */
async function sessionkitManager(kind: 'memory' | 'redis') {
  const { createManager } = await import('sessionkit');
  if (kind === 'memory') {
    await import('sessionkit/providers/memory');
    return createManager({ provider: 'memory', gcInterval: 0, secret: SECRET });
  }
  await import('sessionkit/providers/redis');
  return createManager({ provider: 'redis', providerConfig: `redis://127.0.0.1:${redisPort}/0?prefix=${REDIS_PREFIX}sk:`, gcInterval: 0, secret: SECRET });
}

/**
 * propertyRoutes serves the routes the express-session way, session data as plain properties:
 * the same handlers for express-session and for sessionkit's property-style variants.
 */
function propertyRoutes(app: import('express').Express): void {
  type Data = { uid?: string; count?: number };
  app.get('/init', (req, res) => {
    const s = req.session as unknown as Data;
    s.uid = '12345';
    s.count = 0;
    res.send('ok');
  });
  app.get('/ro', (req, res) => void res.send(String((req.session as unknown as Data).uid)));
  app.get('/rw', (req, res) => {
    const s = req.session as unknown as Data;
    s.count = (s.count ?? 0) + 1;
    res.send(String(s.count));
  });
  app.get('/count', (req, res) => void res.send(String((req.session as unknown as Data).count ?? 0)));
}

/**
 * floorSession is a minimal Express session middleware, the work every session layer does: the id
 * is the cookie itself (unsigned), the data a JSON string in a Map, `req.session` a property of
 * the request, and `res.end` wrapped to store the data when its JSON changed. No signature, no
 * expiry, no headers, no concurrency control.
 */
function floorSession(app: import('express').Express): void {
  const stored = new Map<string, string>();
  app.use((req, res, next) => {
    const header = req.headers.cookie ?? '';
    const at = header.indexOf('sid=');
    let id = at === -1 ? '' : header.slice(at + 4, at + 36);
    let loaded = stored.get(id);
    if (loaded === undefined) {
      id = randomUUID().replaceAll('-', '');
      loaded = '{}';
      res.setHeader('set-cookie', `sid=${id}; Path=/; HttpOnly`);
    }
    const data = JSON.parse(loaded) as Record<string, unknown>;
    (req as unknown as { session: unknown }).session = data;
    const end = res.end;
    res.end = function (this: typeof res, ...args: unknown[]) {
      const json = JSON.stringify(data);
      if (json !== loaded) stored.set(id, json);
      return end.apply(this, args as Parameters<typeof end>);
    } as typeof end;
    next();
  });
}

async function expressApp(kind: 'bare' | 'floor-memory' | 'sk-memory' | 'sk-redis' | 'skp-memory' | 'skp-redis' | 'skd-memory' | 'es-memory' | 'es-redis'): Promise<Handler> {
  const express = (await import('express')).default;
  const app = express();
  app.set('etag', false);
  app.disable('x-powered-by');
  if (kind === 'bare') {
    app.get('/init', (_req, res) => void res.cookie('sid', 'x').send('ok'));
    app.get('/ro', (_req, res) => void res.send('12345'));
    app.get('/rw', (_req, res) => void res.send('1'));
    app.get('/count', (_req, res) => void res.send('0'));
    return app;
  }
  if (kind === 'sk-memory' || kind === 'sk-redis') {
    const { expressSession } = await import('sessionkit/express');
    const manager = await sessionkitManager(kind === 'sk-memory' ? 'memory' : 'redis');
    app.use(expressSession(manager));
    app.get('/init', (req, res) => {
      req.session.set('uid', '12345');
      req.session.set('count', 0);
      res.send('ok');
    });
    app.get('/ro', (req, res) => void res.send(req.session.getString('uid')));
    app.get('/rw', (req, res) => void res.send(String(req.session.increment('count'))));
    app.get('/count', (req, res) => void res.send(String(req.session.getNumber('count'))));
    return app;
  }
  if (kind === 'skp-memory' || kind === 'skp-redis') {
    const { expressSession } = await import('sessionkit/express');
    const manager = await sessionkitManager(kind === 'skp-memory' ? 'memory' : 'redis');
    app.use(expressSession(manager));
    propertyRoutes(app);
    return app;
  }
  if (kind === 'skd-memory') {
    // The drop-in, as an express-session app switches to it: for the probes, not in the bench's table.
    const dropIn = (await import('sessionkit/express-session')).default;
    app.use(dropIn({ secret: SECRET, resave: false, saveUninitialized: false }));
    propertyRoutes(app);
    return app;
  }
  if (kind === 'floor-memory') {
    floorSession(app);
    propertyRoutes(app);
    return app;
  }
  const session = (await import('express-session')).default;
  let store: import('express-session').Store | undefined;
  if (kind === 'es-redis') {
    const { createClient } = await import('redis');
    const { RedisStore } = await import('connect-redis');
    const client = createClient({ url: `redis://127.0.0.1:${redisPort}` });
    client.on('error', (error: Error) => console.error(error.message));
    await client.connect();
    store = new RedisStore({ client, prefix: `${REDIS_PREFIX}es:` });
  }
  app.use(session({ secret: SECRET, resave: false, saveUninitialized: false, ...(store ? { store } : {}) }));
  propertyRoutes(app);
  return app;
}

async function fastifyServer(kind: 'bare' | 'sk-memory' | 'fs-memory'): Promise<http.Server> {
  const Fastify = (await import('fastify')).default;
  const app = Fastify({ logger: false });
  if (kind === 'bare') {
    app.get('/init', async (_req, reply) => reply.header('set-cookie', 'sid=x').send('ok'));
    app.get('/ro', async () => '12345');
    app.get('/rw', async () => '1');
    app.get('/count', async () => '0');
  } else if (kind === 'sk-memory') {
    const { fastifySession } = await import('sessionkit/fastify');
    const manager = await sessionkitManager('memory');
    await app.register(fastifySession, { manager });
    app.get('/init', async (req) => {
      req.session.set('uid', '12345');
      req.session.set('count', 0);
      return 'ok';
    });
    app.get('/ro', async (req) => req.session.getString('uid'));
    app.get('/rw', async (req) => String(req.session.increment('count')));
    app.get('/count', async (req) => String(req.session.getNumber('count')));
  } else {
    const cookie = (await import('@fastify/cookie')).default;
    const session = (await import('@fastify/session')).default;
    await app.register(cookie);
    await app.register(session, { secret: SECRET, saveUninitialized: false, cookie: { secure: false } });
    type Bag = { get(key: string): unknown; set(key: string, value: unknown): void };
    const bag = (req: unknown) => (req as { session: Bag }).session;
    app.get('/init', async (req) => {
      bag(req).set('uid', '12345');
      bag(req).set('count', 0);
      return 'ok';
    });
    app.get('/ro', async (req) => String(bag(req).get('uid')));
    app.get('/rw', async (req) => {
      const next = Number(bag(req).get('count') ?? 0) + 1;
      bag(req).set('count', next);
      return String(next);
    });
    app.get('/count', async (req) => String(bag(req).get('count') ?? 0));
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  return app.server;
}

async function nodeHandler(kind: 'bare' | 'sk-memory'): Promise<Handler> {
  if (kind === 'bare') {
    return (req, res) => {
      if (req.url === '/init') res.setHeader('set-cookie', 'sid=x');
      res.end(req.url === '/ro' ? '12345' : req.url === '/rw' ? '1' : req.url === '/count' ? '0' : 'ok');
    };
  }
  const manager = await sessionkitManager('memory');
  return (req, res) => {
    void (async () => {
      const session = await manager.start(req, res);
      let body = 'ok';
      if (req.url === '/init') {
        session.set('uid', '12345');
        session.set('count', 0);
      } else if (req.url === '/ro') body = session.getString('uid');
      else if (req.url === '/rw') body = String(session.increment('count'));
      else if (req.url === '/count') body = String(session.getNumber('count'));
      await session.release();
      res.end(body);
    })().catch((error: Error) => {
      res.statusCode = 500;
      res.end(error.message);
    });
  };
}

/** koaHandler serves koa-sk-memory, for the probes only: the bench's table has no Koa peer. */
async function koaHandler(): Promise<Handler> {
  const Koa = (await import('koa')).default;
  const { koaSession } = await import('sessionkit/koa');
  const app = new Koa();
  app.use(koaSession(await sessionkitManager('memory')));
  app.use((ctx) => {
    const session = ctx.session;
    if (ctx.path === '/init') {
      session.set('uid', '12345');
      session.set('count', 0);
      ctx.body = 'ok';
    } else if (ctx.path === '/ro') ctx.body = session.getString('uid');
    else if (ctx.path === '/rw') ctx.body = String(session.increment('count'));
    else ctx.body = String(session.getNumber('count'));
  });
  return app.callback();
}

async function main(): Promise<void> {
  const [framework, ...rest] = variant.split('-');
  const kind = rest.join('-');
  let server: http.Server;
  if (framework === 'fastify') {
    server = await fastifyServer(kind as 'bare' | 'sk-memory' | 'fs-memory');
  } else if (framework === 'koa') {
    server = http.createServer(await koaHandler());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  } else {
    const handler = framework === 'express' ? await expressApp(kind as 'bare') : await nodeHandler(kind as 'bare');
    server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }
  announce(server);
}

// The bench asks for the CPU time used so far, to divide a run's share by its requests, and for
// the time the event loop has waited with nothing to run (ms), to tell a server short of work.
process.on('message', (message) => {
  if (message === 'cpu') process.send?.({ ...process.cpuUsage(), idleMs: performance.eventLoopUtilization().idle });
  // ic-misses.ts: a store under this key puts a line into V8's IC log, where its count starts.
  if (message === 'mark') (globalThis as Record<string, unknown>)['sessionkit-ic-mark'] = true;
});

// A clean exit on SIGTERM lets `node --cpu-prof` write its profile.
process.on('SIGTERM', () => process.exit(0));

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
