import assert from 'node:assert/strict';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { generateId, type Store } from 'sessionkit';
import { provider } from 'sessionkit/providers/lmdb';
import { open } from 'lmdb';
import { sliceEnd } from '../../providers/lmdb/slices.ts';
import { eachTempStore, layout, openTempStore, removeTempStore, startChild, type TempStore } from './lmdb-support.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2030, 0, 1);

describe('lmdb slices of expiry time', function () {
  it('a session goes in a slice ending at or after its expiry, 1/16 to 1/8 of its time left wide', function () {
    for (const left of [1, 999, 1000, 1500, 5 * SECOND, 24 * MINUTE, HOUR, 30 * DAY, 3650 * DAY]) {
      for (const now of [T0, T0 + 1, T0 + 0.5, T0 + 12_345_678]) {
        const expiresAt = now + left;
        const end = sliceEnd(expiresAt, now);
        assert.ok(end >= expiresAt, `left ${left}: the slice ends at or after the expiry`);
        const width = widthOf(end, expiresAt, left);
        assert.ok(width === 1024 || (width > left / 32 && width <= left / 8), `left ${left}: width ${width}`);
        assert.ok(end - expiresAt < width, 'the first slice end at or after the expiry');
      }
    }
  });

  it('sessions of one lifetime, written steadily over that lifetime, share at most 17 slices', function () {
    for (const lifetime of [5 * SECOND, 24 * MINUTE, HOUR, 30 * DAY]) {
      const ends = new Set<number>();
      const step = lifetime / 500;
      for (let written = T0; written <= T0 + lifetime; written += step) ends.add(sliceEnd(written + lifetime, written));
      assert.ok(ends.size >= 2 && ends.size <= 17, `lifetime ${lifetime}: ${ends.size} slices`);
    }
  });
});

/** widthOf finds the power-of-two width (at least 1024) that `end` was rounded to for this expiry. */
function widthOf(end: number, expiresAt: number, left: number): number {
  let width = 1024;
  while (width * 16 <= left) width *= 2;
  assert.equal(end % width, 0, 'the slice ends at a multiple of its width');
  assert.equal(end, Math.ceil(expiresAt / width) * width);
  return width;
}

