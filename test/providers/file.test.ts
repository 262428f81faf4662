import { mkdtemp, rm, lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createManager, generateId, SessionError } from 'sessionkit';
import { provider, FileStore, parseConfig } from 'sessionkit/providers/file';
import { describeManager, describeStore, closeServer, CookieClient, listen } from 'sessionkit/testing';

describe('file provider conformance', function () {
  let root: string;
  before(async function () {
    root = await mkdtemp(join(tmpdir(), 'sessionkit-file-'));
  });
  after(async function () {
    await rm(root, { recursive: true, force: true });
  });
  describeStore('file', {
    rejectsAfterClose: true,
    open: (options) => provider.open(join(root, 'store'), options),
    requires: ['compareAndSet', 'touch', 'regenerate', 'count', 'clear', 'gc', 'indexAdd', 'indexRemove', 'indexList'],
  });
  describeManager('file', { options: () => ({ provider: 'file', providerConfig: join(root, 'manager') }) });
});

describe('file provider', function () {
  let parent: string;
  let root: string;
  const later = () => Date.now() + 3_600_000;

  beforeEach(async function () {
    parent = await mkdtemp(join(tmpdir(), 'sessionkit-filep-'));
    root = join(parent, 'sessions');
  });
  afterEach(async function () {
    await rm(parent, { recursive: true, force: true });
  });

  it('parseConfig resolves a directory and defaults to data/sessions', function () {
    expect(parseConfig('/var/lib/app/sessions')).to.deep.equal({ root: '/var/lib/app/sessions' });
    expect(parseConfig('').root).to.match(/\/data\/sessions$/);
    expect(() => parseConfig('a\0b')).to.throw(SessionError, /NUL/);
  });

  it('stores each session at root/<sid[0]>/<sid[1]>/<sid> with 0600 files in 0700 directories', async function () {
    const store = await provider.open(root, { maxLifetime: 60_000 });
    const sid = generateId();
    const previous = process.umask(0o022);
    try {
      await store.set(sid, 'record', later());
    } finally {
      process.umask(previous);
    }
    const path = join(root, sid[0]!, sid[1]!, sid);
    expect(await readFile(path, 'utf8')).to.equal('record');
    expect((await stat(path)).mode & 0o777).to.equal(0o600);
    expect((await stat(join(root, sid[0]!))).mode & 0o777).to.equal(0o700);
    expect((await stat(join(root, sid[0]!, sid[1]!))).mode & 0o777).to.equal(0o700);
  });

  it('refuses every id that is not a valid id, touching nothing outside its root', async function () {
    const store = await provider.open(root, { maxLifetime: 60_000 });
    const hostile = ['../../etc/passwd', '../' + generateId(), '/abs/path', 'C:\\x', '..\\..\\x', generateId().toUpperCase(), 'ab', ''];
    for (const sid of hostile) {
      for (const call of [() => store.get(sid), () => store.set(sid, 'x', later()), () => store.destroy(sid), () => store.regenerate!(sid, generateId()), () => store.touch!(sid, later())]) {
        const error = await call().catch((e: unknown) => e);
        expect(error, sid).to.be.instanceOf(SessionError).with.property('code', 'ERR_SESSION_INVALID_ID');
      }
    }
    expect(await readdir(parent)).to.deep.equal(['sessions']);
  });

  it('a planted file outside the root is never read, and a hostile cookie gives an anonymous session', async function () {
    const planted = join(parent, 'planted');
    await writeFile(planted, '{"v":1,"c":1,"t":1,"d":{"uid":"admin"}}');
    const manager = await createManager({ provider: 'file', providerConfig: root });
    const middleware = manager.middleware();
    const { server, base } = await listen((req, res) => middleware(req, res, () => {
      const session = (req as unknown as { session: { get(k: string): unknown } }).session;
      res.end(JSON.stringify({ uid: session.get('uid') ?? null }));
    }));
    try {
      for (const value of ['../planted', '..%2Fplanted', '../../' + 'a'.repeat(30), 'x'.repeat(4096)]) {
        const client = new CookieClient(base);
        client.cookie = `sid=${value}`;
        expect(JSON.parse((await client.request('/')).body)).to.deep.equal({ uid: null });
      }
    } finally {
      await closeServer(server);
      await manager.close();
    }
    expect(await readFile(planted, 'utf8')).to.contain('admin');
  });

  it('a symlink or directory planted at a session path is not followed', async function () {
    const store = await provider.open(root, { maxLifetime: 60_000 });
    const secretFile = join(parent, 'secret');
    await writeFile(secretFile, 'do not read');
    const linked = generateId();
    await mkdir(join(root, linked[0]!, linked[1]!), { recursive: true });
    await symlink(secretFile, join(root, linked[0]!, linked[1]!, linked));
    expect(await store.get(linked)).to.equal(undefined);
    const dir = generateId();
    await mkdir(join(root, dir[0]!, dir[1]!, dir), { recursive: true });
    expect(await store.get(dir)).to.equal(undefined);
    expect(await readFile(secretFile, 'utf8')).to.equal('do not read');
  });

  it('a stray temp file is ignored by reads and count, and removed by gc together with empty shard directories', async function () {
    const store = new FileStore({ root }, { maxLifetime: 60_000 });
    const sid = generateId();
    await store.set(sid, 'kept', later());
    const shard = join(root, sid[0]!, sid[1]!);
    const temp = join(shard, `${sid}.deadbeef0000.tmp`);
    await writeFile(temp, 'half a fi');
    const old = new Date(Date.now() - 120_000);
    const { utimes } = await import('node:fs/promises');
    await utimes(temp, old, old);
    const empty = join(root, 'f', 'f');
    await mkdir(empty, { recursive: true });
    expect(await store.get(sid)).to.equal('kept');
    expect(await store.count()).to.equal(1);
    await store.gc();
    expect(await lstat(temp).catch(() => 'gone')).to.equal('gone');
    expect(await lstat(empty).catch(() => 'gone')).to.equal('gone');
    expect(await store.get(sid)).to.equal('kept');
  });

  it('concurrent writers in one directory never leave a half-written file', async function () {
    const store = await provider.open(root, { maxLifetime: 60_000 });
    const sid = generateId();
    const big = (c: string) => c.repeat(256 * 1024);
    await Promise.all(['a', 'b', 'c', 'd'].map((c) => store.set(sid, big(c), later())));
    const value = await store.get(sid);
    expect(['a', 'b', 'c', 'd'].map(big)).to.include(value);
  });
});
