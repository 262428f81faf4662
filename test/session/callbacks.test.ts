import { expect } from 'chai';
import { SessionError, type Session } from 'sessionkit';
import { openSessions, type Sessions } from '../support/sessions.ts';
import { uncaught } from '../support/uncaught.ts';

/** called runs `start` with a callback and resolves with every error the callback got, once it has been called. */
function called(start: (callback: (error?: Error | null) => void) => unknown): Promise<(Error | null | undefined)[]> {
  return new Promise((resolve) => {
    const calls: (Error | null | undefined)[] = [];
    const returned = start((error) => {
      calls.push(error);
      setTimeout(() => resolve(calls), 20);
    });
    expect(returned, 'a call with a callback returns nothing').to.equal(undefined);
  });
}

describe('session methods in the callback style', function () {
  let s: Sessions;
  beforeEach(async function () {
    s = await openSessions();
  });
  afterEach(async function () {
    await s.manager.close();
  });

  it('regenerate(cb) calls back once without an error, after the id changed and the data moved', async function () {
    const id = await s.created({ user: 'carol' });
    const session = await s.load(id);
    expect(await called((cb) => session.regenerate(cb))).to.deep.equal([null]);
    expect(session.id).to.not.equal(id);
    expect(await s.store.inner.get(id)).to.equal(undefined);
    expect((await s.load(session.id)).user).to.equal('carol');
  });

  it('each method without a callback returns a promise', async function () {
    const session = await s.load(await s.created());
    for (const result of [session.save(), session.reload(), session.regenerate(), session.regenerate(['a']), session.destroy()]) {
      expect(result).to.be.instanceOf(Promise);
      await result;
    }
  });

  it('save(cb), reload(cb) and destroy(cb) call back once, and a store failure reaches the callback as a SessionError', async function () {
    const id = await s.created();
    const session = await s.load(id);
    session.b = 2;
    expect(await called((cb) => session.save(cb))).to.deep.equal([null]);
    expect((await s.load(id)).b).to.equal(2);
    session.c = 3;
    expect(await called((cb) => session.reload(cb))).to.deep.equal([null]);
    expect(session.c, 'reload drops unsaved changes').to.equal(undefined);
    expect(session.b).to.equal(2);
    s.store.failing.add('destroy');
    const [error] = await called((cb) => session.destroy(cb));
    expect(error).to.be.instanceOf(SessionError).with.property('code', 'ERR_SESSION_STORE');
    s.store.failing.clear();
    expect(await called((cb) => session.destroy(cb))).to.deep.equal([null]);
    expect(await s.store.inner.get(id)).to.equal(undefined);
  });

  it('regenerate(keys) starts a new session that holds only those keys, and destroys the old one', async function () {
    const id = await s.created({ session: 'keep', csrf: 'drop', cart: [1] });
    const session = await s.load(id);
    session.flash.info('old message');
    await session.regenerate(['session', 'cart', 'missing']);
    expect(session.id).to.not.equal(id);
    expect(session.getAll()).to.deep.equal({ session: 'keep', cart: [1] });
    session.passport = { user: 'carol' };
    await session.release();
    expect(await s.store.inner.get(id)).to.equal(undefined);
    const next = await s.load(session.id);
    expect(next.getAll()).to.deep.equal({ session: 'keep', cart: [1], passport: { user: 'carol' } });
    expect(next.flash.view().messages).to.deep.equal([]);
  });

  it('regenerate([], cb) as passport uses it on logout leaves an empty session that stores nothing until written', async function () {
    const id = await s.created({ passport: { user: 'carol' } });
    const session: Session = await s.load(id);
    delete (session.passport as { user?: string }).user;
    await session.save();
    expect(await called((cb) => session.regenerate([], cb))).to.deep.equal([null]);
    s.store.calls.length = 0;
    await session.release();
    expect(s.store.calls).to.deep.equal([]);
    expect(session.cookieDecision()).to.deep.equal({ action: 'clear' });
  });

  it('touch() renews the expiry of an unchanged session at release, before touchInterval is due', async function () {
    const id = await s.created();
    s.store.calls.length = 0;
    const session = await s.load(id);
    session.touch();
    await session.release();
    expect(s.store.calls).to.deep.equal(['get', 'compareAndSet']);
  });

  it('a callback that throws surfaces as an uncaught exception, not as an unhandled rejection', async function () {
    const session = await s.load(await s.created());
    const errors = await uncaught(async () => {
      await new Promise<void>((reached) =>
        session.save(() => {
          reached();
          throw new Error('app bug');
        }),
      );
      // The throw is rethrown on the next tick, which runs before the next check phase.
      await new Promise((resolve) => setImmediate(resolve));
    });
    expect(errors.map((error) => (error as Error).message)).to.deep.equal(['app bug']);
  });
});
