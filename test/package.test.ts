import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = new URL('..', import.meta.url);

/** What a user's `import` of each public path must at least provide once the package is built. */
const EXPECTED: Record<string, string[]> = {
  sessionkit: ['createManager', 'register', 'providers', 'SessionError', 'Manager', 'Session'],
  'sessionkit/config': ['loadIni', 'parseIni'],
  'sessionkit/testing': ['describeStore', 'describeManager', 'fakeClock'],
  'sessionkit/express': ['expressSession'],
  'sessionkit/koa': ['koaSession'],
  'sessionkit/fastify': ['fastifySession'],
  'sessionkit/express-session': ['default', 'session', 'storeProvider', 'Store'],
  'sessionkit/templates': ['renderFlash'],
};
const PROVIDERS = ['memory', 'file', 'redis', 'memcache', 'postgres', 'mysql', 'mongodb', 'couchbase', 'lmdb'];

describe('the built package, as users import it', function () {
  this.timeout(120_000);

  before(async function () {
    await run('npm', ['run', 'build'], { cwd: root });
  });

  it('every path in package.json exports is built and loads without the source condition', async function () {
    const pkg = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as { exports: Record<string, unknown> };
    const paths = Object.keys(pkg.exports).filter((path) => !path.includes('*') && path !== './package.json').map((path) => (path === '.' ? 'sessionkit' : `sessionkit/${path.slice(2)}`));
    assert.deepEqual(paths.sort(), Object.keys(EXPECTED).sort(), 'the test knows every exported path');
    const script = `
      const expected = ${JSON.stringify(EXPECTED)};
      const providers = ${JSON.stringify(PROVIDERS)};
      const missing = [];
      for (const [path, names] of Object.entries(expected)) {
        const module = await import(path);
        for (const name of names) if (!(name in module)) missing.push(path + ' ' + name);
      }
      for (const name of providers) await import('sessionkit/providers/' + name);
      const { providers: registered } = await import('sessionkit');
      console.log(JSON.stringify({ missing, registered: registered() }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root });
    const result = JSON.parse(stdout) as { missing: string[]; registered: string[] };
    assert.deepEqual(result.missing, []);
    assert.deepEqual(result.registered, [...PROVIDERS].sort());
  });
});
