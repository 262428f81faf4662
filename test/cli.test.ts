import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Manager, createManager } from 'sessionkit';
import { loadIni } from 'sessionkit/config';
import { redactProviderConfig, sensitiveValues } from '../src/cli/redact.ts';
import { requireServer } from './support/servers.ts';

// The command's source, run as the installed bin runs its build (test/package.test.ts runs the bin).
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const SECRET = 'cli-test-signing-secret-0123456789-abcdef';
const PASSWORD = 'Hunter2-cli-password';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function sessionkit(...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--conditions=sessionkit-source', '--import', 'tsx', MAIN, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function assertNoSecret(result: Result, ...secrets: string[]): void {
  for (const secret of secrets) {
    assert.ok(!result.stdout.includes(secret), `stdout reveals a secret: ${result.stdout}`);
    assert.ok(!result.stderr.includes(secret), `stderr reveals a secret: ${result.stderr}`);
  }
}

/** files lists every file under `dir`, recursively. */
async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

describe('sessionkit CLI', function () {
  this.timeout(30_000);
  let dir: string;
  let sessions: string;
  let good: string;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'sessionkit-cli-'));
    sessions = join(dir, 'sessions');
    good = join(dir, 'app.ini');
    await writeFile(good, `[server]\nPORT = 3000\n\n[session]\nPROVIDER = file\nPROVIDER_CONFIG = ${sessions}\nCOOKIE_NAME = app_sid\nSECRET = ${SECRET}\n`);
  });

  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  /** withManager opens the same store in-process, to put sessions in and look at them. */
  async function withManager<T>(fn: (manager: Manager) => Promise<T>): Promise<T> {
    const manager = await createManager({ ...(await loadIni(good)), gcInterval: 0 });
    try {
      return await fn(manager);
    } finally {
      await manager.close();
    }
  }

  /** storeSession saves a session through the Manager, as a request would, and returns its id. */
  function storeSession(manager: Manager, userId?: string): Promise<string> {
    return manager.load({ headers: {} } as IncomingMessage).then(async (session) => {
      session.set('n', 1);
      if (userId !== undefined) session.bindUser(userId);
      await session.release();
      return session.id;
    });
  }

  describe('command line', function () {
    it('--help prints every command and exits 0', async function () {
      const result = await sessionkit('--help');
      assert.equal(result.code, 0);
      for (const command of ['check', 'count', 'gc', 'destroy', 'destroy-user', '--section', '--import']) assert.match(result.stdout, new RegExp(command));
    });

    it('a missing or unknown command, a missing file or an unknown option exits 1 with a hint', async function () {
      for (const args of [[], ['frobnicate', good], ['count'], ['destroy', good], ['count', good, '--nope']]) {
        const result = await sessionkit(...args);
        assert.equal(result.code, 1, `sessionkit ${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, /sessionkit --help/);
        assert.equal(result.stdout, '');
      }
    });
  });

  describe('with a third-party provider', function () {
    const mapProvider = fileURLToPath(new URL('../examples/custom-provider/map-provider.ts', import.meta.url));

    it('--import loads a module that registers a provider, so a config naming it works', async function () {
      const path = join(dir, 'third-party.ini');
      await writeFile(path, '[session]\nPROVIDER = example-map\n');
      const result = await sessionkit('check', path, '--import', mapProvider);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^ok: provider example-map stored, read and deleted a test record/);
    });

    it('without --import the unknown provider says how to load it, naming no module that does not exist', async function () {
      const path = join(dir, 'third-party.ini');
      await writeFile(path, '[session]\nPROVIDER = example-map\n');
      const result = await sessionkit('check', path);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /PROVIDER: session: unknown provider "example-map" \(not a built-in provider; .*--import <module>/);
      assert.doesNotMatch(result.stderr, /sessionkit\/providers\/example-map/);
    });

    it('an --import that cannot be loaded exits 2 naming the module and what to do', async function () {
      const result = await sessionkit('count', good, '--import', 'sessionkit-no-such-provider');
      assert.equal(result.code, 2);
      assert.match(result.stderr, /--import "sessionkit-no-such-provider" failed \(ERR_MODULE_NOT_FOUND\); install the package/);
    });
  });

  describe('against a working config (file provider)', function () {
    it('check round-trips a record, leaves nothing behind, and prints the effective config without the secret', async function () {
      const result = await sessionkit('check', good);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^ok: provider file /);
      assert.match(result.stdout, /^PROVIDER = file$/m);
      assert.match(result.stdout, new RegExp(`^PROVIDER_CONFIG = ${sessions.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
      assert.match(result.stdout, /^COOKIE_NAME = app_sid$/m);
      assert.match(result.stdout, /^MAX_LIFE_TIME = 3600$/m, 'defaults are filled in');
      assert.match(result.stdout, /^SECRET = \*\*\*$/m);
      assertNoSecret(result, SECRET);
      assert.deepEqual(await files(sessions), [], 'the test record is removed');
    });

    it('count prints the exact number of live sessions', async function () {
      const before = await sessionkit('count', good);
      assert.equal(before.code, 0, before.stderr);
      const start = Number(before.stdout.trim());
      assert.ok(Number.isInteger(start));
      await withManager(async (manager) => {
        await storeSession(manager);
        await storeSession(manager);
      });
      const after = await sessionkit('count', good);
      assert.equal(after.code, 0, after.stderr);
      assert.equal(after.stdout, `${start + 2}\n`);
    });

    it('destroy removes one session by id and reports an unknown id without failing', async function () {
      const sid = await withManager((manager) => storeSession(manager));
      const result = await sessionkit('destroy', good, sid);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `destroyed session ${sid}\n`);
      assert.equal(await withManager((manager) => manager.store.get(sid)), undefined);

      const again = await sessionkit('destroy', good, sid);
      assert.equal(again.code, 0);
      assert.match(again.stdout, /nothing to destroy/);
    });

    it('destroy refuses a malformed session id with exit 1 before touching the store', async function () {
      const result = await sessionkit('destroy', good, '../../etc/passwd');
      assert.equal(result.code, 1);
      assert.match(result.stderr, /is not a session id/);
    });

    it('gc runs one pass and exits 0', async function () {
      const result = await sessionkit('gc', good);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^gc: pass done; \d+ live sessions$/m);
    });

    it('--section reads the session keys from another section', async function () {
      const other = join(dir, 'other.ini');
      await writeFile(other, `[web_session]\nPROVIDER = file\nPROVIDER_CONFIG = ${sessions}\n`);
      const result = await sessionkit('count', other, '--section', 'web_session');
      assert.equal(result.code, 0, result.stderr);
      const missing = await sessionkit('count', other);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /no \[session\] section/);
    });

    it('destroy-user logs one user out everywhere and leaves other users alone', async function () {
      const [first, second, other] = await withManager(async (manager) => [
        await storeSession(manager, 'ann'),
        await storeSession(manager, 'ann'),
        await storeSession(manager, 'bob'),
      ]);
      const result = await sessionkit('destroy-user', good, 'ann');
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 'destroyed 2 sessions of user "ann"\n');
      await withManager(async (manager) => {
        assert.equal(await manager.store.get(first!), undefined);
        assert.equal(await manager.store.get(second!), undefined);
        assert.notEqual(await manager.store.get(other!), undefined);
      });
      const again = await sessionkit('destroy-user', good, 'ann');
      assert.equal(again.stdout, 'destroyed 0 sessions of user "ann"\n');
    });
  });

  describe('against a broken config', function () {
    async function broken(name: string, body: string): Promise<Result> {
      const path = join(dir, name);
      await writeFile(path, body);
      const result = await sessionkit('check', path);
      assert.equal(result.code, 2, `${name}: ${result.stdout}${result.stderr}`);
      assert.equal(result.stdout, '');
      return result;
    }

    it('an unknown key exits 2 naming the key and its line, without printing the secret', async function () {
      const result = await broken('unknown-key.ini', `[session]\nSECRET = ${SECRET}\nPROVIDER = file\nCOOKIE_NAM = x\n`);
      assert.match(result.stderr, /unknown-key\.ini:4: unknown key COOKIE_NAM/);
      assert.match(result.stderr, /COOKIE_NAME/, 'the likely intended key is suggested');
      assertNoSecret(result, SECRET);
    });

    it('a bad value exits 2 naming the key', async function () {
      const result = await broken('bad-value.ini', '[session]\nMAX_LIFE_TIME = soon\n');
      assert.match(result.stderr, /MAX_LIFE_TIME/);
      assert.match(result.stderr, /ERR_SESSION_CONFIG/);
    });

    it('an unknown provider exits 2 naming PROVIDER and the name', async function () {
      const result = await broken('bad-provider.ini', '[session]\nPROVIDER = nosuch\n');
      assert.match(result.stderr, /PROVIDER: .*unknown provider "nosuch"/);
    });

    it('a provider config the provider rejects exits 2 naming PROVIDER_CONFIG and the bad option, never the password', async function () {
      const result = await broken('bad-dsn.ini', `[session]\nPROVIDER = postgres\nPROVIDER_CONFIG = user=postgres password=${PASSWORD} bogus=1 host=127.0.0.1\n`);
      assert.match(result.stderr, /PROVIDER_CONFIG: session\/postgres: .*"bogus"/);
      assertNoSecret(result, PASSWORD);
    });

    it('a store that cannot be reached exits 2 naming PROVIDER_CONFIG and the address, never the password', async function () {
      // Port 1 on loopback: nothing listens there, so the connection is refused at once.
      const result = await broken('down.ini', `[session]\nPROVIDER = redis\nPROVIDER_CONFIG = 127.0.0.1:1,10,${PASSWORD},0\n`);
      assert.match(result.stderr, /PROVIDER_CONFIG: session\/redis: .*127\.0\.0\.1:1/);
      assertNoSecret(result, PASSWORD);
    });
  });

  describe('with a password in PROVIDER_CONFIG (postgres)', function () {
    before(async function () {
      await requireServer(this, 'PostgreSQL', '127.0.0.1', 5432);
    });

    it('check succeeds and prints the DSN with the password masked', async function () {
      const path = join(dir, 'postgres.ini');
      // The local server trusts loopback connections, so any password is accepted.
      await writeFile(path, `[session]\nPROVIDER = postgres\nPROVIDER_CONFIG = user=postgres password=${PASSWORD} host=127.0.0.1 port=5432 dbname=test sslmode=disable table=sessionkit_test_cli\n`);
      const result = await sessionkit('check', path);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^PROVIDER_CONFIG = user=postgres password=\*\*\* host=127\.0\.0\.1 port=5432 dbname=test sslmode=disable table=sessionkit_test_cli$/m);
      assertNoSecret(result, PASSWORD);
    });
  });
});

