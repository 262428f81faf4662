import { expect } from 'chai';
import express from 'express';
import { inspect } from 'node:util';
import { createManager, type Manager } from 'sessionkit';
import { fakeClock, type TestClock } from 'sessionkit/testing';
import { Browser, listenOn, type RunningApp } from './browser.ts';

const HOUR_MS = 3600 * 1000;
const THIRTY_DAYS_MS = 30 * 24 * HOUR_MS;

/** Calls counts how often each callback ran, and with what, so "called exactly once, error first" can be checked. */
type Calls = Record<string, unknown[]>;

/**
 * shapeApp serves what express-session users do with `req.session` beyond get and set: look at it
 * (Object.keys, JSON, for…in, spread, console.log), its cookie ("remember me"), and the four
 * callback methods.
 */
function shapeApp(manager: Manager, now: () => number): express.Express {
  const app = express();
  app.use(manager.middleware());
  app.post('/fill', (req, res) => {
    req.session.views = 1;
    req.session.cart = { items: ['book'] };
    delete req.session.nothing;
    res.json({ ok: true });
  });
  app.get('/look', (req, res) => {
    const forIn: string[] = [];
    for (const key in req.session) forIn.push(key);
    res.json({
      keys: Object.keys(req.session),
      json: JSON.parse(JSON.stringify(req.session)),
      forIn,
      spread: { ...req.session },
      inspected: inspect(req.session),
      has: ['views' in req.session, 'nothing' in req.session],
      sameId: req.session.id === req.sessionID,
      cookie: { maxAge: req.session.cookie.maxAge, originalMaxAge: req.session.cookie.originalMaxAge, expires: req.session.cookie.expires },
    });
  });
  app.post('/user-id', (req, res) => {
    req.session.userId = 7;
    res.json({ asProperty: req.session.userId, stored: req.session.get('userId'), bound: req.session.boundUserId ?? null });
  });
  app.post('/remember', (req, res) => {
    req.session.cookie.maxAge = THIRTY_DAYS_MS;
    res.json({ ok: true });
  });
  app.post('/regenerate', (req, res, next) => {
    req.session.regenerate((error) => (error ? next(error) : res.json({ ok: true })));
  });
  app.post('/remember-until', (req, res) => {
    req.session.cookie.expires = new Date(now() + HOUR_MS * 2);
    res.json({ ok: true });
  });
  app.post('/forget-me', (req, res) => {
    req.session.cookie.expires = false as unknown as null;
    res.json({ ok: true });
  });
  app.post('/secure', (req, res) => {
    try {
      (req.session.cookie as { secure: boolean }).secure = true;
      res.json({ threw: null });
    } catch (error) {
      res.json({ threw: (error as Error).message });
    }
  });
  app.post('/callbacks', (req, res, next) => {
    const calls: Calls = { regenerate: [], save: [], reload: [], destroy: [] };
    const before = req.session.id;
    req.session.regenerate((error) => {
      calls.regenerate!.push(error);
      const regenerated = req.session.id;
      req.session.views = 5;
      req.session.save((error) => {
        calls.save!.push(error);
        req.session.views = 6; // unsaved: reload drops it
        req.session.reload((error) => {
          calls.reload!.push(error);
          const reloaded = req.session.views;
          req.session.destroy((error) => {
            calls.destroy!.push(error);
            // Give a second call a chance to happen before answering.
            setImmediate(() => res.json({ calls, changed: before !== regenerated, reloaded, afterDestroy: Object.keys(req.session) }));
          });
        });
      });
    });
    void next;
  });
  return app;
}

