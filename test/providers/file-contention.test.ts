import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManager, type Manager } from 'sessionkit';
import { fakeRequest } from '../support/requests.ts';
import { startScript, type ScriptChild } from '../support/script-child.ts';

/**
 * Many requests of one session writing at once, through a real Manager with its default
 * storeTimeout (2 s per store call): the file store must answer every one of them, within one
 * process and across two processes sharing the directory, and the counter must end exact.
 */

const WRITES = 200;

/** Tally is what one process saw: its acknowledged writes and the failures by message. */
interface Tally {
  acknowledged: number;
  failures: Record<string, number>;
}

/** incrementAll sends `count` concurrent increments of `sid` through `manager` and tallies them. */
async function incrementAll(manager: Manager, sid: string, count: number): Promise<Tally> {
  const tally: Tally = { acknowledged: 0, failures: {} };
  await Promise.all(
    Array.from({ length: count }, async () => {
      try {
        const session = await manager.load(fakeRequest(`sid=${sid}`));
        session.increment('n');
        await session.release();
        tally.acknowledged++;
      } catch (error) {
        const message = (error as Error).message;
        tally.failures[message] = (tally.failures[message] ?? 0) + 1;
      }
    }),
  );
  return tally;
}

/** childScript waits for a line on stdin, sends `count` concurrent increments of `sid`, and prints its tally. */
const childScript = (root: string, sid: string, count: number) => `import { createManager } from 'sessionkit';
setTimeout(() => process.exit(3), 60_000);
const manager = await createManager({ provider: 'file', providerConfig: ${JSON.stringify(root)}, gcInterval: 0, onError: () => {} });
const request = { headers: { cookie: 'sid=${sid}' } };
process.stdout.write('ready\\n');
await new Promise((go) => process.stdin.once('data', go));
const tally = { acknowledged: 0, failures: {} };
await Promise.all(Array.from({ length: ${count} }, async () => {
  try {
    const session = await manager.load(request);
    session.increment('n');
    await session.release();
    tally.acknowledged++;
  } catch (error) {
    tally.failures[error.message] = (tally.failures[error.message] ?? 0) + 1;
  }
}));
process.stdout.write(JSON.stringify(tally) + '\\n');
await manager.close();
process.exit(0);`;

describe('file provider: many writers of one session', function () {
  this.timeout(60_000);
  let parent: string;
  let root: string;
  let manager: Manager;
  let child: ScriptChild | undefined;

  beforeEach(async function () {
    parent = await mkdtemp(join(tmpdir(), 'sessionkit-contend-'));
    root = join(parent, 'sessions');
    manager = await createManager({ provider: 'file', providerConfig: root, gcInterval: 0, onError: () => {} });
  });
  afterEach(async function () {
    await child?.kill();
    await manager.close();
    await rm(parent, { recursive: true, force: true });
  });

  /** created stores a session with the counter at 0 and returns its id. */
  async function created(): Promise<string> {
    const session = await manager.load(fakeRequest());
    session.set('n', 0);
    await session.release();
    return session.id;
  }

  const counter = async (sid: string) => (await manager.load(fakeRequest(`sid=${sid}`))).get('n');

  it(`${WRITES} concurrent increments of one session in one process all succeed and count exactly`, async function () {
    const sid = await created();
    const tally = await incrementAll(manager, sid, WRITES);
    assert.deepEqual(tally, { acknowledged: WRITES, failures: {} });
    assert.equal(await counter(sid), WRITES);
  });

  it(`${WRITES} concurrent increments of one session from two processes all succeed and count exactly`, async function () {
    const sid = await created();
    const half = WRITES / 2;
    child = await startScript(childScript(root, sid, half));
    child.child.stdin!.write('go\n');
    const mine = await incrementAll(manager, sid, half);
    const theirs = await child.result<Tally>();
    assert.deepEqual({ mine, theirs }, { mine: { acknowledged: half, failures: {} }, theirs: { acknowledged: half, failures: {} } });
    assert.equal(await counter(sid), WRITES);
  });
});
