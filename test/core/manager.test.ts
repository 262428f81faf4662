import { expect } from 'chai';
import { createManager, SessionError, type Provider, type Store } from 'sessionkit';
import { fakeRequest } from '../support/requests.ts';
import { spyProvider } from '../support/spy-store.ts';

const secret = 'manager-test-secret-0123456789abcdef';
const oldSecret = 'older-manager-secret-fedcba9876543210';

describe('Manager options and lifecycle', function () {
  it('createManager refuses a store with some but not all of the three index methods, naming what it lacks, and closes it', async function () {
    let closed = false;
    const store: Store = {
      get: async () => undefined,
      set: async () => undefined,
      destroy: async () => undefined,
      indexAdd: async () => undefined,
      close: async () => {
        closed = true;
      },
    };
    const error = await createManager({ provider: { open: async () => store }, gcInterval: 0 }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(SessionError).with.property('code', 'ERR_SESSION_INVALID_PROVIDER');
    expect((error as Error).message).to.equal('session/custom: a store with an index needs indexAdd, indexRemove and indexList together; this one lacks indexRemove, indexList');
    expect(closed).to.equal(true);
  });

  it('createManager refuses bad options, naming the option and never a secret', async function () {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ cookieName: 'a;b' }, /cookieName/],
      [{ cookieName: 'a b' }, /cookieName/],
      [{ cookiePath: '/x;Domain=evil' }, /cookiePath/],
      [{ cookiePath: '/x\r\nSet-Cookie: y' }, /cookiePath/],
      [{ domain: 'a.com; x' }, /domain/],
      [{ sameSite: 'none' }, /requires secure/],
      [{ sameSite: 'sometimes' }, /sameSite/],
      [{ idLength: 16 }, /idLength/],
      [{ maxLifetime: 0 }, /maxLifetime/],
      [{ maxLifetime: -5 }, /maxLifetime/],
      [{ gcInterval: Number.NaN }, /gcInterval/],
      [{ secret: 'tooshort-SECRETVALUE' }, /secret must be a string of at least 32/],
      [{ secret: [] }, /secret must not be an empty list/],
      [{ secret: 'ab'.repeat(20) }, /fewer than 8 different characters/],
      [{ secret: 'keyboard cat keyboard cat keyboard cat' }, /placeholder/],
      [{ secret: ['a-real-looking-secret-0123456789abcdef', 'CHANGE-ME-please-0123456789abcdefgh'] }, /placeholder/],
      [{ cookieName: '__Host-sid' }, /__Host-/],
      [{ idHeader: 'X Session' }, /idHeader/],
    ];
    for (const [options, pattern] of cases) {
      const error = await createManager({ gcInterval: 0, ...options }).catch((e: unknown) => e);
      expect(error, JSON.stringify(options)).to.be.instanceOf(SessionError).with.property('code', 'ERR_SESSION_CONFIG');
      expect((error as Error).message).to.match(pattern).and.not.contain('SECRETVALUE');
    }
  });

  it('count and destroyAll report ERR_SESSION_UNSUPPORTED for a store without count and clear', async function () {
    const bare: Store = { get: async () => undefined, set: async () => {}, destroy: async () => {} };
    const manager = await createManager({ provider: { open: async () => bare } });
    for (const call of [() => manager.count(), () => manager.destroyAll()]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).to.be.instanceOf(SessionError).with.property('code', 'ERR_SESSION_UNSUPPORTED');
    }
    await manager.close();
  });

  it('a third-party store without compareAndSet still works, last writer wins', async function () {
    const records = new Map<string, string>();
    const bare: Store = {
      get: async (sid) => records.get(sid),
      set: async (sid, record) => void records.set(sid, record),
      destroy: async (sid) => void records.delete(sid),
    };
    const manager = await createManager({ provider: { open: async () => bare } });
    const session = await manager.load(fakeRequest());
    session.set('k', 'v');
    await session.regenerate();
    await session.release();
    const again = await manager.load(fakeRequest(`sid=${session.id}`));
    expect(again.get('k')).to.equal('v');
    await again.destroy();
    expect(records.size).to.equal(0);
    await manager.close();
  });

  it('signed cookies: only a valid signature loads the session, and an old secret is re-signed with the current one', async function () {
    const provider = spyProvider();
    const first = await createManager({ provider, secret: [oldSecret] });
    const session = await first.load(fakeRequest());
    session.set('k', 'v');
    await session.release();
    const oldCookie = first.cookieFor(session.id).split(';')[0]!;
    expect(oldCookie).to.match(/^sid=[0-9a-f]{32}\.[A-Za-z0-9_-]{43}$/);

    const rotated = await createManager({ provider: { open: async () => provider.store! }, secret: [secret, oldSecret] });
    const loaded = await rotated.load(fakeRequest(oldCookie));
    expect(loaded.get('k')).to.equal('v');
    expect(loaded.cookieDecision()).to.deep.equal({ action: 'set', id: session.id, maxAgeMs: 0 });

    for (const bad of [`sid=${session.id}`, oldCookie + 'x', oldCookie.slice(0, -2), `sid=${session.id}.${'A'.repeat(43)}`]) {
      expect((await rotated.load(fakeRequest(bad))).isNew, bad).to.equal(true);
    }
    await first.close();
    await rotated.close();
  });

  it('the id header is read and the new id returned in it', async function () {
    const manager = await createManager({ idHeader: 'X-Session-Id' });
    const session = await manager.load(fakeRequest());
    session.set('k', 'v');
    await session.release();
    const viaHeader = await manager.load(fakeRequest(undefined, { 'x-session-id': session.id }));
    expect(viaHeader.get('k')).to.equal('v');
    await manager.close();
  });

  it('gc errors go to onError and never stop the ticker', async function () {
    const errors: Error[] = [];
    let passes = 0;
    const store: Store = {
      get: async () => undefined,
      set: async () => {},
      destroy: async () => {},
      gc: async () => {
        passes++;
        throw new Error('disk on fire');
      },
    };
    const provider: Provider = { open: async () => store };
    const manager = await createManager({ provider, gcInterval: 0.02, onError: (e) => errors.push(e) });
    await new Promise((resolve) => setTimeout(resolve, 150));
    await manager.close();
    expect(passes).to.be.greaterThan(2);
    expect(errors.length).to.equal(passes);
    expect(errors[0]).to.be.instanceOf(SessionError).with.property('message').that.matches(/^session\/custom: gc failed: disk on fire/);
  });

  it('close is idempotent and destroy by an invalid id is a no-op that never reaches the store', async function () {
    const provider = spyProvider();
    const manager = await createManager({ provider });
    await manager.destroy('../../etc/passwd');
    expect(provider.store!.calls).to.deep.equal([]);
    await manager.close();
    await manager.close();
    expect(provider.store!.calls).to.deep.equal(['close']);
  });
});
