import { expect } from 'chai';
import { createManager, type FlashView, type Manager, type Provider, type Store, type TypedSession } from 'sessionkit';
import { CookieClient } from 'sessionkit/testing';

/** FlowRequest is what a flow route sees, whatever the framework. */
export interface FlowRequest {
  session: TypedSession;
  query: URLSearchParams;
  /** flash reads the flash view the way a template would: through the adapter's locals. */
  flash(): FlashView;
}

/** FlowResult is a JSON body (with headers of the handler's own, if any) or a 302 redirect. */
export type FlowResult = { json: unknown; headers?: Record<string, string> } | { redirect: string };

/** FlowRoute is one framework-independent route of the flow app. */
export type FlowRoute = (request: FlowRequest) => FlowResult | Promise<FlowResult>;

/**
 * FLOW_ROUTES are the routes every adapter's app serves by path; an unknown path is a 404. The
 * flash messages carry markup so a template that forgets to escape it is caught elsewhere.
 */
export const FLOW_ROUTES: Readonly<Record<string, FlowRoute>> = {
  '/set': ({ session, query }) => {
    for (const [key, value] of query) session.set(key, value);
    return { json: { id: session.id } };
  },
  '/get': ({ session }) => ({ json: Object.fromEntries(session.keys().map((key) => [key, session.get(key)])) }),
  '/login': ({ session, query }) => {
    session.set('uid', query.get('uid') ?? '');
    return { redirect: '/get' };
  },
  '/regenerate': async ({ session }) => {
    await session.regenerate();
    return { json: { id: session.id } };
  },
  '/flash': ({ session }) => {
    session.flash.success('saved <b>x</b>');
    session.flash.error('careful');
    return { redirect: '/view' };
  },
  '/view': ({ flash }) => ({ json: flash() }),
  '/public': () => ({ json: { cached: true }, headers: { 'cache-control': 'public, max-age=60', vary: 'Accept' } }),
  '/destroy': async ({ session }) => {
    await session.destroy();
    return { json: { ok: true } };
  },
};

/** RunningApp is an app listening on loopback. */
export interface RunningApp {
  base: string;
  close(): Promise<void>;
}

/** StartApp starts the adapter's app serving {@link FLOW_ROUTES} with `manager` on 127.0.0.1:0. */
export type StartApp = (manager: Manager) => Promise<RunningApp>;

/** failingProvider opens a store whose reads (`get`) or writes (`set`, `destroy`) reject. */
export function failingProvider(fail: 'get' | 'set'): Provider {
  const down = async (): Promise<never> => {
    throw new Error('store is down');
  };
  const store: Store = {
    get: fail === 'get' ? down : async () => undefined,
    set: fail === 'set' ? down : async () => undefined,
    destroy: fail === 'set' ? down : async () => undefined,
  };
  return { open: async () => store };
}

const VALID_ID = 'a'.repeat(32);

/**
 * describeAdapterFlow runs the same request flow through an adapter on a real server: set and
 * read, regenerate, flash across a redirect, destroy, and store errors on the framework's error
 * path. Each adapter's test file calls it once with a function that starts its app.
 */
