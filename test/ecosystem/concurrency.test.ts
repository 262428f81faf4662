import { expect } from 'chai';
import express, { type RequestHandler } from 'express';
import expressSession from 'express-session';
import { createManager, type Manager } from 'sessionkit';
import { memoryBackend, postgresBackend, redisBackend, type Backend } from './backends.ts';
import { Browser, listenOn, type RunningApp } from './browser.ts';

/**
 * Gate holds every request that reaches it until `size` requests have, so all of them have loaded
 * the session before any writes: the race that concurrent tabs or parallel fetches of one session
 * run, made certain instead of likely.
 */
class Gate {
  #arrived = 0;
  #open!: () => void;
  readonly #opened = new Promise<void>((resolve) => (this.#open = resolve));
  constructor(readonly size: number) {}

  pass(): Promise<void> {
    if (++this.#arrived === this.size) this.#open();
    return this.#opened;
  }
}

type Data = Record<string, unknown>;

/**
 * raceRoutes are the routes of the race app, written against express-session's property shape
 * so the same handlers run on sessionkit and on express-session. `gate()` is the Gate of the
 * test that runs; `increment` uses sessionkit's `session.increment`, which express-session lacks.
 */
function raceRoutes(session: RequestHandler, gate: () => Gate): express.Express {
  const app = express();
  app.use(session);
  const data = (req: express.Request) => req.session as unknown as Data;
  app.post('/seed', (req, res) => {
    data(req).cart = { items: ['book'] };
    data(req).n = 0;
    res.json({ ok: true });
  });
  app.get('/write', async (req, res) => {
    await gate().pass();
    data(req)[String(req.query.key)] = String(req.query.value);
    res.json({ ok: true });
  });
  app.get('/push', async (req, res) => {
    await gate().pass();
    (data(req).cart as { items: string[] }).items.push(String(req.query.item));
    res.json({ ok: true });
  });
  app.get('/count', async (req, res) => {
    await gate().pass();
    data(req).n = (data(req).n as number) + 1;
    res.json({ ok: true });
  });
  app.get('/increment', async (req, res) => {
    await gate().pass();
    req.session.increment('n');
    res.json({ ok: true });
  });
  app.get('/read', (req, res) => {
    const { a, b, theme, cart, n } = data(req);
    res.json({ a, b, theme, cart, n });
  });
  return app;
}

/** race seeds a session, then sends `paths` at once with its cookie, and returns what the session holds after. */
async function race(app: RunningApp, gate: { current: Gate }, paths: string[]): Promise<Data> {
  const browser = new Browser(app.base);
  await browser.request('/seed', { method: 'POST' });
  gate.current = new Gate(paths.length);
  const replies = await Promise.all(paths.map((path) => browser.request(path)));
  for (const reply of replies) expect(reply.status, reply.body).to.equal(200);
  return browser.json('/read');
}

const fifty = (path: string) => Array.from({ length: 50 }, () => path);

function describeSessionkitRaces(backend: Backend): void {
  describe(`sessionkit (manager.middleware()) on ${backend.name}`, function () {
    const gate = { current: new Gate(1) };
    let manager: Manager;
    let app: RunningApp;

    before(async function () {
      await backend.ready(this);
      manager = await createManager({ ...backend.options, gcInterval: 0 });
      app = await listenOn(raceRoutes(manager.middleware(), () => gate.current));
    });
    after(async function () {
      await app?.close();
      await manager?.close();
      await backend.cleanup();
    });

    it('two concurrent requests that write different properties both keep their write', async function () {
      const after = await race(app, gate, ['/write?key=a&value=1', '/write?key=b&value=2']);
      expect(after).to.deep.include({ a: '1', b: '2' });
    });

    it('a nested change (session.cart.items.push) and a concurrent write of another property both keep their write', async function () {
      const after = await race(app, gate, ['/push?item=pen', '/write?key=theme&value=dark']);
      expect(after).to.deep.include({ cart: { items: ['book', 'pen'] }, theme: 'dark' });
    });

    it('two concurrent nested changes of one top-level property: the last writer wins that property, whole', async function () {
      const after = await race(app, gate, ['/push?item=pen', '/push?item=ink']);
      const { items } = after.cart as { items: string[] };
      expect([['book', 'pen'], ['book', 'ink']], 'one push is lost').to.deep.include(items);
    });

    it('50 concurrent read-modify-write increments of one property (session.n = session.n + 1) are last-writer-wins: n ends at 1', async function () {
      const after = await race(app, gate, fifty('/count'));
      expect(after.n).to.equal(1);
    });

    it('50 concurrent session.increment calls all count: n ends at exactly 50', async function () {
      const after = await race(app, gate, fifty('/increment'));
      expect(after.n).to.equal(50);
    });
  });
}

describe('concurrent requests of one session over HTTP: property writes merge per top-level key', function () {
  for (const backend of [memoryBackend(), redisBackend(), postgresBackend()]) describeSessionkitRaces(backend);

  describe('express-session 1.x with its MemoryStore, the same handlers', function () {
    const gate = { current: new Gate(1) };
    let app: RunningApp;

    before(async function () {
      const session = expressSession({ secret: 'a secret of at least thirty-two chars', resave: false, saveUninitialized: false, store: new expressSession.MemoryStore() });
      app = await listenOn(raceRoutes(session, () => gate.current));
    });
    after(async function () {
      await app.close();
    });

    it('two concurrent requests that write different properties: one write is lost (the last save stores its whole session)', async function () {
      const after = await race(app, gate, ['/write?key=a&value=1', '/write?key=b&value=2']);
      const kept = ['a', 'b'].filter((key) => after[key] !== undefined);
      expect(kept).to.have.length(1);
    });

    it('a nested change and a concurrent write of another property: one of them is lost', async function () {
      const after = await race(app, gate, ['/push?item=pen', '/write?key=theme&value=dark']);
      const pushed = (after.cart as { items: string[] }).items.includes('pen');
      const themed = after.theme === 'dark';
      expect(pushed !== themed, `pushed ${pushed}, themed ${themed}`).to.equal(true);
    });

    it('50 concurrent read-modify-write increments of one property: n ends at 1', async function () {
      const after = await race(app, gate, fifty('/count'));
      expect(after.n).to.equal(1);
    });
  });
});
