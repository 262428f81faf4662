import { expect } from 'chai';
import { createManager, SessionError, type Manager, type ManagerOptions, type Store } from 'sessionkit';
import { fakeClock, type TestClock } from 'sessionkit/testing';
import { fakeRequest } from '../support/requests.ts';
import { spyProvider, type SpyStore } from '../support/spy-store.ts';

const MINUTE = 60_000;

describe('user sessions and regenerate forwarding', function () {
  let clock: TestClock;
  let manager: Manager;
  let store: SpyStore;

  async function open(options: ManagerOptions = {}): Promise<void> {
    clock = fakeClock();
    const provider = spyProvider();
    manager = await createManager({ provider, now: clock.now, gcInterval: 0, maxLifetime: 30 * 60, ...options });
    store = provider.store!;
  }

  /** login stores a session bound to `user` and returns its id. */
  async function login(user: string): Promise<string> {
    const session = await manager.load(fakeRequest());
    session.bindUser(user);
    session.set('user', user);
    await session.release();
    return session.id;
  }

  /** visit runs one request of session `id` that writes, as an active user's requests do. */
  async function visit(id: string): Promise<void> {
    const session = await manager.load(fakeRequest(`sid=${id}`));
    session.increment('hits');
    await session.release();
  }

  beforeEach(async function () {
    await open();
  });
  afterEach(async function () {
    await manager.close();
  });

  it('a session that expires drops out of its user listing, and its entry is pruned', async function () {
    const kept = await login('ann');
    await clock.advance(20 * MINUTE);
    const expiring = await login('ann');
    await clock.advance(15 * MINUTE);
    await visit(expiring);
    await clock.advance(20 * MINUTE);
    expect(await manager.listUserSessions('ann')).to.deep.equal([expiring]);
    expect(await store.inner.indexList('user:ann')).to.deep.equal([expiring]);
    expect(kept).to.not.equal(expiring);
  });

  it('an active session stays listed past maxLifetime and is re-filed about once per maxLifetime, not per write', async function () {
    const id = await login('ann');
    store.calls.length = 0;
    for (let minute = 0; minute < 120; minute += 5) {
      await clock.advance(5 * MINUTE);
      await visit(id);
    }
    expect(await manager.listUserSessions('ann')).to.deep.equal([id]);
    const refiled = store.calls.filter((call) => call === 'indexAdd').length;
    expect(refiled).to.be.within(1, 4);
  });

  it('a writing request of a bound session costs one read and one conditional write', async function () {
    const id = await login('ann');
    store.calls.length = 0;
    await visit(id);
    expect(store.calls).to.deep.equal(['get', 'compareAndSet']);
  });

  it('a session past its absolute lifetime is not listed', async function () {
    await manager.close();
    await open({ absoluteLifetime: 60 * 60 });
    const id = await login('ann');
    for (let minute = 0; minute < 50; minute += 10) {
      await clock.advance(10 * MINUTE);
      await visit(id);
    }
    expect(await manager.listUserSessions('ann')).to.deep.equal([id]);
    await clock.advance(10 * MINUTE);
    expect(await manager.listUserSessions('ann')).to.deep.equal([]);
  });

  it('binding a session to another user moves it to that user', async function () {
    const id = await login('ann');
    const session = await manager.load(fakeRequest(`sid=${id}`));
    session.bindUser('bob');
    await session.release();
    expect(await manager.listUserSessions('ann')).to.deep.equal([]);
    expect(await manager.listUserSessions('bob')).to.deep.equal([id]);
  });

  it('destroyUserSessions reports each destroyed id to onDestroy', async function () {
    const destroyed: string[] = [];
    await manager.close();
    await open({ onDestroy: (sid) => destroyed.push(sid) });
    const ids = [await login('ann'), await login('ann')];
    expect(await manager.destroyUserSessions('ann')).to.equal(2);
    expect(destroyed.sort()).to.deep.equal(ids.sort());
  });

  it('a store without an index refuses user listings with ERR_SESSION_UNSUPPORTED', async function () {
    const bare: Store = { get: async () => undefined, set: async () => {}, destroy: async () => {} };
    const plain = await createManager({ provider: { open: async () => bare }, gcInterval: 0 });
    for (const call of [() => plain.listUserSessions('ann'), () => plain.destroyUserSessions('ann')]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).to.be.instanceOf(SessionError).with.property('code', 'ERR_SESSION_UNSUPPORTED');
    }
    await plain.close();
  });

  it('bindUser refuses empty, overlong and non-string ids', async function () {
    const session = await manager.load(fakeRequest());
    for (const bad of ['', 'x'.repeat(501), 7, undefined]) {
      expect(() => session.bindUser(bad as string)).to.throw(SessionError, /user id/);
    }
  });

  describe('regenerate forwarding', function () {
    it('a save that loaded the old id before the regenerate lands under the new id and sends no cookie', async function () {
      const id = await login('ann');
      const racing = await manager.load(fakeRequest(`sid=${id}`));
      const regenerating = await manager.load(fakeRequest(`sid=${id}`));
      await regenerating.regenerate();
      await regenerating.release();
      racing.set('late', 'kept');
      await racing.release();
      expect(racing.cookieDecision()).to.deep.equal({ action: 'none' });
      const after = await manager.load(fakeRequest(`sid=${regenerating.id}`));
      expect(after.get('late')).to.equal('kept');
      expect(after.get('user')).to.equal('ann');
    });

    it('a request that arrives with the old id after the regenerate gets a fresh session', async function () {
      const id = await login('ann');
      const regenerating = await manager.load(fakeRequest(`sid=${id}`));
      await regenerating.regenerate();
      const late = await manager.load(fakeRequest(`sid=${id}`));
      expect(late.isNew).to.equal(true);
      expect(late.id).to.not.equal(id).and.not.equal(regenerating.id);
      expect(late.get('user')).to.equal(undefined);
    });

    it('past the grace the old id forwards nothing: the racing save is dropped, not written elsewhere', async function () {
      const id = await login('ann');
      const racing = await manager.load(fakeRequest(`sid=${id}`));
      const regenerating = await manager.load(fakeRequest(`sid=${id}`));
      await regenerating.regenerate();
      await clock.advance(2 * MINUTE);
      racing.set('late', 'dropped');
      await racing.release();
      const after = await manager.load(fakeRequest(`sid=${regenerating.id}`));
      expect(after.get('late')).to.equal(undefined);
      expect(await manager.count()).to.equal(1);
    });

    it('the forward is not a session: count stays exact across a regenerate', async function () {
      const id = await login('ann');
      expect(await manager.count()).to.equal(1);
      const session = await manager.load(fakeRequest(`sid=${id}`));
      await session.regenerate();
      await session.release();
      expect(await manager.count()).to.equal(1);
      expect(await manager.listUserSessions('ann')).to.deep.equal([session.id]);
    });
  });
});
