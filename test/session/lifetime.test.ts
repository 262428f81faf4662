import { expect } from 'chai';
import { SessionError } from 'sessionkit';
import { openSessions, type Sessions } from '../support/sessions.ts';

const DAY = 86_400_000;
const MONTH = 30 * DAY;

describe('per-session lifetime ("remember me")', function () {
  let s: Sessions;
  beforeEach(async function () {
    s = await openSessions({ maxLifetime: 3600 });
  });
  afterEach(async function () {
    await s.manager.close();
  });

  it('cookie.maxAge gives this session a persistent cookie and an idle lifetime that long, kept across requests', async function () {
    const session = await s.load();
    session.user = 'carol';
    session.cookie.maxAge = MONTH;
    expect(session.cookieDecision()).to.deep.equal({ action: 'set', id: session.id, maxAgeMs: MONTH });
    expect(s.manager.cookieFor(session.id, MONTH)).to.match(/; Max-Age=2592000;/);
    expect(session.cookie.maxAge).to.equal(MONTH);
    expect(session.cookie.originalMaxAge).to.equal(MONTH);
    expect(session.lifetime).to.equal(MONTH / 1000);
    await session.release();
    await s.clock.advance(29 * DAY);
    const later = await s.load(session.id);
    expect(later.user, 'alive after 29 idle days, far past maxLifetime').to.equal('carol');
    expect(later.cookie.maxAge).to.equal(DAY);
    later.visits = 1;
    expect(later.cookieDecision(), 'a write rolls the persistent cookie').to.deep.equal({ action: 'set', id: session.id, maxAgeMs: MONTH });
    await later.release();
    expect(later.cookie.expires?.getTime()).to.equal(s.clock.now() + MONTH);
  });

  it('another session keeps the manager lifetime and a browser-session cookie', async function () {
    const session = await s.load();
    session.user = 'dave';
    expect(session.cookie.maxAge).to.equal(null);
    expect(session.cookie.expires).to.equal(null);
    expect(session.maxAge).to.equal('session');
    await session.release();
    await s.clock.advance(3601_000);
    expect((await s.load(session.id)).isNew).to.equal(true);
  });

  it('the lifetime survives both kinds of regenerate', async function () {
    for (const keep of [undefined, ['user']]) {
      const session = await s.load();
      session.user = 'carol';
      session.cookie.maxAge = MONTH;
      await session.release();
      const next = await s.load(session.id);
      await (keep === undefined ? next.regenerate() : next.regenerate(keep));
      expect(next.cookie.originalMaxAge, String(keep)).to.equal(MONTH);
      await next.release();
      await s.clock.advance(10 * DAY);
      expect((await s.load(next.id)).user, String(keep)).to.equal('carol');
    }
  });

  it('maxAge = null, expires = false and updateExpiration(undefined) return a session to the manager lifetime', async function () {
    const session = await s.load();
    for (const reset of [() => (session.cookie.maxAge = null), () => (session.cookie.expires = false), () => session.updateExpiration(undefined)]) {
      session.updateExpiration(7 * 86_400);
      expect(session.lifetime).to.equal(7 * 86_400);
      reset();
      expect(session.lifetime).to.equal(undefined);
      expect(session.cookie.originalMaxAge).to.equal(null);
    }
  });

  it('cookie.expires and koa-session maxAge set the same lifetime', async function () {
    const session = await s.load();
    session.cookie.expires = new Date(s.clock.now() + 2 * DAY);
    expect(session.lifetime).to.equal(2 * 86_400);
    session.maxAge = DAY;
    expect(session.cookie.originalMaxAge).to.equal(DAY);
    session.maxAge = 'session';
    expect(session.lifetime).to.equal(undefined);
  });

  it('the absolute lifetime still caps a remembered session', async function () {
    const capped = await openSessions({ maxLifetime: 3600, absoluteLifetime: 7 * 86_400 });
    const session = await capped.load();
    session.user = 'carol';
    session.cookie.maxAge = MONTH;
    await session.release();
    await capped.clock.advance(7 * DAY);
    expect((await capped.load(session.id)).isNew).to.equal(true);
    await capped.manager.close();
  });

  it('bad lifetimes and per-session cookie attributes are refused', async function () {
    const session = await s.load();
    for (const bad of [0, -1, NaN, Infinity, '1d']) {
      expect(() => (session.cookie.maxAge = bad as number), String(bad)).to.throw(SessionError, /cookie\.maxAge must be a positive number/);
    }
    expect(() => ((session.cookie as { secure: boolean }).secure = true)).to.throw(SessionError, /cookie\.secure is set for every session by the manager/);
    expect(session.cookie.toJSON()).to.include({ path: '/', httpOnly: true, secure: false, sameSite: 'lax', originalMaxAge: null });
  });
});
