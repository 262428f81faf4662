import { expect } from 'chai';
import { inspect } from 'node:util';
import { Session, SessionError } from 'sessionkit';
import { openSessions, type Sessions } from '../support/sessions.ts';

describe('session data as plain properties', function () {
  let s: Sessions;
  beforeEach(async function () {
    s = await openSessions();
  });
  afterEach(async function () {
    await s.manager.close();
  });

  it('a property write is stored like set, and a property read sees what get sees', async function () {
    const session = await s.load();
    session.views = 1;
    session['profile'] = { name: 'carol' };
    expect(session.get('views')).to.equal(1);
    await session.release();
    const next = await s.load(session.id);
    expect(next.views).to.equal(1);
    expect(next.get('profile')).to.deep.equal({ name: 'carol' });
    expect(next.profile).to.deep.equal({ name: 'carol' });
  });

  it('delete removes a key, and assigning undefined removes it too', async function () {
    const id = await s.created({ a: 1, b: 2 });
    const session = await s.load(id);
    delete session.a;
    session.b = undefined;
    expect(session.keys()).to.deep.equal([]);
    await session.release();
    expect((await s.load(id)).keys()).to.deep.equal([]);
  });

  it('a change made in place to an object read as a property or with get is stored as a write of its key', async function () {
    const id = await s.created({ cart: { items: [1] }, prefs: { theme: 'dark' } });
    const session = await s.load(id);
    (session.cart as { items: number[] }).items.push(2);
    (session.get('prefs') as { theme: string }).theme = 'light';
    await session.release();
    const next = await s.load(id);
    expect(next.cart).to.deep.equal({ items: [1, 2] });
    expect(next.prefs).to.deep.equal({ theme: 'light' });
  });

  it('reading objects without changing them writes nothing', async function () {
    const id = await s.created({ passport: { user: 'carol' } });
    s.store.calls.length = 0;
    const session = await s.load(id);
    expect((session.passport as { user: string }).user).to.equal('carol');
    expect(Object.keys(session)).to.deep.equal(['passport']);
    await session.release();
    expect(s.store.calls).to.deep.equal(['get']);
  });

  it('a change made in place after a save is stored by the next save', async function () {
    const id = await s.created({ cart: { items: [] } });
    const session = await s.load(id);
    const cart = session.cart as { items: number[] };
    cart.items.push(1);
    await session.save();
    cart.items.push(2);
    await session.save();
    expect((await s.load(id)).cart).to.deep.equal({ items: [1, 2] });
  });

  it('concurrent requests that change different keys, in place or by assignment, both keep their change', async function () {
    const id = await s.created({ cart: { items: [1] }, profile: { name: 'a' } });
    const first = await s.load(id);
    const second = await s.load(id);
    (first.cart as { items: number[] }).items.push(2);
    (second.profile as { name: string }).name = 'b';
    second.visits = 1;
    await first.release();
    await second.release();
    const after = await s.load(id);
    expect(after.getAll()).to.deep.equal({ cart: { items: [1, 2] }, profile: { name: 'b' }, visits: 1 });
  });

  it('concurrent changes to the same key: the later save wins for that whole key', async function () {
    const id = await s.created({ cart: { items: [1] } });
    const first = await s.load(id);
    const second = await s.load(id);
    (first.cart as { items: number[] }).items.push(2);
    (second.cart as { items: number[] }).items.push(3);
    await first.release();
    await second.release();
    expect((await s.load(id)).cart).to.deep.equal({ items: [1, 3] });
  });

  it('Object.keys, for…in, in, hasOwnProperty, Object.entries and JSON.stringify see the data keys', async function () {
    const session = await s.load();
    session.a = 1;
    session.set('b', [2]);
    const seen: string[] = [];
    for (const key in session) seen.push(key);
    expect(seen).to.deep.equal(['a', 'b']);
    expect(Object.keys(session)).to.deep.equal(['a', 'b']);
    expect(Object.entries(session)).to.deep.equal([['a', 1], ['b', [2]]]);
    expect(JSON.parse(JSON.stringify(session))).to.deep.equal({ a: 1, b: [2] });
    expect('a' in session && 'get' in session && !('c' in session)).to.equal(true);
    expect(Object.prototype.hasOwnProperty.call(session, 'a')).to.equal(true);
    expect(session.hasOwnProperty('b')).to.equal(true);
    expect(session.hasOwnProperty('get')).to.equal(false);
    expect({ ...session }).to.deep.equal({ a: 1, b: [2] });
  });

  it('the view is a Session: instanceof holds, methods work detached, and inspect shows the data but never the id', async function () {
    const session = await s.load();
    expect(session).to.be.instanceOf(Session);
    const { set, get } = session;
    set('k', 'v');
    expect(get('k')).to.equal('v');
    expect(inspect(session)).to.equal("Session { k: 'v' }");
  });

  it('assigning or deleting a name of the session API is refused, naming it and saying how to store data under it', async function () {
    const session = await s.load();
    const assign = (name: string) => () => {
      (session as unknown as Record<string, unknown>)[name] = 1;
    };
    for (const name of ['get', 'regenerate', 'id', 'cookie']) {
      expect(assign(name), name).to.throw(SessionError, new RegExp(`"${name}" is part of the session's API.*session\\.set\\("${name}"`));
    }
    expect(assign('flash')).to.throw(SessionError, /flashProperty/);
    expect(() => delete (session as unknown as Record<string, unknown>).get).to.throw(SessionError);
    session.set('get', 'data under an API name');
    expect(session.get('get')).to.equal('data under an API name');
    expect(typeof session.get).to.equal('function');
  });

  it('with flashProperty "flashes", session.flash is plain data and session.flashes is the leveled flash', async function () {
    const other = await openSessions({ flashProperty: 'flashes' });
    const session = await other.load();
    (session as Record<string, unknown>).flash = { info: ['from connect-flash'] };
    (session.flashes as Session['flash']).success('from sessionkit');
    await session.release();
    const next = await other.load(session.id);
    expect(next.flash).to.deep.equal({ info: ['from connect-flash'] });
    expect((next.flashes as Session['flash']).view().successMsg).to.equal('from sessionkit');
    await other.manager.close();
  });

  it('values changed after set() are checked when the session is saved: nothing is written and the error names the path', async function () {
    const id = await s.created({ keep: 'me' });
    for (const spoil of [
      (cart: { items: unknown[] }) => cart.items.push(JSON.parse('{"__proto__":{"x":1}}')),
      (cart: { items: unknown[] }) => cart.items.push(new Date()),
      (cart: { items: unknown[] }) => cart.items.push(1n),
    ]) {
      const session = await s.load(id);
      const cart = { items: [1] as unknown[] };
      session.set('cart', cart);
      spoil(cart);
      s.store.calls.length = 0;
      const failure = await session.release().then(() => undefined, (error: unknown) => error);
      expect(failure).to.be.instanceOf(SessionError).with.property('code', 'ERR_SESSION_INVALID_VALUE');
      expect((failure as Error).message).to.match(/value at cart\.items\[1\]/);
      expect(s.store.calls, 'nothing written').to.deep.equal([]);
    }
    expect((await s.load(id)).getAll()).to.deep.equal({ keep: 'me' });
  });

  it('an object read as a property and spoiled in place is refused the same way', async function () {
    const id = await s.created({ cart: { items: [] } });
    const session = await s.load(id);
    (session.cart as { items: unknown[] }).items.push(new Map());
    const failure = await session.release().then(() => undefined, (error: unknown) => error);
    expect(failure).to.be.instanceOf(SessionError);
    expect((failure as Error).message).to.match(/value at cart\.items\[0\] is a Map/);
  });

  it('isModified and isSaved follow writes and in-place changes; toJSON copies the data; resetMaxAge and options({ maxAge }) act on the lifetime', async function () {
    const id = await s.created({ cart: { items: [] } });
    const session = await s.load(id);
    expect([session.isModified(), session.isSaved()]).to.deep.equal([false, true]);
    (session.cart as { items: number[] }).items.push(1);
    expect([session.isModified(), session.isSaved()]).to.deep.equal([true, false]);
    await session.save();
    expect([session.isModified(), session.isSaved()]).to.deep.equal([false, true]);
    const copy = session.toJSON();
    expect(copy).to.deep.equal({ cart: { items: [1] } });
    (copy.cart as { items: number[] }).items.push(2);
    expect(session.cart).to.deep.equal({ items: [1] });
    session.options({ maxAge: 60_000 });
    expect(session.lifetime).to.equal(60);
    expect(() => session.options({ secure: true } as never)).to.throw(SessionError, /cookie option secure is set for every session/);
    s.store.calls.length = 0;
    session.cookie.maxAge = null;
    await session.save();
    session.resetMaxAge();
    await session.release();
    expect(s.store.calls.filter((c) => c === 'compareAndSet')).to.have.length(2, 'the lifetime change, then the forced refresh');
  });
});
