import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { generateId, SessionError } from 'sessionkit';
import { parseConfig, provider } from 'sessionkit/providers/lmdb';

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
    assert.deepEqual(parseConfig('data_dir=/srv/app.db'), { path: '/srv/app.db' });
    assert.match(parseConfig('').path, /\/data\/sessions\.lmdb$/);
    assert.throws(() => parseConfig('db=0'), (e: Error) => e instanceof SessionError && /unsupported option "db"/.test(e.message));
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
});
