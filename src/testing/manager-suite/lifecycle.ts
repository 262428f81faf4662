import assert from 'node:assert/strict';
import { generateId } from '../../id.ts';
import { CookieClient } from '../http-client.ts';
import { idOf, type ManagerHarness } from './harness.ts';

/**
 * lifecycleTests registers the tests of one session's life over HTTP, one request at a time: lazy
 * creation, reads across requests, regenerate, destroy (also when the store fails it), flush,
 * flash across a redirect and after a logout, and count and destroy by id.
 */
export function lifecycleTests(harness: ManagerHarness): void {
  it('a request that never writes stores nothing and sets no cookie', async function () {
    const { base, countIfSupported, storeCallsDuring } = harness;
    const before = await countIfSupported();
    const client = new CookieClient(base);
    let reply: Awaited<ReturnType<CookieClient['request']>> | undefined;
    assert.deepEqual(await storeCallsDuring(async () => (reply = await client.request('/noop'))), []);
    assert.equal(reply!.status, 200);
    assert.deepEqual(reply!.setCookies, []);
    assert.equal(await countIfSupported(), before);
  });

  it('a value set in one request is read by the next request of the same client', async function () {
    const { base } = harness;
    const client = new CookieClient(base);
    const first = await client.request('/set?user=alice&role=admin');
    assert.equal(first.setCookies.length, 1);
    assert.match(first.setCookies[0]!, /HttpOnly/);
    assert.deepEqual(await client.json('/get'), { user: 'alice', role: 'admin' });
    const again = await client.request('/get');
    assert.deepEqual(again.setCookies, [], 'an unchanged session sends no cookie');
  });

  it('regenerate keeps the data, issues a new id and the old id stops working', async function () {
    const { manager, base } = harness;
    const client = new CookieClient(base);
    await client.request('/set?user=bob');
    const oldCookie = client.cookie;
    const reply = await client.request('/regenerate');
    assert.equal(reply.setCookies.length, 1);
    assert.notEqual(client.cookie, oldCookie);
    assert.deepEqual(await client.json('/get'), { user: 'bob' });
    assert.deepEqual(await harness.clientWith(oldCookie).json('/get'), {});
    assert.equal(await manager.store.get(idOf(oldCookie)!), undefined, 'the old record is gone');
  });

  it('regenerate without a cookie, or with a malformed or unknown one, gives a fresh session and no error', async function () {
    // Checklist row 22.
    const { manager, cookieOf, clientWith } = harness;
    const name = manager.options.cookieName;
    for (const cookie of [undefined, `${name}=../../etc/passwd`, `${name}=${'z'.repeat(manager.options.idLength)}`, cookieOf(generateId(manager.options.idLength))]) {
      const client = clientWith(cookie);
      const reply = await client.request('/regenerate');
      assert.equal(reply.status, 200, String(cookie));
      assert.deepEqual(reply.setCookies, [], 'nothing to store, so no cookie');
      await client.request('/set?after=regenerate');
      assert.deepEqual(await client.json('/get'), { after: 'regenerate' });
    }
  });

  it('destroy removes the session, expires the cookie, and a replayed cookie is anonymous', async function () {
    const { manager, base } = harness;
    const client = new CookieClient(base);
    await client.request('/set?user=carol');
    const oldCookie = client.cookie;
    const reply = await client.request('/destroy');
    assert.equal(reply.setCookies.length, 1);
    assert.match(reply.setCookies[0]!, /Max-Age=0/);
    assert.deepEqual(await harness.clientWith(oldCookie).json('/get'), {});
    assert.equal(await manager.store.get(idOf(oldCookie)!), undefined, 'the record is gone');
  });

  it('flush and deleting the last key are persisted', async function () {
    // Checklist row 28.
    const { base } = harness;
    const client = new CookieClient(base);
    await client.request('/set?a=1&b=2');
    await client.request('/flush');
    assert.deepEqual(await client.json('/get'), {});
    await client.request('/set?only=x');
    await client.request('/delete?key=only');
    assert.deepEqual(await client.json('/get'), {});
  });

  it('a destroy whose store call fails is reported, reads empty for the rest of the request, and is retried at release', async function () {
    // Checklist row 29.
    const { manager, base, clientWith, failingOnce } = harness;
    const client = new CookieClient(base);
    await client.request('/set?user=stubborn');
    const cookie = client.cookie;
    failingOnce('destroy');
    assert.deepEqual(await client.json('/destroy-anyway'), { failed: true, keys: [] });
    assert.equal(await manager.store.get(idOf(cookie)!), undefined, 'release destroyed it');
    assert.deepEqual(await clientWith(cookie).json('/get'), {});
  });

  it('a flash set after destroy lives in a new session under a new id', async function () {
    const { base } = harness;
    const client = new CookieClient(base);
    await client.request('/set?user=dan');
    const oldCookie = client.cookie;
    const reply = await client.request('/logout');
    assert.equal(reply.setCookies.length, 1);
    assert.notEqual(client.cookie, oldCookie);
    const view = (await client.json('/view')) as { infoMsg: string };
    assert.equal(view.infoMsg, 'logged out');
  });

  it('flash messages survive a redirect and are shown exactly once', async function () {
    const { base } = harness;
    const client = new CookieClient(base);
    const redirect = await client.request('/flash');
    assert.equal(redirect.status, 302);
    const view = (await client.json('/view')) as { successMsg: string; errorMsg: string; messages: unknown[] };
    assert.equal(view.successMsg, 'saved');
    assert.equal(view.errorMsg, 'careful');
    assert.deepEqual(view.messages, [
      { level: 'success', text: 'saved' },
      { level: 'error', text: 'careful' },
    ]);
    const second = (await client.json('/view')) as { messages: unknown[] };
    assert.deepEqual(second.messages, []);
  });

  it('count and destroy by id go through the manager where the store supports them', async function () {
    const { manager, base, countIfSupported } = harness;
    const before = await countIfSupported();
    const client = new CookieClient(base);
    const { id } = (await client.json('/set?x=1')) as { id: string };
    if (before !== undefined) assert.equal(await manager.count(), before + 1);
    await manager.destroy(id);
    assert.deepEqual(await client.json('/get'), {});
    if (before !== undefined) assert.equal(await manager.count(), before);
  });
}
