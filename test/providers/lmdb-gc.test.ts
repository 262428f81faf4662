import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateId, type Store } from 'sessionkit';
import { provider } from 'sessionkit/providers/lmdb';
import { eachTempStore, layout, startChild } from './lmdb-support.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2030, 0, 1);

/** fill sets `count` fresh sessions expiring at `expiresAt`, a few thousand writes at a time, and returns their ids. */
async function fill(store: Store, count: number, record: string, expiresAt: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => generateId());
  for (let i = 0; i < ids.length; i += 5000) {
    await Promise.all(ids.slice(i, i + 5000).map((sid) => store.set(sid, record, expiresAt)));
  }
  return ids;
}

describe('lmdb gc', function () {
  this.timeout(60_000);
  const f = eachTempStore('gc.lmdb', T0);

  it('gc removes a backlog of several rounds, sessions and index entries, and keeps the live ones among them', async function () {
    const live = await fill(f.store, 300, 'live', T0 + HOUR);
    await fill(f.store, 24_000, 'old', T0 + 1000);
    const liveEntries = live.slice(0, 100);
    await Promise.all(liveEntries.map((sid) => f.store.indexAdd!('user:kept', sid, T0 + HOUR)));
    await Promise.all(Array.from({ length: 3000 }, () => f.store.indexAdd!('user:gone', generateId(), T0 + 1000)));
    f.now = T0 + 2000;
    await f.store.gc!();
    assert.equal(await f.store.count!(), live.length);
    assert.deepEqual((await f.store.indexList!('user:kept')).sort(), [...liveEntries].sort());
    assert.equal(await f.store.get(live[123]!), 'live');
    await f.store.close!();
    const { sessions, index, expiry, sessionExpiry, slices } = await layout(f.path);
    assert.equal(sessions, live.length);
    assert.equal(index.length, liveEntries.length);
    assert.equal(expiry.length, liveEntries.length, 'one expiry key per live entry, none left over');
    assert.ok([...expiry, ...sessionExpiry].every((key) => key[0] === T0 + HOUR));
    assert.equal(slices.length, 1, 'the ended slice is gone, the live one stays');
  });

  it('a session another process refreshes while gc runs keeps its record, and every other expired one goes', async function () {
    const ids = await fill(f.store, 4000, 'old', T0 + 1000);
    f.now = T0 + 2000;
    const idsFile = join(f.temp.dir, 'ids.json');
    await writeFile(idsFile, JSON.stringify(ids));
    // The child's clock stands at T0, so every session is live to it; it refreshes them from the
    // highest id down while gc removes them from the lowest up, and prints the ids it refreshed.
    const child = startChild(`import { readFileSync } from 'node:fs';
import { provider } from 'sessionkit/providers/lmdb';
const store = await provider.open(${JSON.stringify(f.path)}, { maxLifetime: ${HOUR}, now: () => ${T0} });
const ids = JSON.parse(readFileSync(${JSON.stringify(idsFile)}, 'utf8')).sort().reverse();
const refreshed = [];
const refresh = async (batch) => {
  const won = await Promise.all(batch.map((sid) => store.compareAndSet(sid, 'old', 'new', ${T0 + HOUR})));
  batch.forEach((sid, i) => won[i] && refreshed.push(sid));
};
await refresh(ids.slice(0, 50));
console.log('ready');
for (let i = 50; i < ids.length; i += 50) await refresh(ids.slice(i, i + 50));
await store.close();
console.log(JSON.stringify(refreshed));`);
    assert.equal(await child.line(), 'ready');
    let done = false;
    const refreshed = child.line().finally(() => (done = true));
    while (!done) {
      await f.store.gc!();
      await new Promise((next) => setTimeout(next, 1));
    }
    const kept = new Set(JSON.parse(await refreshed) as string[]);
    assert.equal(await child.exited, 0);
    await f.store.gc!();
    assert.ok(kept.size > 0 && kept.size < ids.length, `the child refreshed ${kept.size} of ${ids.length}: gc and the child did not overlap`);
    for (const sid of ids) assert.equal(await f.store.get(sid), kept.has(sid) ? 'new' : undefined, sid);
    assert.equal(await f.store.count!(), kept.size);
    await f.store.close!();
    const { sessions, sessionExpiry } = await layout(f.path);
    assert.equal(sessions, kept.size);
    assert.deepEqual(sessionExpiry.map((key) => key[1]).sort(), [...kept].sort(), 'one expiry key per refreshed session');
  });

  it('gc waits for another process\'s write transaction on lmdb\'s write thread, not on the event loop', async function () {
    await fill(f.store, 3000, 'old', T0 + 1000);
    f.now = T0 + 2000;
    const child = startChild(`import { open } from 'lmdb';
const root = open({ path: ${JSON.stringify(f.path)}, noSubdir: true, cache: false });
root.transactionSync(() => {
  console.log('locked');
  const end = Date.now() + 1500;
  while (Date.now() < end);
});
await root.close();`);
    assert.equal(await child.line(), 'locked');
    let longest = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const tick = performance.now();
      longest = Math.max(longest, tick - last);
      last = tick;
    }, 5);
    const started = performance.now();
    try {
      await f.store.gc!();
    } finally {
      clearInterval(ticker);
    }
    const took = performance.now() - started;
    assert.equal(await child.exited, 0);
    assert.ok(took > 700, `gc took ${took.toFixed(0)} ms: it did not wait for the other process's transaction`);
    assert.ok(longest < 250, `the event loop stood still for ${longest.toFixed(0)} ms while gc waited`);
    assert.equal(await f.store.count!(), 0);
  });

  it('closing the store while gc runs ends gc without an error, and the next gc finishes the work', async function () {
    await fill(f.store, 5000, 'old', T0 + 1000);
    f.now = T0 + 2000;
    const running = f.store.gc!();
    await f.store.close!();
    await running;
    f.store = await provider.open(f.path, { maxLifetime: HOUR, now: () => f.now });
    await f.store.gc!();
    assert.equal(await f.store.count!(), 0);
  });

  it('count leaves out sessions that expire after its gc pass, before any gc removes them', async function () {
    await f.store.set(generateId(), 'a', T0 + 500);
    await f.store.set(generateId(), 'b', T0 + 1500);
    await f.store.set(generateId(), 'c', T0 + HOUR);
    await f.store.close!();
    // Each reading of this clock is 1000 ms after the one before: count's gc pass reads T0 + 1000,
    // when 'a' has expired but its slice (T0 + 1024) has not ended; count's own transaction reads
    // T0 + 2000, when 'b' has expired too, in a slice ending at T0 + 2048.
    let reads = 0;
    f.store = await provider.open(f.path, { maxLifetime: HOUR, now: () => T0 + 1000 * ++reads });
    assert.equal(await f.store.count!(), 1);
    await f.store.close!();
    assert.equal((await layout(f.path)).sessions, 3, "'a' and 'b' are left out of the count but stay stored until their slices end");
  });
});
