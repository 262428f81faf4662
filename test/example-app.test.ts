import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Manager } from 'sessionkit';
import { loadIni } from 'sessionkit/config';
import { CookieClient, closeServer } from 'sessionkit/testing';
import { DEFAULT_CONFIG, DEMO_PASSWORD, createApp } from '../examples/express/app.ts';

function sessionId(client: CookieClient): string | undefined {
  return client.cookie?.split('=')[1];
}

function login(client: CookieClient, username: string, password = DEMO_PASSWORD) {
  return client.request('/login', { method: 'POST', body: new URLSearchParams({ username, password }) });
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** unescape decodes the entities an HTML escaper writes. */
function unescape(html: string): string {
  return html.replace(/&(#\d+|\w+);/g, (entity, name: string) =>
    name.startsWith('#') ? String.fromCharCode(Number(name.slice(1))) : (ENTITIES[name] ?? entity));
}

/** flashes returns the [level, text] of every flash element on a page, text unescaped. */
function flashes(html: string): [string, string][] {
  return [...html.matchAll(/<div class="flash flash-(\w+)"[^>]*>([^<]*)<\/div>/g)].map((m) => [m[1]!, unescape(m[2]!)]);
}

describe('example app (examples/express)', function () {
  let manager: Manager;
  let server: Server;
  let base: string;

  before(async function () {
    const created = await createApp();
    manager = created.manager;
    server = createServer(created.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async function () {
    await closeServer(server);
    await manager.close();
  });

  it('examples/app.ini configures the memory provider and the example cookie name', async function () {
    const options = await loadIni(DEFAULT_CONFIG);
    assert.equal(options.provider, 'memory');
    assert.equal(options.cookieName, 'sessionkit_example');
    assert.equal(manager.providerName, 'memory');
  });

  it('the home page counts visits per session', async function () {
    const client = new CookieClient(base);
    assert.match((await client.request('/')).body, /<strong id="visits">1<\/strong> time in/);
    assert.match((await client.request('/')).body, /<strong id="visits">2<\/strong> times/);
    const other = new CookieClient(base);
    assert.match((await other.request('/')).body, /<strong id="visits">1<\/strong>/);
  });

  it('login regenerates the session id, keeps the data, and shows the welcome flash exactly once', async function () {
    const client = new CookieClient(base);
    await client.request('/');
    const before = sessionId(client);
    assert.ok(before);

    const reply = await login(client, 'ann');
    assert.equal(reply.status, 303);
    assert.equal(reply.headers.get('location'), '/members');
    const after = sessionId(client);
    assert.ok(after);
    assert.notEqual(after, before, 'the login must issue a new session id');
    assert.equal(await manager.store.get(before), undefined, 'the pre-login id must be gone from the store');

    const members = await client.request('/members');
    assert.equal(members.status, 200);
    assert.match(members.body, /<strong id="member">ann<\/strong>/);
    assert.deepEqual(flashes(members.body), [['success', 'Welcome, ann!']]);

    const again = await client.request('/members');
    assert.equal(again.status, 200);
    assert.deepEqual(flashes(again.body), [], 'a flash is shown once');
    assert.match((await client.request('/')).body, /<strong id="visits">2<\/strong>/, 'the visit count survives the new id');
  });

  it('a wrong password shows an error flash and does not log in', async function () {
    const client = new CookieClient(base);
    const reply = await login(client, 'ann', 'not-the-password');
    assert.equal(reply.status, 303);
    assert.equal(reply.headers.get('location'), '/login');
    assert.deepEqual(flashes((await client.request('/login')).body), [['error', 'Wrong username or password']]);
    assert.equal((await client.request('/members')).status, 303);
  });

  it('an empty username is refused even with the demo password', async function () {
    const client = new CookieClient(base);
    assert.equal((await login(client, '   ')).headers.get('location'), '/login');
    assert.deepEqual(flashes((await client.request('/login')).body), [['error', 'Wrong username or password']]);
  });

  it('the members page sends a visitor who is not logged in to /login with a warning flash', async function () {
    const client = new CookieClient(base);
    const reply = await client.request('/members');
    assert.equal(reply.status, 303);
    assert.equal(reply.headers.get('location'), '/login');
    const page = await client.request('/login');
    assert.deepEqual(flashes(page.body), [['warning', 'Please log in first']]);
    assert.match(page.body, /any username works with the password <code>secret<\/code>/);
  });

  it('logout destroys the session: the old id is gone, an info flash shows, and members redirects to login', async function () {
    const client = new CookieClient(base);
    await login(client, 'bob');
    const loggedIn = sessionId(client)!;
    assert.equal((await client.request('/members')).status, 200);

    const reply = await client.request('/logout', { method: 'POST' });
    assert.equal(reply.status, 303);
    assert.equal(reply.headers.get('location'), '/');
    assert.equal(await manager.store.get(loggedIn), undefined);
    assert.notEqual(sessionId(client), loggedIn);

    const home = await client.request('/');
    assert.deepEqual(flashes(home.body), [['info', 'You have been logged out']]);
    assert.match(home.body, /You are not logged in/);

    const members = await client.request('/members');
    assert.equal(members.status, 303);
    assert.equal(members.headers.get('location'), '/login');
    assert.deepEqual(flashes((await client.request('/login')).body), [['warning', 'Please log in first']]);
  });

  it('the old session cookie no longer logs in after logout', async function () {
    const client = new CookieClient(base);
    await login(client, 'carol');
    const stolen = client.cookie;
    await client.request('/logout', { method: 'POST' });
    const thief = new CookieClient(base);
    thief.cookie = stolen;
    assert.equal((await thief.request('/members')).status, 303);
  });

  it('the members page counts the user\'s sessions and "log out everywhere" ends them all', async function () {
    const [laptop, phone, other] = [new CookieClient(base), new CookieClient(base), new CookieClient(base)];
    await login(laptop, 'dora');
    await login(phone, 'dora');
    await login(other, 'eve');
    assert.match((await laptop.request('/members')).body, /<span id="sessions">2<\/span> times/);

    const reply = await laptop.request('/logout-everywhere', { method: 'POST' });
    assert.equal(reply.status, 303);
    assert.deepEqual(flashes((await laptop.request('/')).body), [['info', 'Logged out of 2 sessions']]);
    assert.equal((await phone.request('/members')).status, 303, 'the other device is logged out too');
    assert.equal((await other.request('/members')).status, 200, 'another user is not');
  });

  it('user-provided text is escaped in every page and flash', async function () {
    const client = new CookieClient(base);
    const name = '<img src=x onerror="alert(1)">&';
    await login(client, name);
    const page = (await client.request('/members')).body;
    assert.ok(!page.includes('<img'), 'raw markup from the username must not reach the page');
    const member = /<strong id="member">([^<]*)<\/strong>/.exec(page)?.[1];
    assert.equal(unescape(member ?? ''), name);
    assert.deepEqual(flashes(page), [['success', `Welcome, ${name}!`]]);
  });
});
