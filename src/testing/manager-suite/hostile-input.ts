import assert from 'node:assert/strict';
import type { SessionError } from '../../errors.ts';
import { generateId } from '../../id.ts';
import { movedKey } from '../../user-index.ts';
import { CookieClient } from '../http-client.ts';
import { fakeRequest, idOf, type ManagerHarness } from './harness.ts';

const HOUR = 3_600_000;

/** utf8AsLatin1 spells `text` as its UTF-8 bytes, one character each: what a raw UTF-8 header looks like to node. */
const utf8AsLatin1 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

/**
 * hostileInputTests registers the tests of what a client or a backend may hand the manager:
 * bursts of cookieless requests, forged, malformed, look-alike and colliding ids, records that do
 * not decode, keys named like Session methods or prototype keys, values that must round-trip
 * exactly, and sessions above the size limit.
 */
export function hostileInputTests(harness: ManagerHarness): void {
  it('a burst of cookieless requests calls no store method, sets no cookie and leaves the count alone', async function () {
    // Checklist row 2, bounded: what a flood of 100 000 would show, shown for 200.
    const { base, countIfSupported, storeCallsDuring } = harness;
    const before = await countIfSupported();
    let replies: Awaited<ReturnType<CookieClient['request']>>[] = [];
    const calls = await storeCallsDuring(async () => {
      replies = await Promise.all(Array.from({ length: 200 }, (_, i) => new CookieClient(base).request(i % 2 ? '/noop' : '/get')));
    });
    assert.deepEqual(calls, []);
    for (const reply of replies) {
      assert.equal(reply.status, 200);
      assert.deepEqual(reply.setCookies, []);
    }
    assert.equal(await countIfSupported(), before);
  });

  it('a forged well-formed id is never adopted, never stored, and is reported as unknown', async function () {
    const { manager, rejected, cookieOf, clientWith } = harness;
    const forged = generateId(manager.options.idLength);
    const client = clientWith(cookieOf(forged));
    rejected.length = 0;
    const reply = await client.request('/set?x=1');
    assert.equal(reply.setCookies.length, 1);
    assert.ok(!reply.setCookies[0]!.includes(forged));
    assert.deepEqual(await client.json('/get'), { x: '1' });
    assert.equal(await manager.store.get(forged), undefined);
    assert.deepEqual(rejected.map((event) => event.reason), ['unknown']);
  });

  it('malformed, traversal and look-alike ids never reach the store, get a fresh session and are reported', async function () {
    // Checklist rows 4, 5, 6 and 9.
    const { manager, base, rejected, clientWith, storeCallsDuring } = harness;
    const owner = new CookieClient(base);
    const { id: live } = (await owner.json('/set?owner=alice')) as { id: string };
    const length = manager.options.idLength;
    const overHttp = [
      'a', 'ab', 'a'.repeat(15), 'a'.repeat(17), 'a'.repeat(length - 1), 'a'.repeat(length + 1), 'a'.repeat(4096),
      live.toUpperCase(), `${live}%00`, `${live} x`, `"${live}`, `${live}\\`,
      '../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', '%252e%252e%252fetc', '..\\..\\x', '/abs/path', 'C:\\x', `../${live}`,
      utf8AsLatin1('．．／' + live.slice(3)), utf8AsLatin1(live.slice(0, -1) + '\u0301'), utf8AsLatin1('а' + live.slice(1)),
      utf8AsLatin1('１' + live.slice(1)), utf8AsLatin1(live.slice(0, -1) + 'e\u0301'),
    ];
    rejected.length = 0;
    const calls = await storeCallsDuring(async () => {
      for (const value of overHttp) {
        const reply = await clientWith(`${manager.options.cookieName}=${value}`).request('/get');
        assert.equal(reply.status, 200, value);
        assert.deepEqual(JSON.parse(reply.body), {}, value);
        assert.deepEqual(reply.setCookies, [], value);
      }
      // What no HTTP client sends, the Manager still refuses.
      for (const value of [`${live.slice(1)}\0`, `${live.slice(2)}\r\n`, '\0'.repeat(length)]) {
        const session = await manager.load(fakeRequest(`${manager.options.cookieName}=${value}`));
        assert.ok(session.isNew && session.id !== value, JSON.stringify(value));
      }
    });
    assert.deepEqual(calls, []);
    assert.equal(rejected.length, overHttp.length + 3);
    assert.ok(rejected.every((event) => event.reason === 'malformed' || event.reason === 'bad-signature'), JSON.stringify(rejected));
    assert.deepEqual(await owner.json('/get'), { owner: 'alice' }, 'the live session is untouched');
  });

  it('a fresh id that is already in use is never written over, on create or on regenerate', async function () {
    // Checklist row 24: a generator that repeats an id. Only compareAndSet can refuse to write over it.
    const { manager, base, withIds } = harness;
    if (!manager.store.compareAndSet) this.skip();
    const victim = new CookieClient(base);
    const { id: taken } = (await victim.json('/set?owner=victim')) as { id: string };
    let restore = withIds([taken]);
    try {
      const intruder = new CookieClient(base);
      await intruder.request('/set?owner=intruder');
      // The id is replaced at save, so the cookie tells which one the session got.
      assert.notEqual(idOf(intruder.cookie), taken);
      assert.deepEqual(await intruder.json('/get'), { owner: 'intruder' });
    } finally {
      restore();
    }
    const mover = new CookieClient(base);
    const { id: before } = (await mover.json('/set?owner=mover')) as { id: string };
    restore = withIds([taken]);
    try {
      const reply = await mover.request('/regenerate');
      assert.equal(reply.status, 200, reply.body);
    } finally {
      restore();
    }
    assert.notEqual(idOf(mover.cookie), taken);
    assert.notEqual(idOf(mover.cookie), before);
    assert.deepEqual(await mover.json('/get'), { owner: 'mover' });
    assert.deepEqual(await victim.json('/get'), { owner: 'victim' });
    if (manager.store.indexList) assert.ok(!(await manager.store.indexList(movedKey(before))).includes(taken), 'no forward into the other session');
  });

  it('a stored record that cannot be decoded gives a fresh session, is reported and removed, and never fails the request', async function () {
    // Checklist rows 39 and 40: garbage, truncation, wrong shapes and prototype keys in a record.
    const { manager, reported, cookieOf, clientWith } = harness;
    const later = () => manager.options.now() + HOUR;
    const bad = [
      'not json', '{"v":1,"c":1,"t":1,"d":{', '{}', '[]', '""', '{"v":9,"c":1,"t":1,"d":{}}', '{"v":1,"c":"x","t":1,"d":[]}',
      '{"v":1,"c":1,"t":1,"d":{"__proto__":{"polluted":true}}}',
      '{"v":1,"c":1,"t":1,"d":{"x":{"constructor":{"prototype":{"polluted":true}}}}}',
      '{"v":1,"c":1,"t":1,"d":{"\\u005f_proto__":{"polluted":true}}}',
    ];
    for (const record of bad) {
      const id = generateId(manager.options.idLength);
      await manager.store.set(id, record, later());
      reported.length = 0;
      for (let i = 0; i < 2; i++) {
        const reply = await clientWith(cookieOf(id)).request('/get');
        assert.equal(reply.status, 200, record);
        assert.deepEqual(JSON.parse(reply.body), {}, record);
      }
      assert.ok(reported.some((error) => (error as SessionError).code === 'ERR_SESSION_CORRUPT_RECORD'), record);
      assert.equal(await manager.store.get(id), undefined, `${record} is removed`);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    }
  });

  it('keys named like Session methods are plain data, and prototype keys are refused', async function () {
    // Checklist row 40.
    const { base, clientWith } = harness;
    const names = ['save', 'destroy', 'release', 'regenerate', 'get', 'set', 'id', 'toString', 'hasOwnProperty', 'flash', 'then'];
    const client = new CookieClient(base);
    await client.request(`/set?${names.map((n) => `${n}=${n}-value`).join('&')}`);
    assert.deepEqual(await client.json('/get'), Object.fromEntries(names.map((n) => [n, `${n}-value`])));
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      assert.equal((await client.request(`/set?${key}=polluted`)).status, 500, key);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const cookie = client.cookie;
    assert.equal((await client.request('/destroy')).status, 200, 'a stored "destroy" key does not replace destroy()');
    assert.deepEqual(await clientWith(cookie).json('/get'), {});
  });

  it('JSON values come back exactly as they were stored', async function () {
    // Checklist row 41: JSON data is what set() accepts (codec tests show the refusals).
    const { base } = harness;
    const values: Record<string, unknown> = {
      text: 'Zoë "q" \\ / \0 \u2028 🍪 \ud800 tab\tnewline\n',
      empty: '',
      numbers: [0, -1.5, 5e-324, 1.7976931348623157e308, Number.MAX_SAFE_INTEGER, 0.1 + 0.2, -1e-7],
      flags: [true, false, null],
      nested: { 'dotted.key': { 'key with spaces': 'v', ключ: 'значение', '': 'empty key', deeper: [[[{}]], []] } },
      emptyObject: {},
      emptyList: [],
      sql: `'); DROP TABLE sessions; --`,
    };
    const client = new CookieClient(base);
    const query = Object.entries(values).map(([k, v]) => `${k}=${encodeURIComponent(JSON.stringify(v))}`).join('&');
    assert.equal((await client.request(`/setjson?${query}`)).status, 200);
    assert.deepEqual(await client.json('/get'), values);
  });

  it('a session above maxRecordSize, or above what the backend holds, fails at save naming the limit and leaves the stored one unchanged', async function () {
    // Checklist row 42: the configured limit on every provider, and each backend's own limit below it.
    const { manager, cookieOf } = harness;
    const first = await manager.load(fakeRequest());
    first.set('kept', 'small');
    await first.release();
    const cookie = cookieOf(first.id);
    const limit = manager.options.maxRecordSize;
    const over = await manager.load(fakeRequest(cookie));
    over.set('big', 'x'.repeat(limit));
    await assert.rejects(over.release(), (error: SessionError) => error.code === 'ERR_SESSION_TOO_LARGE' && /limit/.test(error.message));
    assert.deepEqual((await manager.load(fakeRequest(cookie))).keys(), ['kept']);
    const near = await manager.load(fakeRequest(cookie));
    const big = 'y'.repeat(limit - 200);
    near.set('big', big);
    const saved = await near.release().then(
      () => true,
      (error: SessionError) => {
        assert.ok(error.code === 'ERR_SESSION_TOO_LARGE' && /limit/.test(error.message), String(error));
        return false;
      },
    );
    const again = await manager.load(fakeRequest(cookie));
    assert.equal(again.get('kept'), 'small');
    assert.equal(again.get('big'), saved ? big : undefined);
  });
}
