import { expect } from 'chai';
import Koa from 'koa';
import { createManager, type Manager } from 'sessionkit';
import { koaSession } from 'sessionkit/koa';
import { Browser, listenOn, type RunningApp } from './browser.ts';

const DAY_MS = 24 * 3600 * 1000;

/** koaShapeApp serves what koa-session users do with ctx.session, one route per idiom. */
function koaShapeApp(manager: Manager): Koa {
  const app = new Koa();
  app.use(koaSession(manager));
  app.use(async (ctx) => {
    switch (ctx.path) {
      case '/views':
        // koa-session's README example.
        ctx.session.views = ((ctx.session.views as number | undefined) ?? 0) + 1;
        ctx.body = { views: ctx.session.views, isNew: ctx.session.isNew, populated: ctx.session.populated, maxAge: ctx.session.maxAge };
        return;
      case '/replace':
        ctx.session = { theme: 'dark' };
        ctx.body = { json: JSON.parse(JSON.stringify(ctx.session)) };
        return;
      case '/remember':
        ctx.session.maxAge = 7 * DAY_MS;
        ctx.body = { maxAge: ctx.session.maxAge };
        return;
      case '/browser-session':
        ctx.session.maxAge = 'session';
        ctx.body = { maxAge: ctx.session.maxAge };
        return;
      case '/look':
        ctx.body = { json: JSON.parse(JSON.stringify(ctx.session)), keys: Object.keys(ctx.session), maxAge: ctx.session.maxAge };
        return;
    }
  });
  return app;
}

describe('koa-session users on koaSession(manager): ctx.session looks and behaves like theirs', function () {
  let manager: Manager;
  let app: RunningApp;

  before(async function () {
    manager = await createManager({ gcInterval: 0 });
    app = await listenOn(koaShapeApp(manager));
  });
  after(async function () {
    await app.close();
    await manager.close();
  });

  it('the views counter of koa-session\'s README counts, with isNew and populated as koa-session reports them', async function () {
    const browser = new Browser(app.base);
    expect(await browser.json('/views')).to.deep.equal({ views: 1, isNew: true, populated: true, maxAge: 'session' });
    expect(await browser.json('/views')).to.deep.equal({ views: 2, isNew: false, populated: true, maxAge: 'session' });
  });

  it('ctx.session = { … } replaces the data with the object\'s keys, and JSON.stringify(ctx.session) shows them', async function () {
    const browser = new Browser(app.base);
    await browser.json('/views');
    expect((await browser.json('/replace')).json).to.deep.equal({ theme: 'dark' });
    expect(await browser.json('/look')).to.deep.include({ json: { theme: 'dark' }, keys: ['theme'] });
  });

  it('ctx.session.maxAge = ms gives that session a persistent cookie; "session" turns it back into a browser-session cookie', async function () {
    const browser = new Browser(app.base);
    await browser.json('/views');
    const remembered = await browser.request('/remember');
    expect(remembered.setCookies[0]).to.match(new RegExp(`^sid=[0-9a-f]{32}; Path=/; Max-Age=${(7 * DAY_MS) / 1000};`));
    expect((await browser.json('/look')).maxAge).to.equal(7 * DAY_MS);
    const back = await browser.request('/browser-session');
    expect(back.setCookies[0]).to.match(/^sid=[0-9a-f]{32}; Path=\/; HttpOnly; SameSite=Lax$/);
    expect((await browser.json('/look')).maxAge).to.equal('session');
  });
});
