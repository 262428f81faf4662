import { expect } from 'chai';
import { createManager, SessionError, type Manager, type ManagerOptions } from 'sessionkit';
import { fakeClock, type TestClock } from 'sessionkit/testing';
import { spyProvider, type SpyStore } from '../support/spy-store.ts';
import { fakeRequest } from '../support/requests.ts';

describe('Session and Manager', function () {
  let clock: TestClock;
  let manager: Manager;
  let store: SpyStore;
  let errors: Error[];

  async function open(options: ManagerOptions = {}): Promise<void> {
    clock = fakeClock();
    errors = [];
    const provider = spyProvider();
    manager = await createManager({ provider, now: clock.now, onError: (e) => errors.push(e), gcInterval: 0, ...options });
    store = provider.store!;
  }
  const cookieOf = (id: string) => `sid=${id}`;

  /** created stores a session holding `data` and returns its id. */
  async function created(data: Record<string, string> = { a: '1' }): Promise<string> {
    const session = await manager.load(fakeRequest());
    for (const [k, v] of Object.entries(data)) session.set(k, v);
    await session.release();
    return session.id;
  }

  beforeEach(async function () {
    await open();
  });
  afterEach(async function () {
    await manager.close();
  });

  it('names of Object.prototype members read as absent until set, before and after a round trip', async function () {
    const inherited = ['toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__'];
    const fresh = await manager.load(fakeRequest());
    const stored = await manager.load(fakeRequest(cookieOf(await created())));
    for (const session of [fresh, stored]) {
      for (const key of inherited) {
        expect(session.get(key), key).to.equal(undefined);
        expect(session.has(key), key).to.equal(false);
        expect(session.getString(key, 'none'), key).to.equal('none');
        expect(session.peekFlash(key), key).to.equal(undefined);
        expect(session.getFlash(key), key).to.equal(undefined);
      }
      expect(session.increment('valueOf')).to.equal(1);
      expect(session.keys()).to.not.include('toString');
    }
  });

  it('a request without a cookie never calls the store and stores nothing', async function () {
    const session = await manager.load(fakeRequest());
    expect(session.get('x')).to.equal(undefined);
    await session.release();
    expect(store.calls).to.deep.equal([]);
    expect(session.cookieDecision()).to.deep.equal({ action: 'none' });
  });

  it('a read-only request costs exactly one store round trip', async function () {
    const id = await created();
    store.calls.length = 0;
    const session = await manager.load(fakeRequest(cookieOf(id)));
    expect(session.get('a')).to.equal('1');
    await session.release();
    expect(store.calls).to.deep.equal(['get']);
  });

  it('a writing request costs one read and one conditional write', async function () {
    const id = await created();
    store.calls.length = 0;
    const session = await manager.load(fakeRequest(cookieOf(id)));
    session.set('b', '2');
    await session.release();
    expect(store.calls).to.deep.equal(['get', 'compareAndSet']);
  });

  it('expiry refresh of an unchanged session is throttled to once per touchInterval', async function () {
    await open({ touchInterval: 60, maxLifetime: 600 });
    const id = await created();
    for (let i = 0; i < 3; i++) {
      await clock.advance(10_000);
      await (await manager.load(fakeRequest(cookieOf(id)))).release();
    }
    expect(store.calls.filter((c) => c === 'compareAndSet')).to.have.length(1, 'only the creating write');
    await clock.advance(31_000);
    await (await manager.load(fakeRequest(cookieOf(id)))).release();
    await clock.advance(1_000);
    await (await manager.load(fakeRequest(cookieOf(id)))).release();
    expect(store.calls.filter((c) => c === 'compareAndSet')).to.have.length(2, 'one refresh after 61 s');
  });

  it('a session idle for longer than maxLifetime reads as new', async function () {
    await open({ maxLifetime: 100 });
    const id = await created();
    await clock.advance(99_000);
    expect((await manager.load(fakeRequest(cookieOf(id)))).get('a')).to.equal('1');
    await clock.advance(101_000);
    const session = await manager.load(fakeRequest(cookieOf(id)));
    expect(session.isNew).to.equal(true);
    expect(session.id).to.not.equal(id);
  });

  it('activity extends the idle expiry but never past absoluteLifetime', async function () {
    await open({ maxLifetime: 100, absoluteLifetime: 250, touchInterval: 10 });
    const id = await created();
    for (let t = 0; t < 240; t += 60) {
      await clock.advance(60_000);
      const session = await manager.load(fakeRequest(cookieOf(id)));
      expect(session.get('a'), `at ${t + 60}s`).to.equal('1');
      await session.release();
    }
    await clock.advance(20_000);
    const late = await manager.load(fakeRequest(cookieOf(id)));
    expect(late.isNew).to.equal(true);
    await late.release();
    expect(await store.inner.get(id)).to.equal(undefined);
  });

  it('a corrupt stored record gives a fresh session, is reported, and is removed', async function () {
    const id = await created();
    await store.inner.set(id, '{"v":1,"c":1,"t":1,"d":{"__proto__":{"x":1}}}', clock.now() + 60_000);
    const session = await manager.load(fakeRequest(cookieOf(id)));
    expect(session.isNew).to.equal(true);
    expect(session.keys()).to.deep.equal([]);
    expect(errors).to.have.length(1);
    expect(errors[0]).to.be.instanceOf(SessionError).with.property('code', 'ERR_SESSION_CORRUPT_RECORD');
    await session.release();
    expect(await store.inner.get(id)).to.equal(undefined);
  });

  it('a failing destroy rejects, the session reads empty, and release retries the destroy', async function () {
    const id = await created();
    const session = await manager.load(fakeRequest(cookieOf(id)));
    store.failing.add('destroy');
    const error = await session.destroy().catch((e: unknown) => e);
    expect(error).to.be.instanceOf(SessionError).with.property('code', 'ERR_SESSION_STORE');
    expect(session.get('a')).to.equal(undefined);
    store.failing.clear();
    await session.release();
    expect(await store.inner.get(id)).to.equal(undefined);
  });

  it('with onStoreError "continue" a failing load gives a detached session that never writes', async function () {
    await open({ onStoreError: 'continue' });
    const id = await created();
    store.failing.add('get');
    const session = await manager.load(fakeRequest(cookieOf(id)));
    session.set('x', 'y');
    await session.release();
    expect(errors).to.have.length(1);
    expect(store.calls.filter((c) => c === 'compareAndSet')).to.have.length(1, 'only the creating write');
    expect(session.cookieDecision()).to.deep.equal({ action: 'none' });
  });

  it('by default a failing load rejects with a store error naming the provider', async function () {
    const id = await created();
    store.failing.add('get');
    const error = await manager.load(fakeRequest(cookieOf(id))).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(SessionError).with.property('code', 'ERR_SESSION_STORE');
    expect((error as Error).message).to.match(/^session\/custom: load failed/);
  });

  it('hostile cookie values never reach the store and give a fresh session', async function () {
    const hostile = ['../../etc/passwd', '..%2F..%2Fx', '%252e%252e%252f', '..\\..\\x', '/abs/path', 'C:\\x', 'x'.repeat(10_240), 'ZZZZ' + 'a'.repeat(28),
      'A'.repeat(32), 'a'.repeat(31), 'a'.repeat(33), '．．／' + 'a'.repeat(29), 'a'.repeat(31) + '\u0301', 'a'.repeat(16) + '\u0000' + 'a'.repeat(15), 'a b'];
    for (const value of hostile) {
      const session = await manager.load(fakeRequest(`sid=${value}`));
      expect(session.isNew).to.equal(true);
      expect(session.id).to.match(/^[0-9a-f]{32}$/);
    }
    expect(store.calls).to.deep.equal([]);
  });

  it('a new id that is already taken is replaced before anything is written', async function () {
    const taken = await created({ owner: 'first' });
    const ids = [taken];
    const original = manager.newId.bind(manager);
    manager.newId = () => ids.shift() ?? original();
    const session = await manager.load(fakeRequest());
    session.set('owner', 'second');
    await session.release();
    expect(session.id).to.not.equal(taken);
    const first = await manager.load(fakeRequest(cookieOf(taken)));
    expect(first.get('owner')).to.equal('first');
  });

  it('a save that keeps losing its compare-and-set sends each attempt once, gives up after maxRetries and keeps its changes', async function () {
    await manager.close();
    await open({ maxRetries: 2 });
    const id = await created({ n: '1' });
    const session = await manager.load(fakeRequest(cookieOf(id)));
    session.set('n', '2');
    // Every compare-and-set loses, as if another request wrote the session each time.
    store.inner.compareAndSet = async () => false;
    store.calls.length = 0;
    const error = await session.release().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(SessionError);
    expect((error as SessionError).code).to.equal('ERR_SESSION_CONTENDED');
    expect((error as SessionError).message).to.include('after 3 conflicting attempts');
    expect(store.calls).to.deep.equal(['compareAndSet', 'get', 'compareAndSet', 'get', 'compareAndSet']);
    delete (store.inner as { compareAndSet?: unknown }).compareAndSet;
    await session.release();
    expect((await manager.load(fakeRequest(cookieOf(id)))).get('n')).to.equal('2');
  });

  it('typed getters convert what they can (a number or boolean reads as its text) and give the default otherwise', async function () {
    const session = await manager.load(fakeRequest());
    session.set('s', 'text');
    session.set('n', 42);
    session.set('ns', '7');
    session.set('b', true);
    session.set('bs', 'false');
    expect(session.getString('s')).to.equal('text');
    expect(session.getString('n', 'dflt')).to.equal('42');
    expect(session.getString('b')).to.equal('true');
    session.set('o', { a: 1 });
    expect(session.getString('o', 'dflt')).to.equal('dflt');
    expect(session.getString('missing', 'dflt')).to.equal('dflt');
    expect(session.getNumber('n')).to.equal(42);
    expect(session.getNumber('ns')).to.equal(7);
    expect(session.getNumber('s', -1)).to.equal(-1);
    expect(session.getBoolean('b')).to.equal(true);
    expect(session.getBoolean('bs', true)).to.equal(false);
    expect(session.getBoolean('missing')).to.equal(false);
    expect(session.increment('count')).to.equal(1);
    expect(session.increment('count', 5)).to.equal(6);
    expect(session.decrement('count', 2)).to.equal(4);
    expect(session.decrement('fresh', 3), 'a missing key counts from 0').to.equal(-3);
  });

  it('flush and deleting the last key are persisted', async function () {
    const id = await created({ a: '1', b: '2' });
    const first = await manager.load(fakeRequest(cookieOf(id)));
    first.flush();
    await first.release();
    expect((await manager.load(fakeRequest(cookieOf(id)))).keys()).to.deep.equal([]);
    const id2 = await created({ only: 'x' });
    const second = await manager.load(fakeRequest(cookieOf(id2)));
    second.delete('only');
    await second.release();
    expect((await manager.load(fakeRequest(cookieOf(id2)))).has('only')).to.equal(false);
  });

  it('a keyed flash read with getFlash stays readable for the rest of that request and is gone from the next; peek does not consume', async function () {
    const session = await manager.load(fakeRequest());
    session.setFlash('form', { email: 'bad' });
    await session.release();
    const next = await manager.load(fakeRequest(cookieOf(session.id)));
    expect(next.hasFlash('form')).to.equal(true);
    expect(next.peekFlash('form')).to.deep.equal({ email: 'bad' });
    expect(next.getFlash('form')).to.deep.equal({ email: 'bad' });
    expect(next.getFlash('form')).to.deep.equal({ email: 'bad' });
    expect(next.hasFlash('form')).to.equal(true);
    await next.release();
    expect((await manager.load(fakeRequest(cookieOf(session.id)))).hasFlash('form')).to.equal(false);
  });

  it('a flash with now is shown in this request only and never stored', async function () {
    const session = await manager.load(fakeRequest());
    session.flash.warning('right now', true);
    session.flash.info('next time');
    expect(session.flash.view().messages).to.deep.equal([{ level: 'warning', text: 'right now' }]);
    await session.release();
    const next = await manager.load(fakeRequest(cookieOf(session.id)));
    expect(next.flash.view()).to.deep.include({ infoMsg: 'next time', warningMsg: '' });
  });

  it('set refuses reserved keys and non-JSON values with a clear error', async function () {
    const session = await manager.load(fakeRequest());
    expect(() => session.set('__proto__', 1)).to.throw(SessionError, /cannot be used as a session key/);
    expect(() => session.set('when', new Date() as unknown as string)).to.throw(SessionError, /JSON data only/);
  });

  it('an oversized session fails at save and leaves the stored session unchanged', async function () {
    await open({ maxRecordSize: 1024 });
    const id = await created({ a: '1' });
    const session = await manager.load(fakeRequest(cookieOf(id)));
    session.set('big', 'x'.repeat(2000));
    const error = await session.release().catch((e: unknown) => e);
    expect(error).to.be.instanceOf(SessionError).with.property('code', 'ERR_SESSION_TOO_LARGE');
    const again = await manager.load(fakeRequest(cookieOf(id)));
    expect(again.keys()).to.deep.equal(['a']);
  });
});
