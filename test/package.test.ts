import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package as a user gets it: packed by `npm pack` from a clean copy of the tree (the files git
 * tracks or would track, as a fresh clone holds them, without dist/ or other leftovers), so the
 * build must come from the prepare script; installed from the tarball into a new app; then used
 * there with plain `node` — ESM and CommonJS — type-checked with `tsc` and `skipLibCheck: false`,
 * and run as the `sessionkit` command.
 */

const root = fileURLToPath(new URL('..', import.meta.url));

/** EXPECTED lists, per public path, what a user's import must at least provide. */
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
/**
 * LINKED are the packages the app gets from this checkout's node_modules instead of the registry:
 * the frameworks and clients whose types the declarations name, the compiler, and tsx — which the
 * installed command must not use to run its TypeScript source.
 */
const LINKED = [
  'express', 'koa', 'fastify', 'ioredis', 'pg', 'mysql2', 'memjs', 'mongodb', 'couchbase', 'lmdb', 'typescript', 'tsx',
  '@types/node', '@types/express', '@types/koa', '@types/pg', '@types/mocha',
];

interface Output {
  stdout: string;
  stderr: string;
}

/** env is this process's environment without what `npm test` sets for its own script, which would steer the inner npm runs. */
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm_(package|lifecycle|config_local_prefix)|INIT_CWD$)/i.test(key)));

function run(command: string, args: string[], cwd: string): Promise<Output> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { message: `${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}\n${stderr}` }));
      else resolve({ stdout, stderr });
    });
  });
}

/** sessionkitBin runs the installed command with plain node and resolves to its exit code and output. */
function sessionkitBin(app: string, args: string[]): Promise<Output & { code: number }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(app, 'node_modules/.bin/sessionkit'), ...args], { cwd: app, env, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

/** cleanCopy copies the files git tracks or would track (untracked ones included, ignored ones not) into `target`. */
async function cleanCopy(target: string): Promise<void> {
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], root);
  const { stdout: deleted } = await run('git', ['ls-files', '-z', '--deleted'], root);
  const gone = new Set(deleted.split('\0'));
  for (const file of stdout.split('\0').filter((f) => f !== '' && !gone.has(f))) {
    await mkdir(join(target, file, '..'), { recursive: true });
    await cp(join(root, file), join(target, file), { verbatimSymlinks: true });
  }
}

const ESM_CHECK = `
  const expected = ${JSON.stringify(EXPECTED)};
  const missing = [];
  for (const [path, names] of Object.entries(expected)) {
    const module = await import(path);
    for (const name of names) if (!(name in module)) missing.push(path + ' ' + name);
  }
  for (const name of ${JSON.stringify(PROVIDERS)}) {
    const module = await import('sessionkit/providers/' + name);
    if (typeof module.parseConfig !== 'function' || typeof module.provider?.open !== 'function') missing.push('sessionkit/providers/' + name);
  }
  const { providers, createManager } = await import('sessionkit');
  const manager = await createManager({ provider: 'memory', maxLifetime: '30m', gcInterval: 0 });
  await manager.close();
  console.log(JSON.stringify({ missing, registered: providers() }));`;

const CJS_CHECK = `
  const expected = ${JSON.stringify(EXPECTED)};
  const missing = [];
  for (const [path, names] of Object.entries(expected)) {
    const module = require(path);
    for (const name of names) if (!(name in module)) missing.push(path + ' ' + name);
  }
  for (const name of ${JSON.stringify(PROVIDERS)}) {
    if (typeof require('sessionkit/providers/' + name).parseConfig !== 'function') missing.push('sessionkit/providers/' + name);
  }
  console.log(JSON.stringify({ missing, registered: require('sessionkit').providers() }));`;

const TYPES_ESM = `import { createManager, register, type ManagerOptions, type Provider, type Store } from 'sessionkit';
import { parseIni } from 'sessionkit/config';
import { describeStore } from 'sessionkit/testing';
import { expressSession } from 'sessionkit/express';
import { koaSession } from 'sessionkit/koa';
import { fastifySession } from 'sessionkit/fastify';
import { renderFlash } from 'sessionkit/templates';
${PROVIDERS.map((name) => `import * as ${name} from 'sessionkit/providers/${name}';`).join('\n')}

const options: ManagerOptions = { ...parseIni('[session]\\nPROVIDER = memory\\n'), maxLifetime: '30m' };
const manager = await createManager(options);
const session = await manager.load({ headers: {} } as never);
const visits: number = session.increment('visits');
const store: Store = { get: async () => undefined, set: async () => {}, destroy: async () => {} };
const provider: Provider = { open: async () => store };
register('app-store', provider);
export const used = [visits, describeStore, expressSession, koaSession, fastifySession, renderFlash, ${PROVIDERS.join(', ')}];
`;

const TYPES_CJS = `import sessionkit = require('sessionkit');
import config = require('sessionkit/config');
import templates = require('sessionkit/templates');
import redis = require('sessionkit/providers/redis');

export const used = [sessionkit.createManager, config.parseIni, templates.renderFlash, redis.parseConfig];
`;

/**
 * THIRD_PARTY_TYPE_ERRORS are errors in other packages' declarations that any app with
 * skipLibCheck false gets from this dependency tree, with or without sessionkit: @types/koa 3
 * names content-disposition's `Options`, which content-disposition 2 (koa 3's own dependency, and
 * typed by itself) no longer exports.
 */