describe('sessionkit CLI: redactProviderConfig', function () {
  const cases: [string, string, string, string[]?][] = [
    ['a URL password', `redis://:${PASSWORD}@127.0.0.1:6379/0`, 'redis://:***@127.0.0.1:6379/0'],
    ['a URL user and password', `postgres://app:${PASSWORD}@db:5432/test`, 'postgres://app:***@db:5432/test'],
    ['a password in a URL query', `mongodb://h:27017/db?authSource=admin&password=${PASSWORD}`, 'mongodb://h:27017/db?authSource=admin&password=***'],
    ["macaron's key=value list", `network=tcp,addr=127.0.0.1:6379,password=${PASSWORD},db=0`, 'network=tcp,addr=127.0.0.1:6379,password=***,db=0'],
    ["lib/pq's quoted password", `user=postgres password='${PASSWORD} x' host=h`, 'user=postgres password=*** host=h'],
    ["go-sql-driver's user:password@", `root:${PASSWORD}@tcp(127.0.0.1:3306)/test?charset=utf8`, 'root:***@tcp(127.0.0.1:3306)/test?charset=utf8'],
    ["beego's JSON", `{"save_path":"127.0.0.1:6379","password":"${PASSWORD}","db_num":0}`, '{"save_path":"127.0.0.1:6379","password":"***","db_num":0}'],
    ["beego's positional CSV, through the parsed value", `127.0.0.1:6379,100,${PASSWORD},0`, '127.0.0.1:6379,100,***,0', [PASSWORD]],
  ];
  for (const [what, input, expected, known] of cases) {
    it(`masks ${what}`, function () {
      const out = redactProviderConfig(input, known);
      assert.equal(out, expected);
      assert.ok(!out.includes(PASSWORD));
    });
  }

  it('keeps configs without a password unchanged, empty passwords included', function () {
    for (const text of ['/var/lib/app/sessions', '127.0.0.1:11211;127.0.0.1:11212', 'root:@tcp(127.0.0.1:3306)/test', 'network=tcp,addr=127.0.0.1:6379,password=,db=0', 'redis://127.0.0.1:6379/0']) {
      assert.equal(redactProviderConfig(text), text);
    }
  });

  it('sensitiveValues finds password fields at any depth of a parsed config, and nothing else', function () {
    assert.deepEqual(sensitiveValues({ host: 'h', password: 'p1', sentinel: { sentinelPassword: 'p2', port: 1 }, prefix: 'session:', empty: { password: '' } }), ['p1', 'p2']);
  });
});
