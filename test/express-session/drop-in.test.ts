import { expect } from 'chai';
import express, { type RequestHandler } from 'express';
import expressSession from 'express-session';
import memorystore from 'memorystore';
import { createRequire } from 'node:module';
import { isSessionError, type Flash, type FlashView } from 'sessionkit';
import session, { type ExpressSessionStore, type SessionMiddleware, type SessionOptions } from 'sessionkit/express-session';
import { Jar, SECRET, serve, type Running } from './support.ts';

/**
 * What the drop-in does beyond express-session's README: its options (what it refuses and why,
 * what it accepts and ignores), the lazily opened Manager, the flash names, and where it is
 * better than express-session (concurrent writes of different properties).
 */

/** flash is connect-flash, which ships no types; `req.flash` is its API on the request. */
const flash = createRequire(import.meta.url)('connect-flash') as () => RequestHandler;
type Flashing = { flash(type: string, message?: string): string[] };

/** refusal returns the SessionError `session(options)` throws, failing when it throws none. */
function refusal(options: unknown): Error {
  try {
    session(options as SessionOptions);
  } catch (error) {
    expect(isSessionError(error, 'ERR_SESSION_CONFIG'), String(error)).to.equal(true);
    return error as Error;
  }
  throw new Error(`session(${JSON.stringify(options)}) was accepted`);
}

