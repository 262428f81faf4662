import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { generateId } from 'sessionkit';
import { provider } from 'sessionkit/providers/lmdb';
import { eachTempStore, layout } from './lmdb-support.ts';

const run = promisify(execFile);
const HOUR = 3_600_000;
const T0 = Date.UTC(2030, 0, 1);

/** fileInChild files `count` fresh ids under `key` from another node process, all at once, and prints them. */
async function fileInChild(path: string, key: string, count: number): Promise<string[]> {
  const code = `import { provider } from 'sessionkit/providers/lmdb';
import { generateId } from 'sessionkit';
const store = await provider.open(${JSON.stringify(path)}, { maxLifetime: ${HOUR} });
const ids = Array.from({ length: ${count} }, () => generateId());
await Promise.all(ids.map((id) => store.indexAdd(${JSON.stringify(key)}, id, Date.now() + ${HOUR})));
await store.close();
console.log(JSON.stringify(ids));`;
  const { stdout } = await run(process.execPath, ['--conditions=sessionkit-source', '--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: resolve(import.meta.dirname, '../..'),
    timeout: 20_000,
  });
  return JSON.parse(stdout) as string[];
}

describe('lmdb index', function () {
  this.timeout(30_000);
  const f = eachTempStore('index.lmdb', T0);

  it('each entry is one [digest, sid] key with one expiry key, moved when the entry is filed again', async function () {
    const sid = generateId();
    for (let i = 1; i <= 20; i++) await f.store.indexAdd!('user:alice', sid, T0 + i * 1000);
    await f.store.close!();
    const { index, expiry } = await layout(f.path);
    assert.equal(index.length, 1);
    const [digest, filed] = index[0]!;
    assert.match(String(digest), /^[A-Za-z0-9_-]{43}$/, 'the key is stored as its sha256 digest only');
    assert.equal(filed, sid);
    assert.deepEqual(expiry, [[T0 + 20_000, digest, sid]]);
  });

  it('gc removes expired index entries through the expiry keys and keeps live ones', async function () {
    const live = generateId();
    await f.store.indexAdd!('user:bob', live, T0 + HOUR);
    await Promise.all(Array.from({ length: 1500 }, () => f.store.indexAdd!('user:bob', generateId(), T0 + 1000)));
    const session = generateId();
    await f.store.set(session, 'record', T0 + HOUR);
    f.now = T0 + 1000;
    assert.deepEqual(await f.store.indexList!('user:bob'), [live], 'expired entries are left out before any gc');
    await f.store.gc!();
    assert.deepEqual(await f.store.indexList!('user:bob'), [live]);
    await f.store.close!();
    const { index, expiry, sessions } = await layout(f.path);
    assert.equal(index.length, 1);
    assert.equal(expiry.length, 1, 'one expiry key, for the live entry');
    assert.equal(sessions, 1);
  });

  it('count stays exact with index entries around, and purges the expired ones it passes', async function () {
    const sid = generateId();
    await f.store.set(sid, 'record', T0 + HOUR);
    await f.store.indexAdd!('user:carol', sid, T0 + 500);
    await f.store.indexAdd!('moved:x', generateId(), T0 + HOUR);
    assert.equal(await f.store.count!(), 1);
    f.now = T0 + 500;
    assert.equal(await f.store.count!(), 1);
    await f.store.close!();
    const { index, expiry } = await layout(f.path);
    assert.equal(index.length, 1, 'the expired entry went with count');
    assert.equal(expiry.length, 1);
  });

  it('an entry filed with an expiry already past is removed, not kept', async function () {
    const sid = generateId();
    await f.store.indexAdd!('user:dave', sid, T0 + HOUR);
    await f.store.indexAdd!('user:dave', sid, T0 - 1);
    assert.deepEqual(await f.store.indexList!('user:dave'), []);
    await f.store.close!();
    assert.deepEqual(await layout(f.path), { index: [], expiry: [], sessions: 0, sessionExpiry: [], slices: [] });
  });

  it('clear removes the index entries and their expiry keys with the sessions', async function () {
    await f.store.set(generateId(), 'record', T0 + HOUR);
    await f.store.indexAdd!('user:erin', generateId(), T0 + HOUR);
    await f.store.clear!();
    await f.store.close!();
    assert.deepEqual(await layout(f.path), { index: [], expiry: [], sessions: 0, sessionExpiry: [], slices: [] });
  });

  it('keys that are prefixes of each other, hold NULs or differ only in lone surrogates stay apart', async function () {
    const long = `user:${'x'.repeat(70)}`;
    const keys = [long, `${long}\u0000`, `${long}\u0000${generateId()}`, 'a', 'a\u0000', 'user:\ud800', 'user:\udc00', 'user:\ufffd'];
    const filed = new Map(keys.map((key) => [key, generateId()]));
    for (const [key, sid] of filed) await f.store.indexAdd!(key, sid, T0 + HOUR);
    for (const [key, sid] of filed) assert.deepEqual(await f.store.indexList!(key), [sid], JSON.stringify(key));
  });

  it('refuses an empty, overlong or non-string key and an invalid id before writing', async function () {
    const sid = generateId();
    for (const bad of ['', 'k'.repeat(513), 42 as unknown as string]) {
      await assert.rejects(f.store.indexAdd!(bad, sid, T0 + HOUR), { code: 'ERR_SESSION_INVALID_VALUE', message: /^session\/lmdb: an index key/ });
      await assert.rejects(f.store.indexList!(bad), { code: 'ERR_SESSION_INVALID_VALUE' });
      await assert.rejects(f.store.indexRemove!(bad, sid), { code: 'ERR_SESSION_INVALID_VALUE' });
    }
    await assert.rejects(f.store.indexAdd!('user:x', '../x', T0 + HOUR), { code: 'ERR_SESSION_INVALID_ID' });
    await f.store.indexAdd!('k'.repeat(512), sid, T0 + HOUR);
    assert.deepEqual(await f.store.indexList!('k'.repeat(512)), [sid]);
  });

  it('a closed store refuses index calls with ERR_SESSION_CLOSED', async function () {
    await f.store.close!();
    await assert.rejects(f.store.indexAdd!('user:x', generateId(), T0 + HOUR), { code: 'ERR_SESSION_CLOSED' });
    await assert.rejects(f.store.indexList!('user:x'), { code: 'ERR_SESSION_CLOSED' });
  });

  it('entries filed at once by two other processes and this one are all listed', async function () {
    await f.store.close!();
    f.store = await provider.open(f.path, { maxLifetime: HOUR });
    const key = 'user:everywhere é';
    const mine = Array.from({ length: 50 }, () => generateId());
    const [a, b] = await Promise.all([
      fileInChild(f.path, key, 50),
      fileInChild(f.path, key, 50),
      Promise.all(mine.map((id) => f.store.indexAdd!(key, id, Date.now() + HOUR))),
    ]);
    assert.deepEqual((await f.store.indexList!(key)).sort(), [...a!, ...b!, ...mine].sort());
  });
});
