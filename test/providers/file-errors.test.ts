import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { createManager, generateId, SessionError } from 'sessionkit';
import { provider } from 'sessionkit/providers/file';
import { fakeRequest } from '../support/requests.ts';

/**
 * File-system errors name paths, and a session's path ends in its id. The default onError prints
 * what it gets, so no id may reach a message, a cause, `util.inspect` of the error or its JSON:
 * the errors say where (`<root>/e/6/***`), never whose session.
 */

const HOUR = 3_600_000;

/** texts lists what a logger could print of `error`: its message, every cause's strings, util.inspect to any depth and JSON. */
function texts(error: unknown): string[] {
  const out = [inspect(error, { depth: Infinity }), JSON.stringify(error)];
  for (let at: unknown = error, depth = 0; at !== undefined && at !== null && depth < 10; depth++) {
    if (typeof at !== 'object') {
      out.push(String(at));
      break;
    }
    for (const value of [...Object.values(at), (at as Error).message, (at as Error).stack]) if (typeof value === 'string') out.push(value);
    at = (at as { cause?: unknown }).cause;
  }
  return out;
}

/** hidden checks that `error` is a SessionError whose every printable form leaves out each of `ids`, and that its message still says where. */
function hidden(where: string, ...ids: string[]): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof SessionError, inspect(error));
    assert.ok(error.message.startsWith('session/file: '), error.message);
    assert.ok(error.message.includes(where), `${error.message} names ${where}`);
    for (const text of texts(error)) for (const sid of ids) assert.ok(!text.includes(sid), `an id in: ${text.slice(0, 400)}`);
    return true;
  };
}

describe('file provider: no session id in an error', function () {
  let parent: string;

  beforeEach(async function () {
    parent = await mkdtemp(join(tmpdir(), 'sessionkit-ferr-'));
  });
  afterEach(async function () {
    // rm(1) walks with relative paths, so it also removes what is nested deeper than PATH_MAX.
    execFileSync('rm', ['-rf', parent]);
  });

  it('a directory where a record belongs fails writes (EISDIR) with the path shown up to its shard, never the id', async function () {
    const root = join(parent, 'sessions');
    const store = await provider.open(root, { maxLifetime: HOUR });
    const sid = generateId();
    const shard = join(root, sid[0]!, sid[1]!);
    await mkdir(join(shard, sid, 'inside'), { recursive: true });
    const later = Date.now() + HOUR;
    await assert.rejects(store.set(sid, 'x', later), hidden(`${shard}/***`, sid));
    await assert.rejects(store.compareAndSet!(sid, undefined, 'x', later), hidden(`${shard}/***`, sid));
    await assert.rejects(store.destroy(sid), hidden(`${shard}/***`, sid));
    const entry = generateId();
    await store.indexAdd!('user:1', entry, later);
    const hash = createHash('sha256').update(Buffer.from('user:2', 'utf16le')).digest('hex');
    await mkdir(join(root, 'index', hash.slice(0, 2), hash, entry, 'inside'), { recursive: true });
    await assert.rejects(store.indexAdd!('user:2', entry, later), hidden(`${root}/index/${hash.slice(0, 2)}/***`, entry));
  });

  it('a path too long for the file system fails every call (ENAMETOOLONG) without showing an id, also through the Manager and in count', async function () {
    // A root so deep that its shard directories still fit in PATH_MAX and the files in them do not.
    let root = parent;
    while (root.length < 4070) root = join(root, 'd'.repeat(Math.min(200, 4070 - root.length - 1)));
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const store = await provider.open(root, { maxLifetime: HOUR });
    const sid = generateId();
    const later = Date.now() + HOUR;
    const shard = join(root, sid[0]!, sid[1]!);
    const calls: [string, () => Promise<unknown>][] = [
      ['set', () => store.set(sid, 'x', later)],
      ['get', () => store.get(sid)],
      ['compareAndSet', () => store.compareAndSet!(sid, undefined, 'x', later)],
      ['touch', () => store.touch!(sid, later)],
      ['destroy', () => store.destroy(sid)],
    ];
    for (const [what, call] of calls) await assert.rejects(call(), hidden(`ENAMETOOLONG: name too long, ${what === 'get' ? 'open' : 'mkdir'} '${shard}/***`, sid), what);

    // Files that a shorter, relative path could make: count meets them by their full path.
    const others = [generateId(), generateId()].map((id) => `${sid.slice(0, 2)}${id.slice(2)}`);
    const cwd = process.cwd();
    try {
      process.chdir(shard);
      for (const other of others) {
        writeFileSync(other, 'x', { mode: 0o600 });
        utimesSync(other, new Date(Date.now() - HOUR), new Date(Date.now() - HOUR));
      }
    } finally {
      process.chdir(cwd);
    }
    await assert.rejects(store.count!(), hidden(`ENAMETOOLONG: name too long, lstat '${shard}/***'`, ...others));

    const manager = await createManager({ provider: 'file', providerConfig: root, gcInterval: 0 });
    try {
      await assert.rejects(manager.load(fakeRequest(`sid=${sid}`)), (error: SessionError) => {
        for (const text of texts(error)) assert.ok(!text.includes(sid), text.slice(0, 400));
        return true;
      });
      await assert.rejects(manager.count(), (error: SessionError) => {
        for (const text of texts(error)) for (const other of others) assert.ok(!text.includes(other), text.slice(0, 400));
        return true;
      });
    } finally {
      await manager.close();
    }
  });

  it('a file where the root belongs fails open naming the root (no id to hide there)', async function () {
    const root = join(parent, 'sessions');
    await writeFile(root, 'not a directory');
    await assert.rejects(provider.open(root, { maxLifetime: HOUR }), hidden(root));
  });
});
