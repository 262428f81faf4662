import { expect } from 'chai';
import { RedisStore } from 'connect-redis';
import { randomBytes } from 'node:crypto';
import { createManager, isSessionError, type Store } from 'sessionkit';
import { storeProvider, type ExpressSessionStore, type StoredSession } from 'sessionkit/express-session';
import { useRedis } from './support.ts';

/**
 * How the adapter keeps sessionkit's records in an express-session store: the wrapper such
 * stores expect, expiry on read, and what it maps (or does not) to the store's methods.
 */

const HOUR = 3_600_000;

/** MapStore is the smallest express-session store: a Map, answered through callbacks. */
class MapStore implements ExpressSessionStore {
  readonly sessions = new Map<string, unknown>();
  closed = 0;
  get(sid: string, callback: (error?: unknown, session?: unknown) => void): void {
    setImmediate(() => callback(null, this.sessions.has(sid) ? structuredClone(this.sessions.get(sid)) : null));
  }
  set(sid: string, session: StoredSession, callback: (error?: unknown) => void): void {
    this.sessions.set(sid, JSON.parse(JSON.stringify(session)));
    setImmediate(() => callback(null));
  }
  destroy(sid: string, callback: (error?: unknown) => void): void {
    this.sessions.delete(sid);
    setImmediate(() => callback(null));
  }
  async close(): Promise<void> {
    this.closed++;
  }
}

/** AllStore also has `all` and `clear`, as memorystore and connect-redis do. */
class AllStore extends MapStore {
  all(callback: (error?: unknown, sessions?: unknown) => void): void {
    setImmediate(() => callback(null, Object.fromEntries(this.sessions)));
  }
  clear(callback: (error?: unknown) => void): void {
    this.sessions.clear();
    setImmediate(() => callback(null));
  }
}

const open = (store: ExpressSessionStore, now = () => Date.now()): Promise<Store> => storeProvider(store).open('', { maxLifetime: HOUR, now });
const sid = () => randomBytes(16).toString('hex');

describe('express-session stores through storeProvider', function () {
  it('the stored session object holds the record untouched and a cookie whose expires and maxAge give the lifetime', async function () {
    const backend = new MapStore();
    const store = await open(backend);
    const id = sid();
    const record = '{"opaque": "to the store ✓"}';
    await store.set(id, record, Date.now() + 90_000);
    const stored = backend.sessions.get(id) as { cookie: { expires: string; maxAge: number }; sessionkit: { record: string } };
    expect(stored.sessionkit.record).to.equal(record);
    expect(stored.cookie.maxAge).to.be.within(89_000, 90_000);
    expect(Date.parse(stored.cookie.expires) - Date.now()).to.be.within(88_000, 90_000);
    expect(await store.get(id)).to.equal(record);
  });

  it('a session object sessionkit did not write reads as missing', async function () {
    const backend = new MapStore();
    const store = await open(backend);
    const id = sid();
    backend.sessions.set(id, { cookie: { originalMaxAge: null }, passport: { user: 'eve' } });
    expect(await store.get(id)).to.equal(undefined);
  });

  it('get checks the expiry itself, whatever the store keeps', async function () {
    let now = Date.now();
    const backend = new MapStore();
    const store = await open(backend, () => now);
    const id = sid();
    await store.set(id, 'short', now + 1000);
    now += 1001;
    expect(backend.sessions.has(id)).to.equal(true);
    expect(await store.get(id)).to.equal(undefined);
  });

  it('touch writes the record again with the new expiry and never creates one', async function () {
    const backend = new MapStore();
    const store = await open(backend);
    const [id, missing] = [sid(), sid()];
    await store.set(id, 'kept', Date.now() + 1000);
    await store.touch!(id, Date.now() + HOUR);
    expect((backend.sessions.get(id) as { cookie: { maxAge: number } }).cookie.maxAge).to.be.greaterThan(HOUR - 1000);
    expect(await store.get(id)).to.equal('kept');
    await store.touch!(missing, Date.now() + HOUR);
    expect(backend.sessions.has(missing)).to.equal(false);
  });

  it('count and clear exist only where the store has all and clear; count leaves out foreign and expired sessions', async function () {
    const plain = await open(new MapStore());
    expect(plain.count).to.equal(undefined);
    expect(plain.clear).to.equal(undefined);
    expect(plain.compareAndSet).to.equal(undefined);
    let now = Date.now();
    const backend = new AllStore();
    const store = await open(backend, () => now);
    await store.set(sid(), 'live', now + HOUR);
    await store.set(sid(), 'short', now + 1000);
    backend.sessions.set(sid(), { cookie: {}, user: 'foreign' });
    now += 1001;
    expect(await store.count!()).to.equal(1);
    await store.clear!();
    expect(backend.sessions.size).to.equal(0);
  });

  it('a store error reaches the caller, whether called back, rejected or thrown, and a store that both calls back and resolves settles once', async function () {
    const failing = (how: 'callback' | 'reject' | 'throw'): ExpressSessionStore => {
      const fail = (callback: (error?: unknown) => void): unknown => {
        if (how === 'throw') throw new Error('thrown');
        if (how === 'reject') return Promise.reject(new Error('rejected'));
        callback(new Error('called back'));
        return undefined;
      };
      return { get: (_sid, callback) => fail(callback), set: (_sid, _session, callback) => fail(callback), destroy: (_sid, callback) => fail(callback) };
    };
    for (const [how, message] of [['callback', 'called back'], ['reject', 'rejected'], ['throw', 'thrown']] as const) {
      const store = await open(failing(how));
      for (const call of [() => store.get(sid()), () => store.set(sid(), 'x', Date.now() + HOUR), () => store.destroy(sid())]) {
        let caught: unknown;
        await call().catch((error: unknown) => (caught = error));
        expect((caught as Error | undefined)?.message, how).to.equal(message);
      }
    }
    const both: ExpressSessionStore = {
      get: async (_sid, callback) => callback(null, null),
      set: async (_sid, _session, callback) => callback(null),
      destroy: async (_sid, callback) => callback(null),
    };
    expect(await (await open(both)).get(sid())).to.equal(undefined);
  });

  it('storeProvider refuses what is not an express-session store', function () {
    for (const bad of [undefined, {}, { get() {}, set() {} }, 'redis']) {
      expect(() => storeProvider(bad as unknown as ExpressSessionStore)).to.throw(/express-session store instance/);
    }
  });

  it('the Manager reports once that the store has no compare-and-set, and never closes it', async function () {
    const backend = new MapStore();
    const reported: Error[] = [];
    const manager = await createManager({ provider: storeProvider(backend), onError: (error) => reported.push(error), gcInterval: 0 });
    await manager.close();
    expect(reported.map((error) => isSessionError(error, 'ERR_SESSION_UNSUPPORTED'))).to.deep.equal([true]);
    expect(backend.closed).to.equal(0);
  });

  describe('connect-redis (127.0.0.1:6379)', function () {
    const { client, prefix } = useRedis('cr-ttl');

    it('the key expires with the session: its ttl is the lifetime', async function () {
      const store = await open(new RedisStore({ client, prefix }));
      const id = sid();
      await store.set(id, 'r', Date.now() + 90_000);
      expect(await client.ttl(prefix + id)).to.be.within(89, 90);
      await store.set(id, 'gone', Date.now() - 1);
      expect(await client.exists(prefix + id)).to.equal(0);
    });
  });
});