export function describeAdapterFlow(name: string, start: StartApp): void {
  describe(`${name} adapter flow`, function () {
    let manager: Manager;
    let app: RunningApp;

    before(async function () {
      manager = await createManager({ gcInterval: 0 });
      app = await start(manager);
    });
    after(async function () {
      await app.close();
      await manager.close();
    });

    it('a write is read back by the next request, and a read-only request sets no cookie', async function () {
      const client = new CookieClient(app.base);
      const first = await client.request('/get');
      expect(first.status).to.equal(200);
      expect(first.setCookies, 'no cookie before any write').to.deep.equal([]);
      const set = await client.request('/set?uid=u1&theme=dark');
      expect(set.setCookies).to.have.length(1);
      expect(set.setCookies[0]).to.match(/^sid=[0-9a-f]{32}; Path=\/; HttpOnly; SameSite=Lax$/);
      const read = await client.request('/get');
      expect(JSON.parse(read.body)).to.deep.equal({ uid: 'u1', theme: 'dark' });
      expect(read.setCookies, 'the client already has the cookie').to.deep.equal([]);
    });

    it('regenerate issues a new cookie, keeps the data, and the old cookie reads as an empty session', async function () {
      const client = new CookieClient(app.base);
      await client.request('/set?uid=u2');
      const oldCookie = client.cookie;
      const regenerated = await client.request('/regenerate');
      expect(regenerated.setCookies).to.have.length(1);
      expect(client.cookie).to.not.equal(oldCookie);
      expect(JSON.parse((await client.request('/get')).body)).to.deep.equal({ uid: 'u2' });
      const replay = new CookieClient(app.base);
      replay.cookie = oldCookie;
      expect(JSON.parse((await replay.request('/get')).body)).to.deep.equal({});
    });

    it('a write before a redirect is visible to the request that follows the redirect', async function () {
      const client = new CookieClient(app.base);
      const login = await client.request('/login?uid=u3');
      expect(login.status).to.equal(302);
      expect(login.headers.get('location')).to.equal('/get');
      expect(JSON.parse((await client.request('/get')).body)).to.deep.equal({ uid: 'u3' });
    });

    it('a flash set before a redirect is shown once, by the first request that renders it', async function () {
      const client = new CookieClient(app.base);
      const redirect = await client.request('/flash');
      expect(redirect.status).to.equal(302);
      expect(redirect.headers.get('location')).to.equal('/view');
      await client.request('/get'); // renders nothing, so consumes nothing
      const shown = JSON.parse((await client.request('/view')).body) as FlashView;
      expect(shown.messages).to.deep.equal([
        { level: 'success', text: 'saved <b>x</b>' },
        { level: 'error', text: 'careful' },
      ]);
      expect(shown.successMsg).to.equal('saved <b>x</b>');
      expect(shown.errorMsg).to.equal('careful');
      const again = JSON.parse((await client.request('/view')).body) as FlashView;
      expect(again.messages).to.deep.equal([]);
    });

    it('a response to a request that carried a live session is private (no-store, Vary: Cookie); an anonymous one is left alone', async function () {
      const anonymous = await new CookieClient(app.base).request('/get');
      expect(anonymous.headers.get('cache-control'), 'anonymous').to.equal(null);
      expect(anonymous.headers.get('vary') ?? '', 'anonymous').to.not.match(/cookie/i);
      const client = new CookieClient(app.base);
      const created = await client.request('/set?uid=u5');
      expect(created.headers.get('cache-control')).to.equal('no-store');
      expect(created.headers.get('vary')).to.match(/cookie/i);
      const read = await client.request('/get');
      expect(read.setCookies).to.deep.equal([]);
      expect(read.headers.get('cache-control'), 'a read of a live session').to.equal('no-store');
      expect(read.headers.get('vary')).to.match(/cookie/i);
      const own = await client.request('/public');
      expect(own.headers.get('cache-control'), "the handler's own Cache-Control is kept").to.equal('public, max-age=60');
      expect(own.headers.get('vary')?.split(/\s*,\s*/).map((v) => v.toLowerCase()).sort()).to.deep.equal(['accept', 'cookie']);
      const loggedOut = await client.request('/destroy');
      expect(loggedOut.headers.get('cache-control')).to.equal('no-store');
    });

    it('destroy sends a clearing cookie and a replay of the old cookie is anonymous', async function () {
      const client = new CookieClient(app.base);
      await client.request('/set?uid=u4');
      const oldCookie = client.cookie;
      const destroyed = await client.request('/destroy');
      expect(destroyed.status).to.equal(200);
      expect(destroyed.setCookies).to.have.length(1);
      expect(destroyed.setCookies[0]).to.match(/^sid=; Path=\/; Max-Age=0;/);
      expect(client.cookie).to.equal(undefined);
      const replay = new CookieClient(app.base);
      replay.cookie = oldCookie;
      const anonymous = await replay.request('/get');
      expect(JSON.parse(anonymous.body)).to.deep.equal({});
      expect(anonymous.setCookies).to.deep.equal([]);
    });

    it('an unknown path is a 404 and still gets its session', async function () {
      const client = new CookieClient(app.base);
      expect((await client.request('/nowhere')).status).to.equal(404);
      expect((await client.request('/get')).status).to.equal(200);
    });

    describe('store errors', function () {
      let failing: Manager;
      let failingApp: RunningApp;
      afterEach(async function () {
        await failingApp.close();
        await failing.close();
      });

      it('a store error while loading is a 500 on the error path, and the server keeps serving', async function () {
        failing = await createManager({ provider: failingProvider('get'), gcInterval: 0, onError: () => undefined });
        failingApp = await start(failing);
        const client = new CookieClient(failingApp.base);
        client.cookie = `sid=${VALID_ID}`;
        const failed = await client.request('/get');
        expect(failed.status).to.equal(500);
        expect(failed.setCookies).to.deep.equal([]);
        expect(failed.body).to.not.include(VALID_ID);
        const fresh = new CookieClient(failingApp.base);
        for (let i = 0; i < 3; i++) {
          const ok = await fresh.request('/get');
          expect(ok.status, `request ${i} after the failure`).to.equal(200);
          expect(JSON.parse(ok.body)).to.deep.equal({});
        }
      });

      it('a store error while saving is a 500, and the client holds no session afterwards', async function () {
        failing = await createManager({ provider: failingProvider('set'), gcInterval: 0, onError: () => undefined });
        failingApp = await start(failing);
        const client = new CookieClient(failingApp.base);
        const failed = await client.request('/set?uid=u5');
        expect(failed.status).to.equal(500);
        const after = await client.request('/get');
        expect(after.status).to.equal(200);
        expect(JSON.parse(after.body)).to.deep.equal({});
      });
    });
  });
}
