import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type Store, generateId, SessionError } from 'sessionkit';
import { provider, DEFAULT_PATH, parseConfig } from 'sessionkit/providers/lmdb';
import { describeManager, describeStore } from 'sessionkit/testing';
import { errorOf } from '../support/faults.ts';

/** requires lists every optional method the lmdb store has. */
const requires: (keyof Store)[] = ['compareAndSet', 'touch', 'regenerate', 'count', 'clear', 'gc', 'indexAdd', 'indexRemove', 'indexList'];

describe('lmdb provider conformance', function () {
  let dir: string;
  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'sessionkit-lmdb-'));
  });
  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });
  describeStore('lmdb', { requires, rejectsAfterClose: true, open: (options) => provider.open(join(dir, 'store.lmdb'), options) });
  describeManager('lmdb', { options: () => ({ provider: 'lmdb', providerConfig: join(dir, 'manager.lmdb') }) });
});

const run = promisify(execFile);
const HOUR = 3_600_000;

/** inChild runs `script` in another node process with `path` and `sid` defined, and returns its stdout. */
async function inChild(script: string, path: string, sid: string): Promise<string> {
  const code = `import { provider } from 'sessionkit/providers/lmdb';
const path = ${JSON.stringify(path)}; const sid = ${JSON.stringify(sid)};
const store = await provider.open(path, { maxLifetime: ${HOUR} });
${script}
await store.close();`;
  const { stdout } = await run(process.execPath, ['--conditions=sessionkit-source', '--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: resolve(import.meta.dirname, '../..'),
    timeout: 20_000,
  });
  return stdout.trim();
}