const THIRD_PARTY_TYPE_ERRORS = [/@types\/koa\/index\.d\.ts\(\d+,\d+\): error TS2694: Namespace '"[^"]*content-disposition[^"]*"' has no exported member 'Options'/];

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true,
    skipLibCheck: false, types: ['node', 'mocha'],
  },
  files: ['index.mts', 'index.cts', 'canary.mts'],
};

const THIRD_PARTY = `import { register } from 'sessionkit';
const records = new Map();
register('sqlite', {
  async open() {
    return { get: async (sid) => records.get(sid), set: async (sid, record) => void records.set(sid, record), destroy: async (sid) => void records.delete(sid) };
  },
});
`;

describe('the packed package, installed into a fresh app', function () {
  this.timeout(180_000);
  let work: string;
  let app: string;
  let tarball: string;
  let packed: string[];

  before(async function () {
    work = await mkdtemp(join(tmpdir(), 'sessionkit-package-'));
    const tree = join(work, 'tree');
    await cleanCopy(tree);
    const modules = await realpath(join(root, 'node_modules'));
    await symlink(modules, join(tree, 'node_modules'), 'dir');
    const pack = await run('npm', ['pack', '--json', '--pack-destination', work], tree);
    const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    tarball = join(work, info!.filename);
    packed = info!.files.map((f) => f.path);

    app = join(work, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', tarball], app);
    for (const name of LINKED) {
      await mkdir(join(app, 'node_modules', name, '..'), { recursive: true });
      await symlink(join(modules, name), join(app, 'node_modules', name), 'dir');
    }
  });

  after(async function () {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the tarball holds the build made by the prepare script, and no tests', function () {
    for (const file of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'dist/config/index.js', 'bin/sessionkit.js', 'README.md']) {
      assert.ok(packed.includes(file), `${file} is packed`);
    }
    assert.deepEqual(packed.filter((file) => file.endsWith('.test.ts') || file.startsWith('test/') || file.startsWith('dist/test/')), []);
  });

  it('every package.json export loads with plain node as ESM', async function () {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    const paths = Object.keys(pkg.exports).filter((path) => !path.includes('*') && path !== './package.json').map((path) => (path === '.' ? 'sessionkit' : `sessionkit/${path.slice(2)}`));
    assert.deepEqual(paths.sort(), Object.keys(EXPECTED).sort(), 'the test knows every exported path');
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', ESM_CHECK], app);
    assert.deepEqual(JSON.parse(stdout), { missing: [], registered: [...PROVIDERS].sort() });
  });

  it('every export loads with require() from CommonJS (Node 20.19+ loads ESM without top-level await), without a warning', async function () {
    const { stdout, stderr } = await run(process.execPath, ['--input-type=commonjs', '-e', CJS_CHECK], app);
    assert.deepEqual(JSON.parse(stdout), { missing: [], registered: [...PROVIDERS].sort() });
    assert.equal(stderr, '');
  });

  it('the declarations type-check in an app with skipLibCheck false, from ESM and CommonJS', async function () {
    await writeFile(join(app, 'index.mts'), TYPES_ESM);
    await writeFile(join(app, 'index.cts'), TYPES_CJS);
    // One planted mistake proves the compiler ran over the app: it must be the one error reported.
    await writeFile(join(app, 'canary.mts'), "export const wrong: number = 'not a number';\n");
    await writeFile(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    const errors = await new Promise<string[]>((resolve) => {
      execFile(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', app], { cwd: app, env }, (_error, stdout, stderr) => {
        resolve(`${stdout}\n${stderr}`.split('\n').filter((line) => /error TS\d+/.test(line)));
      });
    });
    const ours = errors.filter((line) => !THIRD_PARTY_TYPE_ERRORS.some((known) => known.test(line)));
    assert.equal(ours.length, 1, ours.join('\n'));
    assert.match(ours[0]!, /^canary\.mts\(1,14\): error TS2322/);
  });

  it('the sessionkit command runs the built code with plain node, even where tsx is installed', async function () {
    // Were the launcher to run the TypeScript source, this is what would run.
    await writeFile(join(app, 'node_modules/sessionkit/src/cli/main.ts'), "console.log('ran the source'); process.exit(3);\n");
    const help = await sessionkitBin(app, ['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^usage: sessionkit <command>/);
    await writeFile(join(app, 'app.ini'), '[session]\nPROVIDER = file\nPROVIDER_CONFIG = data/sessions\n');
    const check = await sessionkitBin(app, ['check', 'app.ini']);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /^ok: provider file stored, read and deleted a test record/);
  });

  it('the sessionkit command loads a third-party provider given with --import, and says how when it is missing', async function () {
    await writeFile(join(app, 'sqlite-provider.mjs'), THIRD_PARTY);
    await writeFile(join(app, 'sqlite.ini'), '[session]\nPROVIDER = sqlite\n');
    const missing = await sessionkitBin(app, ['check', 'sqlite.ini']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /unknown provider "sqlite" \(not a built-in provider; .*--import <module>/);
    const loaded = await sessionkitBin(app, ['check', 'sqlite.ini', '--import', './sqlite-provider.mjs']);
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.match(loaded.stdout, /^ok: provider sqlite stored, read and deleted a test record/);
  });
});