describe('lmdb slice databases', function () {
  this.timeout(60_000);
  const f = eachTempStore('slices.lmdb', T0);

  it('gc drops each slice that has ended, whole, and keeps the slices still in use', async function () {
    const old = Array.from({ length: 3000 }, () => generateId());
    await Promise.all(old.map((sid) => f.store.set(sid, 'old', T0 + 1000 + (old.indexOf(sid) % 900))));
    const live = generateId();
    await f.store.set(live, 'live', T0 + HOUR);
    f.now = T0 + 5000;
    await f.store.gc!();
    await f.store.close!();
    const { slices, sessions, sessionExpiry } = await layout(f.path);
    assert.deepEqual(slices, [sliceEnd(T0 + HOUR, T0)]);
    assert.equal(sessions, 1);
    assert.deepEqual(sessionExpiry, [[T0 + HOUR, live]]);
  });

  it('an expired session whose slice has not ended reads as missing and is left out of count until its slice goes', async function () {
    const sid = generateId();
    await f.store.set(sid, 'short', T0 + 10_000);
    const slice = sliceEnd(T0 + 10_000, T0);
    assert.ok(slice > T0 + 10_000, 'the test needs a slice that ends after the expiry');
    f.now = T0 + 10_000;
    assert.equal(await f.store.get(sid), undefined);
    assert.equal(await f.store.count!(), 0);
    await f.store.close!();
    assert.equal((await layout(f.path)).sessions, 1, 'stored until its slice ends');
    f.store = await provider.open(f.path, { maxLifetime: HOUR, now: () => f.now });
    f.now = slice;
    assert.equal(await f.store.count!(), 0);
    await f.store.close!();
    assert.deepEqual((await layout(f.path)).slices, [], 'the slice went with the gc pass of count');
  });

  it('a store that never runs gc drops ended slices as it creates new ones, so the slices in use stay few', async function () {
    for (let round = 0; round < 60; round++) {
      await f.store.set(generateId(), 'r', f.now + 24 * MINUTE);
      f.now += 5 * MINUTE;
    }
    await f.store.close!();
    const { slices } = await layout(f.path);
    assert.ok(slices.length <= 12, `${slices.length} slices listed after 60 rounds of 5 minutes`);
    assert.ok(slices.every((end) => end > f.now - 5 * MINUTE - 2 * MINUTE), 'none long ended');
  });

  it('an expiry that is not a finite number is refused before anything is written', async function () {
    const sid = generateId();
    await f.store.set(sid, 'kept', T0 + HOUR);
    for (const expiresAt of [Infinity, -Infinity, NaN]) {
      await assert.rejects(f.store.set(sid, 'x', expiresAt), { code: 'ERR_SESSION_INVALID_VALUE' });
      await assert.rejects(f.store.compareAndSet!(sid, 'kept', 'x', expiresAt), { code: 'ERR_SESSION_INVALID_VALUE' });
      await assert.rejects(f.store.touch!(sid, expiresAt), { code: 'ERR_SESSION_INVALID_VALUE' });
    }
    assert.equal(await f.store.get(sid), 'kept');
  });

  it('two stores on one file in one process share its open: one drops slices, the other goes on', async function () {
    const other = await provider.open(f.path, { maxLifetime: HOUR, now: () => f.now });
    try {
      const ids: string[] = [];
      for (let round = 0; round < 20; round++) {
        const sid = generateId();
        ids.push(sid);
        await (round % 2 ? f.store : other).set(sid, `r${round}`, f.now + 10 * MINUTE);
        assert.equal(await (round % 2 ? other : f.store).get(sid), `r${round}`);
        f.now += MINUTE;
        await (round % 3 ? f.store : other).gc!();
      }
      // Round r wrote at T0 + r minutes for 10 minutes; at T0 + 20 minutes rounds 11 to 19 are live.
      assert.equal(await f.store.count!(), await other.count!());
      assert.equal(await other.count!(), 9);
      for (const [i, sid] of ids.entries()) assert.equal(await other.get(sid), i > 10 ? `r${i}` : undefined);
    } finally {
      await other.close!();
    }
  });

  it('a store opened through a symlinked directory shares the open of the same file', async function () {
    const linked = join(f.temp.dir, 'linked');
    await symlink(f.temp.dir, linked);
    const other = await provider.open(join(linked, 'slices.lmdb'), { maxLifetime: HOUR, now: () => f.now });
    try {
      for (let round = 0; round < 12; round++) {
        await (round % 2 ? f.store : other).set(generateId(), `r${round}`, f.now + 3 * MINUTE);
        f.now += MINUTE;
        await (round % 2 ? other : f.store).gc!();
      }
      assert.equal(await f.store.count!(), 2);
      assert.equal(await other.count!(), 2);
    } finally {
      await other.close!();
    }
  });

  it('slices another process drops or clears are noticed: reads, writes and count go on here', async function () {
    const mine = generateId();
    await f.store.set(mine, 'mine', T0 + 1000);
    await f.store.set(generateId(), 'kept', T0 + HOUR);
    assert.equal(await f.store.count!(), 2);
    const child = startChild(`import { provider } from 'sessionkit/providers/lmdb';
const store = await provider.open(${JSON.stringify(f.path)}, { maxLifetime: ${HOUR}, now: () => ${T0 + 5000} });
await store.gc();
console.log(await store.count());
await store.close();`);
    assert.equal(await child.line(), '1');
    assert.equal(await child.exited, 0);
    assert.equal(await f.store.get(mine), undefined);
    await f.store.set(mine, 'again', T0 + 1500);
    assert.equal(await f.store.get(mine), 'again');
    assert.equal(await f.store.count!(), 2);
    const clearing = startChild(`import { provider } from 'sessionkit/providers/lmdb';
const store = await provider.open(${JSON.stringify(f.path)}, { maxLifetime: ${HOUR} });
await store.clear();
await store.close();
console.log('cleared');`);
    assert.equal(await clearing.line(), 'cleared');
    assert.equal(await f.store.get(mine), undefined);
    assert.equal(await f.store.count!(), 0);
    await f.store.set(mine, 'after clear', T0 + HOUR);
    assert.equal(await f.store.get(mine), 'after clear');
  });
});

describe('lmdb files of the first layout', function () {
  this.timeout(30_000);
  let temp: TempStore;
  let store: Store;
  afterEach(async function () {
    await removeTempStore(temp, store);
  });

  it('are moved to slices on open: live sessions and index entries kept, expired sessions dropped, the old database gone', async function () {
    temp = await openTempStore('first.lmdb', () => T0);
    await temp.store.close!();
    const { path } = temp;
    const live = generateId();
    const expired = generateId();
    const first = open({ path, noSubdir: true, cache: false });
    const sessions = first.openDB({ name: 'sessions' });
    const expiry = first.openDB({ name: 'expiry' });
    const index = first.openDB({ name: 'index' });
    await first.transaction(() => {
      sessions.put(live, { record: 'live', expiresAt: T0 + HOUR });
      expiry.put([T0 + HOUR, live], true);
      sessions.put(expired, { record: 'expired', expiresAt: T0 - 1 });
      expiry.put([T0 - 1, expired], true);
      index.put(['digest', live], T0 + HOUR);
      expiry.put([T0 + HOUR, 'digest', live], true);
    });
    await first.close();

    store = await provider.open(path, { maxLifetime: HOUR, now: () => T0 });
    assert.equal(await store.get(live), 'live');
    assert.equal(await store.get(expired), undefined);
    assert.equal(await store.count!(), 1);
    await store.close!();
    store = await provider.open(path, { maxLifetime: HOUR, now: () => T0 });
    assert.equal(await store.get(live), 'live', 'a second open leaves the moved sessions alone');
    await store.close!();

    const after = await layout(path);
    assert.equal(after.sessions, 1);
    assert.deepEqual(after.sessionExpiry, [[T0 + HOUR, live]]);
    assert.deepEqual(after.expiry, [[T0 + HOUR, 'digest', live]], 'the index entry keeps its expiry key; the sessions\' old keys are gone');
    assert.equal(after.index.length, 1);
    const check = open({ path, noSubdir: true, cache: false, maxDbs: 1000 });
    try {
      assert.ok(!([...check.getKeys()] as string[]).includes('sessions'), 'the old database is deleted');
    } finally {
      await check.close();
    }
  });
});