describe('lmdb provider', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(async function () {
    dir = await mkdtemp(join(tmpdir(), 'sessionkit-lmdbp-'));
  });
  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it('parseConfig reads a path, the ledis data_dir form, and defaults to data/sessions.lmdb', function () {
    assert.deepEqual(parseConfig('/var/lib/app/sessions.lmdb'), { path: '/var/lib/app/sessions.lmdb' });
    assert.deepEqual(parseConfig('  /var/lib/app/sessions  '), { path: '/var/lib/app/sessions' });
    assert.deepEqual(parseConfig('data_dir=/srv/app.db'), { path: '/srv/app.db' });
    assert.deepEqual(parseConfig('data_dir=./app.db'), { path: resolve(process.cwd(), 'app.db') });
    assert.deepEqual(parseConfig('data/x.lmdb'), { path: resolve(process.cwd(), 'data/x.lmdb') });
    assert.deepEqual(parseConfig('./db=0/s.lmdb'), { path: resolve(process.cwd(), 'db=0/s.lmdb') });
    assert.deepEqual(parseConfig(''), { path: resolve(process.cwd(), DEFAULT_PATH) });
    assert.equal(DEFAULT_PATH, 'data/sessions.lmdb');
  });

  it('parseConfig rejects other keys, an empty data_dir and a NUL byte, naming them', function () {
    for (const [config, pattern] of [
      ['db=0', /unsupported option "db"/],
      ['data_dir=./app.db,db=0', /unsupported option "db"/],
      ['data_dir=', /data_dir is empty/],
      ['data\u0000dir/s.lmdb', /NUL/],
    ] as const) {
      const err = errorOf(() => parseConfig(config), config);
      assert.ok(err instanceof SessionError, config);
      assert.equal(err.code, 'ERR_SESSION_PROVIDER_CONFIG');
      assert.match(err.message, /^session\/lmdb: /);
      assert.match(err.message, pattern);
    }
  });

  it('the path names a file, with or without a dot, readable by its owner only', async function () {
    for (const name of ['sessions', 'sessions.lmdb']) {
      const path = join(dir, 'sub', name);
      const store = await provider.open(path, { maxLifetime: HOUR });
      await store.set(generateId(), 'x', Date.now() + HOUR);
      await store.close?.();
      const info = await stat(path);
      assert.ok(info.isFile(), `${name} is not a file`);
      assert.equal(info.mode & 0o777, 0o600);
      assert.equal((await stat(join(dir, 'sub'))).mode & 0o777, 0o700);
    }
  });

  it('open fails with a store error naming the path when it cannot be opened', async function () {
    const blocker = join(dir, 'plain-file');
    await writeFile(blocker, 'not a directory');
    const path = join(blocker, 's.lmdb');
    await assert.rejects(provider.open(path, { maxLifetime: HOUR }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_SESSION_STORE');
      assert.ok(err.message.startsWith(`session/lmdb: cannot open ${path}`), err.message);
      return true;
    });
  });

  it('an invalid session id is refused before any read or write', async function () {
    const store = await provider.open(join(dir, 'ids.lmdb'), { maxLifetime: HOUR });
    try {
      for (const bad of ['../../etc/passwd', 'A'.repeat(32), 'a'.repeat(31), '']) {
        await assert.rejects(store.get(bad), { code: 'ERR_SESSION_INVALID_ID' });
        await assert.rejects(store.set(bad, 'x', Date.now() + HOUR), { code: 'ERR_SESSION_INVALID_ID' });
        await assert.rejects(store.regenerate!(generateId(), bad), { code: 'ERR_SESSION_INVALID_ID' });
      }
    } finally {
      await store.close?.();
    }
  });

  it('a closed store rejects calls with ERR_SESSION_CLOSED', async function () {
    const store = await provider.open(join(dir, 'closed.lmdb'), { maxLifetime: HOUR });
    await store.close!();
    await store.close!();
    await assert.rejects(store.get(generateId()), { code: 'ERR_SESSION_CLOSED' });
    await assert.rejects(store.count!(), { code: 'ERR_SESSION_CLOSED' });
  });

  it('the expiry index keeps one key per session, so gc and count see each session once', async function () {
    let now = Date.UTC(2030, 0, 1);
    const store = await provider.open(join(dir, 'index.lmdb'), { maxLifetime: HOUR, now: () => now });
    try {
      const sid = generateId();
      for (let i = 1; i <= 50; i++) await store.set(sid, `v${i}`, now + i * 1000);
      await store.touch!(sid, now + 10.5);
      const other = generateId();
      await store.set(other, 'fractional', now + 0.5);
      assert.equal(await store.count!(), 2);
      now += 1;
      await store.gc!();
      assert.equal(await store.get(other), undefined);
      assert.equal(await store.count!(), 1);
      now += 10;
      assert.equal(await store.get(sid), undefined);
      assert.equal(await store.count!(), 0);
    } finally {
      await store.close?.();
    }
  });

  it('gc removes a large expired backlog and keeps the live sessions', async function () {
    let now = Date.UTC(2030, 0, 1);
    const store = await provider.open(join(dir, 'backlog.lmdb'), { maxLifetime: HOUR, now: () => now });
    try {
      await Promise.all(Array.from({ length: 2500 }, () => store.set(generateId(), 'old', now + 1000)));
      const keep = generateId();
      await store.set(keep, 'live', now + HOUR);
      now += 2000;
      await store.gc!();
      assert.equal(await store.count!(), 1);
      assert.equal(await store.get(keep), 'live');
    } finally {
      await store.close?.();
    }
  });

  it('sessions survive closing and reopening the store', async function () {
    const path = join(dir, 's.lmdb');
    const sid = generateId();
    const first = await provider.open(path, { maxLifetime: HOUR });
    await first.set(sid, 'persisted', Date.now() + HOUR);
    await first.close?.();
    const second = await provider.open(path, { maxLifetime: HOUR });
    assert.equal(await second.get(sid), 'persisted');
    await second.close?.();
  });

  it('two processes share one path: each sees the other one\'s writes', async function () {
    const path = join(dir, 'shared.lmdb');
    const sid = generateId();
    const store = await provider.open(path, { maxLifetime: HOUR });
    await store.set(sid, 'from parent', Date.now() + HOUR);
    const seen = await inChild(`console.log(await store.get(sid)); await store.set(sid, 'from child', Date.now() + ${HOUR});`, path, sid);
    assert.equal(seen, 'from parent');
    assert.equal(await store.get(sid), 'from child');
    await store.close?.();
  });

  it('compareAndSet from two processes at once lets exactly one win', async function () {
    const path = join(dir, 'race.lmdb');
    const sid = generateId();
    const store = await provider.open(path, { maxLifetime: HOUR });
    await store.set(sid, 'base', Date.now() + HOUR);
    const script = (who: string) => `console.log(await store.compareAndSet(sid, 'base', '${who}', Date.now() + ${HOUR}));`;
    const [a, b] = await Promise.all([inChild(script('a'), path, sid), inChild(script('b'), path, sid)]);
    assert.deepEqual([a, b].sort(), ['false', 'true']);
    assert.equal(await store.get(sid), a === 'true' ? 'a' : 'b');
    await store.close?.();
  });

  it('compareAndSet increments from two processes lose no update', async function () {
    const path = join(dir, 'counter.lmdb');
    const sid = generateId();
    const store = await provider.open(path, { maxLifetime: HOUR });
    await store.set(sid, '0', Date.now() + HOUR);
    const script = `for (let i = 0; i < 100; i++) {
      for (;;) {
        const current = await store.get(sid);
        if (await store.compareAndSet(sid, current, String(Number(current) + 1), Date.now() + ${HOUR})) break;
      }
    }
    console.log('done');`;
    const results = await Promise.all([inChild(script, path, sid), inChild(script, path, sid), (async () => {
      for (let i = 0; i < 100; i++) {
        for (;;) {
          const current = await store.get(sid);
          if (await store.compareAndSet!(sid, current, String(Number(current) + 1), Date.now() + HOUR)) break;
        }
      }
      return 'done';
    })()]);
    assert.deepEqual(results, ['done', 'done', 'done']);
    assert.equal(await store.get(sid), '300');
    await store.close?.();
  });
});
