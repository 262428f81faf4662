import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CookieClient } from 'sessionkit/testing';
import { RUNNABLE, readmeBlocks, type Block } from './support/readme-blocks.ts';
import { requireServer } from './support/servers.ts';

/**
 * README.md as a user copies it: every code block is a complete program that type-checks and
 * runs, or is marked as a fragment (see test/support/readme-blocks.ts for the marks). A block that
 * listens gets a free port instead of the one it names, and must answer `GET /` without a server
 * error. A block marked `needs=host:port` runs only where that server is (always in CI).
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const HOOK = pathToFileURL(fileURLToPath(new URL('./support/listen-hook.ts', import.meta.url))).href;
const blocks = readmeBlocks(readFileSync(join(root, 'README.md'), 'utf8'));
const runnable = blocks.filter((block) => RUNNABLE.has(block.lang) && !block.fragment);

/** where names a block for messages and test titles. */
const where = (block: Block) => `README.md:${block.line} (${block.heading})`;
/** fileOf is the file a runnable block is written to. */
const fileOf = (block: Block) => `block-${block.line}.ts`;

interface Listening {
  base: string;
  stop(): Promise<void>;
}

/**
 * runBlock runs a block's file with tsx and the listen hook, and resolves once it has exited with
 * 0 (undefined) or listens (its base URL and a stop function); any other exit rejects with its output.
 */
function runBlock(dir: string, block: Block): Promise<Listening | undefined> {
  const child = spawn(process.execPath, ['--conditions=sessionkit-source', '--import', 'tsx', '--import', HOOK, fileOf(block)], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${where(block)} neither exited nor listened within 20 s:\n${output}`));
    }, 20_000);
    child.once('message', (message: { listening?: number }) => {
      clearTimeout(timer);
      resolve({
        base: `http://127.0.0.1:${message.listening}`,
        stop: async () => {
          child.kill();
          await exited;
        },
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      if (code === 0) resolve(undefined);
      else reject(new Error(`${where(block)} exited with ${code}:\n${output}`));
    });
  });
}

/**
 * workspace makes the directory the blocks run in: an ESM package whose node_modules holds this
 * checkout as `sessionkit` (read from source through the sessionkit-source condition) and every
 * package this checkout has installed, plus the blocks and the files they write.
 */
async function workspace(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sessionkit-readme-'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'readme', private: true, type: 'module' }));
  await mkdir(join(dir, 'node_modules'));
  await symlink(root, join(dir, 'node_modules', 'sessionkit'), 'dir');
  for (const entry of await readdir(join(root, 'node_modules'))) {
    if (entry.startsWith('.') || entry === 'sessionkit') continue;
    await symlink(join(root, 'node_modules', entry), join(dir, 'node_modules', entry), 'dir');
  }
  for (const block of blocks) {
    if (block.file !== undefined) {
      await mkdir(dirname(join(dir, block.file)), { recursive: true });
      await writeFile(join(dir, block.file), block.code);
    }
  }
  // `export {}` keeps a block without imports a module, so blocks never share top-level names.
  for (const block of runnable) await writeFile(join(dir, fileOf(block)), `${block.code}export {};\n`);
  return dir;
}

describe('README.md code blocks', function () {
  this.timeout(60_000);
  let dir: string;

  before(async function () {
    dir = await workspace();
  });

  after(async function () {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('every block is a runnable program, a file a later block reads, or marked as a fragment', function () {
    const unmarked = blocks.filter((block) => !RUNNABLE.has(block.lang) && !block.fragment && block.file === undefined);
    assert.deepEqual(unmarked.map(where), [], 'mark these ```<lang> fragment, or ```<lang> file=<name> when a later block reads them');
    assert.ok(runnable.length >= 3, 'the quick starts are runnable');
  });

  it('the runnable blocks type-check', async function () {
    const base = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    const { outDir: _outDir, ...options } = base.compilerOptions;
    const compilerOptions = { ...options, noEmit: true, types: ['node'] };
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: runnable.map(fileOf) }));
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const output = await new Promise<{ code: number; text: string }>((resolve) => {
      execFile(process.execPath, [tsc, '-p', dir], { cwd: dir }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, text: stdout + stderr }));
    });
    const named = output.text.replace(/block-(\d+)\.ts\((\d+),/g, (_, line: string, row: string) => `README.md:${Number(line) + Number(row)} (block-${line}.ts, `);
    assert.equal(output.code, 0, named);
  });

  for (const block of runnable) {
    it(`the block at ${where(block)} runs as written`, async function () {
      for (const address of needs(block)) await requireServer(this, `the server ${where(block)} needs`, address.host, address.port);
      const server = await runBlock(dir, block);
      if (!server) return;
      try {
        const response = await fetch(server.base + '/');
        assert.ok(response.status < 500, `GET / answered ${response.status}`);
      } finally {
        await server.stop();
      }
    });
  }

  it('the Express quick start logs in, shows the welcome flash once, refuses a wrong password, and logs out', async function () {
    const express = runnable.find((block) => block.heading === 'Express');
    assert.ok(express, 'README.md has a runnable block under "### Express"');
    const server = await runBlock(dir, express);
    assert.ok(server, 'the Express quick start listens');
    try {
      const client = new CookieClient(server.base);
      const first = await client.request('/');
      assert.equal(first.status, 200);
      assert.match(first.body, /<form method="post" action="\/login">/);
      assert.deepEqual(first.setCookies, [], 'an anonymous page view stores nothing and sets no cookie');

      const wrong = await client.request('/login', { method: 'POST', body: new URLSearchParams({ user: 'carol', password: 'guess' }) });
      assert.equal(wrong.status, 302);
      assert.match((await client.request('/')).body, /Wrong user name or password/);

      const login = await client.request('/login', { method: 'POST', body: new URLSearchParams({ user: 'carol', password: 'correct horse' }) });
      assert.equal(login.status, 302);
      const welcome = await client.request('/');
      assert.match(welcome.body, /Welcome, Carol!/);
      assert.match(welcome.body, /Hello, Carol/);
      const again = await client.request('/');
      assert.doesNotMatch(again.body, /Welcome, Carol!/, 'a flash is shown once');
      assert.match(again.body, /Hello, Carol/);

      const logout = await client.request('/logout', { method: 'POST' });
      assert.equal(logout.status, 302);
      const after = await client.request('/');
      assert.match(after.body, /You have been logged out/);
      assert.doesNotMatch(after.body, /Hello, Carol/);
    } finally {
      await server.stop();
    }
  });
});

/** needs reads a block's `needs=host:port[,host:port]` mark, for blocks that talk to a server. */
function needs(block: Block): { host: string; port: number }[] {
  return block.needs.map((address) => {
    const [host, port] = address.split(':');
    return { host: host!, port: Number(port) };
  });
}