describe('sessionkit/express-session options', function () {
  it('an unknown option is refused with a SessionError naming it', function () {
    expect(refusal({ secret: SECRET, saveUnintialized: false }).message).to.contain('saveUnintialized');
    expect(refusal({ secret: SECRET, cookie: { maxage: 1000 } }).message).to.contain('cookie.maxage');
  });

  it('a secret shorter than 32 characters is refused with how to make one and where the old one goes', function () {
    const { message } = refusal({ secret: 'keyboard cat' });
    expect(message).to.contain('32 characters').and.contain('openssl rand -hex 32').and.contain('legacy.secret');
    expect(message).to.not.contain('keyboard cat');
    expect(refusal({ secret: [SECRET, 'short'] }).message).to.contain('32 characters');
  });

  it('a long secret that looks like a placeholder is refused', function () {
    expect(refusal({ secret: 'keyboard cat keyboard cat keyboard cat' }).message).to.contain('placeholder');
  });

  it('values that depend on the connection or the request are refused with what to do instead', function () {
    expect(refusal({ secret: SECRET, cookie: { secure: 'auto' } }).message).to.contain('set true when the app is served over HTTPS');
    expect(refusal({ secret: SECRET, cookie: { sameSite: 'auto' } }).message).to.contain('"auto"');
    expect(refusal({ secret: SECRET, cookie: () => ({}) }).message).to.contain('function of the request');
    expect(refusal({ secret: SECRET, cookie: { partitioned: true } }).message).to.contain('cookie.partitioned');
  });

  it('bad values of known options are refused naming the option', function () {
    expect(refusal({ unset: 'drop' }).message).to.contain('unset');
    expect(refusal({ cookie: { maxAge: -1 } }).message).to.contain('cookie.maxAge');
    expect(refusal({ cookie: { maxAge: 1000, expires: new Date(Date.now() + 1000) } }).message).to.contain('cookie.expires');
    expect(refusal({ store: {} }).message).to.contain('store');
    expect(refusal({ store: { provider: 'memory', confg: '' } }).message).to.contain('store.confg');
    expect(refusal({ genid: 'uuid' }).message).to.contain('genid');
    expect(refusal({ legacy: true }).message).to.contain('legacy');
  });

  it('resave and proxy are accepted and change nothing', async function () {
    const plain = session({ secret: SECRET });
    const withBoth = session({ secret: SECRET, resave: true, proxy: true });
    try {
      for (const middleware of [plain, withBoth]) {
        const running = await serve(express().use(middleware as unknown as RequestHandler).get('/', (_req, res) => res.json({})));
        const reply = await new Jar(running.base).request('/');
        await running.close();
        expect(reply.setCookies).to.have.length(1);
        expect(reply.setCookies[0]).to.match(/^connect\.sid=[0-9a-f]{32}\.[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
      }
    } finally {
      for (const middleware of [plain, withBoth]) await (await middleware.manager()).close();
    }
  });
});

describe('sessionkit/express-session at work', function () {
  let running: Running | undefined;
  let middleware: SessionMiddleware | undefined;

  async function start(options: SessionOptions, build: (app: express.Express) => void): Promise<Jar> {
    middleware = session(options);
    const app = express().use(middleware as unknown as RequestHandler);
    build(app);
    app.use(((error, _req, res, _next) => res.status(500).json({ error: (error as Error).message })) as express.ErrorRequestHandler);
    running = await serve(app);
    return new Jar(running.base);
  }

  afterEach(async function () {
    await running?.close();
    await (await middleware?.manager().catch(() => undefined))?.close();
    running = undefined;
    middleware = undefined;
  });

  it('the Manager opens once, on the first request, and requests arriving meanwhile wait for it', async function () {
    const client = await start({ secret: SECRET }, (app) => app.get('/', (req, res) => res.json({ id: req.sessionID })));
    const ids = await Promise.all(Array.from({ length: 5 }, () => client.copy().json('/')));
    expect(new Set(ids.map((reply) => reply.id)).size).to.equal(5);
    // One Manager holds all five: a Manager per request would each hold one.
    expect(await (await middleware!.manager()).count()).to.equal(5);
  });

  it('a Manager that fails to open fails the request through next(err), and the next request tries again', async function () {
    const client = await start({ secret: SECRET, store: { provider: 'not-registered' } }, (app) => app.get('/', (_req, res) => res.json({})));
    for (let i = 0; i < 2; i++) {
      const reply = await client.request('/');
      expect(reply.status).to.equal(500);
      expect(JSON.parse(reply.body).error).to.contain('unknown provider "not-registered"');
    }
  });

  it('a store given as a sessionkit provider name and config serves the sessions', async function () {
    const client = await start({ secret: SECRET, store: { provider: 'memory', config: '' } }, (app) =>
      app.post('/n', (req, res) => {
        const s = req.session as unknown as { n?: number };
        s.n = (s.n ?? 0) + 1;
        res.json({ n: s.n });
      }),
    );
    await client.json('/n', 'POST');
    expect(await client.json('/n', 'POST')).to.deep.equal({ n: 2 });
  });

  it('a genid that returns an id sessionkit refuses fails the request with the rule', async function () {
    const client = await start({ secret: SECRET, genid: () => 'not-a-hex-id' }, (app) => app.get('/', (req, res) => res.json({ id: req.sessionID })));
    const reply = await client.request('/');
    expect(reply.status).to.equal(500);
    expect(reply.body).to.contain('lowercase hex');
  });

  it('req.session.flash is connect-flash\'s, and the leveled flash is req.session.flashes and res.locals.flash', async function () {
    const client = await start({ secret: SECRET }, (app) => {
      app.use(flash());
      app.post('/save', (req, res) => {
        (req as unknown as Flashing).flash('info', 'from connect-flash');
        (req.session.flashes as Flash).success('from sessionkit');
        res.redirect('/show');
      });
      app.get('/show', (req, res) => res.json({ info: (req as unknown as Flashing).flash('info'), leveled: (res.locals.flash as FlashView).successMsg }));
    });
    expect((await client.request('/save', 'POST')).status).to.equal(302);
    expect(await client.json('/show')).to.deep.equal({ info: ['from connect-flash'], leveled: 'from sessionkit' });
    expect(await client.json('/show')).to.deep.equal({ info: [], leveled: '' });
  });

  it('keys named like session methods are plain data, and listing the session\'s properties does not fail', async function () {
    const client = await start({ secret: SECRET }, (app) =>
      app.post('/', (req, res) => {
        for (const key of ['destroy', 'regenerate', 'save', 'cart']) req.session.set(key, key);
        res.json({ keys: req.session.keys().sort(), properties: Object.keys(req.session), json: JSON.parse(JSON.stringify(req.session)) });
      }),
    );
    const reply = await client.json('/', 'POST');
    expect(reply.keys).to.deep.equal(['cart', 'destroy', 'regenerate', 'save']);
    expect(reply.properties).to.include('cart');
    expect(reply.json).to.include({ cart: 'cart' });
  });

  it('two requests of one session writing different properties at once both keep their write', async function () {
    // express-session saves the whole session object, so the request that saves last drops the other's property.
    let arrived = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const client = await start({ secret: SECRET }, (app) => {
      app.post('/set/:key', async (req, res) => {
        arrived++;
        await gate;
        (req.session as unknown as Record<string, string>)[req.params.key!] = 'kept';
        res.json({});
      });
      app.get('/all', (req, res) => res.json({ a: (req.session as unknown as Record<string, string>).a, b: (req.session as unknown as Record<string, string>).b }));
    });
    await client.request('/all');
    const writes = Promise.all([client.copy().request('/set/a', 'POST'), client.copy().request('/set/b', 'POST')]);
    while (arrived < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    open();
    await writes;
    expect(await client.json('/all')).to.deep.equal({ a: 'kept', b: 'kept' });
  });

  it('regenerate and destroy called after the response went out act as sessionkit\'s own', async function () {
    // The drop-in lets go of the request once the response is out; a session kept past it still works.
    const finished: Promise<string>[] = [];
    const client = await start({ secret: SECRET }, (app) => {
      app.post('/login', (req, res) => {
        (req.session as unknown as Record<string, string>).user = 'ada';
        res.json({});
      });
      app.post('/later/:what', (req, res) => {
        const kept = req.session;
        const oldId = kept.id;
        res.on('finish', () => {
          const after = req.params.what === 'regenerate' ? kept.regenerate() : kept.destroy();
          finished.push((after as unknown as Promise<void>).then(() => `${oldId} ${kept.id}`));
        });
        res.json({ id: oldId });
      });
      app.get('/user', (req, res) => res.json({ user: (req.session as unknown as Record<string, string>).user ?? null }));
    });
    await client.request('/login', 'POST');
    await client.request('/later/regenerate', 'POST');
    const [oldId, newId] = (await finished[0]!).split(' ');
    expect(newId).to.match(/^[0-9a-f]{32}$/).and.not.equal(oldId);
    // The old id no longer finds the session.
    expect(await client.json('/user')).to.deep.equal({ user: null });
    await client.request('/login', 'POST');
    await client.request('/later/destroy', 'POST');
    await finished[1];
    expect(await client.json('/user')).to.deep.equal({ user: null });
  });

  it('an express-session store is announced once to onError as having no compare-and-set', async function () {
    const MemoryStore = memorystore(session as unknown as Parameters<typeof memorystore>[0]);
    const reported: Error[] = [];
    const client = await start({ secret: SECRET, store: new MemoryStore({}), onError: (error) => reported.push(error) }, (app) => app.get('/', (_req, res) => res.json({})));
    await client.request('/');
    await client.request('/');
    expect(reported).to.have.length(1);
    expect(isSessionError(reported[0], 'ERR_SESSION_UNSUPPORTED')).to.equal(true);
    expect(reported[0]!.message).to.contain('MemoryStore has no compare-and-set');
  });

  describe('legacy, with an old session written by express-session into memorystore', function () {
    const me: RequestHandler = (req, res) => res.json({ user: (req.session as unknown as { user?: string }).user ?? null });
    let store: ExpressSessionStore;
    let oldCookie: string;
    let oldId: string;

    beforeEach(async function () {
      const MemoryStore = memorystore(expressSession);
      store = new MemoryStore({});
      const old = await serve(
        express()
          .use(expressSession({ secret: SECRET, store: store as unknown as expressSession.Store, resave: false, saveUninitialized: false }))
          .post('/login', (req, res) => ((req.session as unknown as { user: string }).user = 'dan', res.json({ id: req.sessionID }))),
      );
      const browser = new Jar(old.base);
      oldId = (await browser.json('/login', 'POST')).id as string;
      oldCookie = browser.cookies.get('connect.sid')!;
      await old.close();
    });

    /** overwrite replaces the old record with `stored`, as JSON, the way the store keeps it. */
    const overwrite = (stored: string) => new Promise<void>((resolve, reject) => store.set(oldId, JSON.parse(stored), (error) => (error ? reject(error) : resolve())));

    it('legacy: true reads old cookies with the drop-in\'s own store, secret and cookie name', async function () {
      const client = await start({ secret: SECRET, store, legacy: true, onError: () => undefined }, (app) => app.get('/me', me));
      client.cookies.set('connect.sid', oldCookie);
      expect(await client.json('/me')).to.deep.equal({ user: 'dan' });
    });

    it('old data sessionkit cannot hold is left out and reported, and pollutes nothing', async function () {
      await overwrite('{"cookie":{"originalMaxAge":null},"user":"dan","__proto__":{"polluted":true}}');
      const reported: Error[] = [];
      const client = await start({ secret: SECRET, store, legacy: true, onError: (error) => reported.push(error) }, (app) => app.get('/me', me));
      client.cookies.set('connect.sid', oldCookie);
      expect(await client.json('/me')).to.deep.equal({ user: 'dan' });
      expect(({} as { polluted?: boolean }).polluted).to.equal(undefined);
      expect(reported.map((error) => error.message)).to.include('session: legacy key "__proto__" was not moved ("__proto__" cannot be used as a session key)');
    });

    it('an old session past its cookie.expires is removed, not moved', async function () {
      await overwrite(`{"cookie":{"expires":"${new Date(Date.now() - 1000).toISOString()}"},"user":"dan"}`);
      const client = await start({ secret: SECRET, store, legacy: true, onError: () => undefined }, (app) => app.get('/me', me));
      client.cookies.set('connect.sid', oldCookie);
      expect(await client.json('/me')).to.deep.equal({ user: null });
      expect(await new Promise((resolve) => store.get(oldId, (_error, session) => resolve(session)))).to.equal(undefined);
    });
  });
});