describe('express-session users on manager.middleware(): req.session looks and behaves like theirs', function () {
  let clock: TestClock;
  let manager: Manager;
  let app: RunningApp;

  before(async function () {
    clock = fakeClock(Date.now());
    manager = await createManager({ gcInterval: 0, maxLifetime: 3600, now: clock.now });
    app = await listenOn(shapeApp(manager, clock.now));
  });
  after(async function () {
    await app.close();
    await manager.close();
  });

  it('Object.keys, JSON.stringify, for…in and spread show the data keys; util.inspect shows the data and never the id', async function () {
    const browser = new Browser(app.base);
    await browser.request('/fill', { method: 'POST' });
    const look = await browser.json('/look');
    const data = { views: 1, cart: { items: ['book'] } };
    expect(look.keys).to.deep.equal(['views', 'cart']);
    expect(look.json).to.deep.equal(data);
    expect(look.forIn).to.deep.equal(['views', 'cart']);
    expect(look.spread).to.deep.equal(data);
    expect(look.inspected).to.equal("Session { views: 1, cart: { items: [ 'book' ] } }");
    expect(look.inspected).to.not.include(browser.cookie('sid')!);
    expect(look.has).to.deep.equal([true, false]);
    expect(look.sameId, 'req.session.id is req.sessionID').to.equal(true);
  });

  it('userId, the name apps most often store their user under, is a data key: assigned and read as a property; the bound user is boundUserId', async function () {
    const browser = new Browser(app.base);
    expect(await browser.json('/user-id', { method: 'POST' })).to.deep.equal({ asProperty: 7, stored: 7, bound: null });
  });

  it('a browser-session cookie shows cookie.maxAge, originalMaxAge and expires as null, as express-session does', async function () {
    const browser = new Browser(app.base);
    await browser.request('/fill', { method: 'POST' });
    expect((await browser.json('/look')).cookie).to.deep.equal({ maxAge: null, originalMaxAge: null, expires: null });
  });

  it('cookie.maxAge = 30 days ("remember me") gives a 30-day cookie and idle lifetime, kept across requests and regenerate, past the manager\'s 1-hour maxLifetime', async function () {
    const browser = new Browser(app.base);
    await browser.request('/fill', { method: 'POST' });
    const remembered = await browser.request('/remember', { method: 'POST' });
    expect(remembered.setCookies[0]).to.match(new RegExp(`^sid=[0-9a-f]{32}; Path=/; Max-Age=${THIRTY_DAYS_MS / 1000};`));
    expect((await browser.request('/look')).setCookies, 'a request that writes nothing sends no cookie').to.deep.equal([]);
    clock.advance(5 * HOUR_MS);
    const read = await browser.request('/look');
    expect(read.setCookies, 'one that refreshes the idle expiry (after touchInterval) sends it again').to.have.length(1);
    const look = JSON.parse(read.body) as Record<string, unknown>;
    expect(look.keys, 'alive after 5 hours idle').to.deep.equal(['views', 'cart']);
    expect(look.cookie).to.deep.include({ originalMaxAge: THIRTY_DAYS_MS });
    expect((look.cookie as { maxAge: number }).maxAge).to.be.within(THIRTY_DAYS_MS - 5 * HOUR_MS - 1000, THIRTY_DAYS_MS - 5 * HOUR_MS);
    expect(Date.parse((look.cookie as { expires: string }).expires)).to.equal(clock.now() - 5 * HOUR_MS + THIRTY_DAYS_MS);
    clock.advance(1000);
    const write = await browser.request('/fill', { method: 'POST' });
    expect(write.setCookies, 'a write sends the cookie again with its full Max-Age').to.have.length(1);
    expect(write.setCookies[0]).to.match(new RegExp(`^sid=${browser.cookie('sid')}; Path=/; Max-Age=${THIRTY_DAYS_MS / 1000};`));
    const regenerated = await browser.request('/regenerate', { method: 'POST' });
    expect(regenerated.setCookies[0], 'regenerate keeps the lifetime').to.match(new RegExp(`^sid=[0-9a-f]{32}; Path=/; Max-Age=${THIRTY_DAYS_MS / 1000};`));
    expect(browser.cookie('sid')).to.not.equal(write.setCookies[0]!.slice(4, 36));
    const forgotten = new Browser(app.base);
    await forgotten.request('/fill', { method: 'POST' });
    clock.advance(2 * HOUR_MS);
    expect((await forgotten.json('/look')).keys, 'without it the session ends after 1 hour idle').to.deep.equal([]);
  });

  it('cookie.expires = a date sets the lifetime to that date, and cookie.expires = false makes a browser-session cookie again', async function () {
    const browser = new Browser(app.base);
    await browser.request('/fill', { method: 'POST' });
    const until = await browser.request('/remember-until', { method: 'POST' });
    expect(until.setCookies[0]).to.match(/; Max-Age=7200;/);
    const back = await browser.request('/forget-me', { method: 'POST' });
    expect(back.setCookies[0]).to.match(/^sid=[0-9a-f]{32}; Path=\/; HttpOnly; SameSite=Lax$/);
    expect((await browser.json('/look')).cookie).to.deep.equal({ maxAge: null, originalMaxAge: null, expires: null });
  });

  it('cookie.secure and the other attributes are the manager\'s: assigning one per session throws instead of being ignored', async function () {
    const browser = new Browser(app.base);
    expect((await browser.json('/secure', { method: 'POST' })).threw).to.equal("session: cookie.secure is set for every session by the manager's options, not per session");
  });

  it('regenerate, save, reload and destroy call their callback exactly once with null, in express-session\'s order of use', async function () {
    const browser = new Browser(app.base);
    await browser.request('/fill', { method: 'POST' });
    const result = await browser.json('/callbacks', { method: 'POST' });
    expect(result.calls).to.deep.equal({ regenerate: [null], save: [null], reload: [null], destroy: [null] });
    expect(result.changed, 'regenerate gave a new id').to.equal(true);
    expect(result.reloaded, 'reload dropped the unsaved write').to.equal(5);
    expect(result.afterDestroy).to.deep.equal([]);
    expect(browser.cookie('sid'), 'destroy cleared the cookie').to.equal(undefined);
  });
});
