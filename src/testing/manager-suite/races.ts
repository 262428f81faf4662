import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { createManager } from '../../index.ts';
import { CookieClient } from '../http-client.ts';
import { fakeRequest, idOf, type ManagerHarness } from './harness.ts';
import { skipWithout } from '../skip.ts';

/**
 * raceTests registers the tests of concurrent requests of one session: none may lose an update
 * (increments, different keys, writes during a regenerate), undo a destroy or a logout, or see an
 * id another request replaced. Where the order matters the gate forces it; tests that need
 * Store.regenerate, an index or compareAndSet skip when the store has none (without
 * compareAndSet the last writer wins, which is all such a store can promise).
 */
export function raceTests(harness: ManagerHarness): void {
  it('two concurrent regenerates of one session: no error, exactly one new id holds the data, the old id is dead', async function () {
    // Checklist row 23. Without Store.regenerate the fallback (get + set + destroy) cannot promise it.
    const { manager, base, clientWith } = harness;
    skipWithout(this, manager.store.regenerate, 'regenerate');
    const client = new CookieClient(base);
    await client.request('/set?user=twice');
    const oldCookie = client.cookie;
    const gate = harness.newGate();
    const racers = [clientWith(oldCookie), clientWith(oldCookie)];
    const replies = Promise.all(racers.map((racer) => racer.request('/gated/regenerate')));
    await gate.waitFor(2);
    gate.open();
    for (const reply of await replies) assert.equal(reply.status, 200, reply.body);
    const views = await Promise.all(racers.map((racer) => racer.json('/get')));
    assert.equal(views.filter((view) => (view as { user?: string }).user === 'twice').length, 1, JSON.stringify(views));
    assert.deepEqual(await clientWith(oldCookie).json('/get'), {});
    assert.equal(await manager.store.get(idOf(oldCookie)!), undefined);
  });

  /** saveAfterDestroy loads a session in one request, destroys it in another, then lets the first save; it returns the cookie and both replies. */
  const saveAfterDestroy = async () => {
    const { base, clientWith } = harness;
    const client = new CookieClient(base);
    await client.request('/set?user=gone');
    const cookie = client.cookie;
    const gate = harness.newGate();
    const writer = clientWith(cookie).request('/gated/set?late=1');
    await gate.waitFor(1);
    const destroy = await clientWith(cookie).request('/destroy');
    gate.open();
    return { cookie, replies: [await writer, destroy] };
  };

  if (harness.atomic) {
    it('a request that loaded the session before a destroy and saves after it does not bring it back', async function () {
      // Checklist row 27, with the order forced: load, destroy, then save.
      const { manager, clientWith } = harness;
      harness.requireCompareAndSet();
      const { cookie } = await saveAfterDestroy();
      assert.equal(await manager.store.get(idOf(cookie)!), undefined);
      assert.deepEqual(await clientWith(cookie).json('/get'), {});
    });
  } else {
    it('without compareAndSet, a save after a concurrent destroy leaves no session or the saving request\'s whole record', async function () {
      const { cookie, replies } = await saveAfterDestroy();
      for (const reply of replies) assert.equal(reply.status, 200, reply.body);
      assertOneOf(await harness.clientWith(cookie).json('/get'), [{}, { user: 'gone', late: '1' }], 'last writer wins, but a record is never torn or mixed');
    });
  }

  it('a read-only request that finishes last does not undo a write made meanwhile', async function () {
    // Checklist row 30.
    const { base, clientWith } = harness;
    const client = new CookieClient(base);
    await client.request('/set?a=1');
    const gate = harness.newGate();
    const reader = clientWith(client.cookie).request('/gated/get');
    await gate.waitFor(1);
    await clientWith(client.cookie).request('/set?b=2');
    gate.open();
    assert.deepEqual(JSON.parse((await reader).body), { a: '1' });
    assert.deepEqual(await client.json('/get'), { a: '1', b: '2' });
  });

  if (harness.atomic) {
    it(`concurrent increments of one session all count`, async function () {
      const { base, concurrency } = harness;
      harness.requireCompareAndSet();
      const client = new CookieClient(base);
      await client.request('/set?start=1');
      await Promise.all(Array.from({ length: concurrency }, () => client.request('/inc')));
      const data = (await client.json('/get')) as { n: number };
      assert.equal(data.n, concurrency);
    });

    it(`concurrent requests writing different keys keep every key`, async function () {
      const { base, concurrency } = harness;
      harness.requireCompareAndSet();
      const client = new CookieClient(base);
      await client.request('/set?start=1');
      await Promise.all(Array.from({ length: concurrency }, (_, i) => client.request(`/set?k${i}=${i}`)));
      const data = (await client.json('/get')) as Record<string, string>;
      for (let i = 0; i < concurrency; i++) assert.equal(data[`k${i}`], String(i));
    });
  } else {
    it('without compareAndSet, concurrent increments all succeed and the count ends between 1 and their number', async function () {
      const { base, concurrency } = harness;
      const client = new CookieClient(base);
      await client.request('/set?start=1');
      const replies = await Promise.all(Array.from({ length: concurrency }, () => client.request('/inc')));
      for (const reply of replies) assert.equal(reply.status, 200, reply.body);
      const { n } = (await client.json('/get')) as { n: number };
      assert.ok(Number.isInteger(n) && n >= 1 && n <= concurrency, `n = ${n}`);
    });

    it('without compareAndSet, concurrent requests writing different keys all succeed and every key kept holds its own value', async function () {
      const { base, concurrency } = harness;
      const client = new CookieClient(base);
      await client.request('/set?start=1');
      const replies = await Promise.all(Array.from({ length: concurrency }, (_, i) => client.request(`/set?k${i}=${i}`)));
      for (const reply of replies) assert.equal(reply.status, 200, reply.body);
      const data = (await client.json('/get')) as Record<string, string>;
      const kept = Object.keys(data).filter((key) => key !== 'start');
      assert.ok(kept.length >= 1, JSON.stringify(data));
      for (const key of kept) assert.equal(data[key], key.slice(1), JSON.stringify(data));
    });
  }

  it('a destroy racing with writes leaves the session destroyed', async function () {
    const { base, clientWith } = harness;
    skipWithout(this, harness.manager.store.compareAndSet, 'compareAndSet');
    const client = new CookieClient(base);
    await client.request('/set?user=eve');
    const cookie = client.cookie;
    const writers = Array.from({ length: 10 }, (_, i) => clientWith(cookie).request(`/set?w${i}=1`));
    await Promise.all([...writers, clientWith(cookie).request('/destroy')]);
    const data = (await clientWith(cookie).json('/get')) as Record<string, string>;
    assert.equal(data.user, undefined, 'destroyed data is not resurrected');
  });

  it('a regenerate racing with writes loses none of them, and the racing requests never see the new id', async function () {
    const { manager, base } = harness;
    skipWithout(this, manager.store.indexList, 'indexList');
    const client = new CookieClient(base);
    await client.request('/set?start=1');
    const oldCookie = client.cookie;
    const gate = harness.newGate();
    const writers = Array.from({ length: 10 }, (_, i) => harness.clientWith(oldCookie).request(`/gated/set?w${i}=${i}`));
    await gate.waitFor(writers.length);
    await client.request('/regenerate');
    gate.open();
    for (const reply of await Promise.all(writers)) assert.deepEqual(reply.setCookies, []);
    const data = (await client.json('/get')) as Record<string, string>;
    for (let i = 0; i < writers.length; i++) assert.equal(data[`w${i}`], String(i));
    assert.deepEqual(await harness.clientWith(oldCookie).json('/get'), {}, 'the old id reaches nothing');
  });

  /**
   * refreshRaces lets a second manager over the same provider, refreshing on every read-only
   * request, race a write and then a logout. It returns the session's data after the write race
   * and its record after the logout race.
   */
  const refreshRaces = async () => {
    const refresher = await createManager({ ...(await harness.suite.options()), touchInterval: 0, gcInterval: 0 });
    try {
      const created = await refresher.load(fakeRequest());
      created.set('a', '1');
      await created.release();
      const cookie = refresher.cookieFor(created.id).split(';', 1)[0]!;
      const reader = await refresher.load(fakeRequest(cookie));
      const writer = await refresher.load(fakeRequest(cookie));
      writer.set('b', '2');
      await writer.release();
      await reader.release();
      const after = await refresher.load(fakeRequest(cookie));
      const afterWrite = Object.fromEntries(after.keys().map((k) => [k, after.get(k)]));
      const toucher = await refresher.load(fakeRequest(cookie));
      const logout = await refresher.load(fakeRequest(cookie));
      await logout.destroy();
      await logout.release();
      await toucher.release();
      return { afterWrite, afterLogout: await refresher.store.get(created.id) };
    } finally {
      await refresher.close();
    }
  };

  if (harness.atomic) {
    it('an expiry refresh racing a write or a logout neither undoes the logout nor rewrites the data', async function () {
      // Checklist row 32: a second manager over the same provider refreshes on every read-only request.
      harness.requireCompareAndSet();
      const { afterWrite, afterLogout } = await refreshRaces();
      assert.deepEqual(afterWrite, { a: '1', b: '2' });
      assert.equal(afterLogout, undefined);
    });
  } else {
    it('without compareAndSet, an expiry refresh racing a write or a logout changes neither where the store has touch, and leaves one whole record otherwise', async function () {
      const { afterWrite, afterLogout } = await refreshRaces();
      if (harness.manager.store.touch) {
        // touch moves the expiry only and never creates, so no refresh can lose or revive data.
        assert.deepEqual(afterWrite, { a: '1', b: '2' });
        assert.equal(afterLogout, undefined);
      } else {
        assertOneOf(afterWrite, [{ a: '1' }, { a: '1', b: '2' }], 'a refresh without touch rewrites the record it read: last writer wins');
      }
    });
  }
}

/** assertOneOf asserts that `actual` deep-equals one of `allowed`, naming `rule` when it does not. */
function assertOneOf(actual: unknown, allowed: unknown[], rule: string): void {
  const shown = JSON.stringify(actual);
  assert.ok(
    allowed.some((candidate) => isDeepStrictEqual(actual, candidate)),
    `${rule}: got ${shown}, expected one of ${allowed.map((candidate) => JSON.stringify(candidate)).join(', ')}`,
  );
}
