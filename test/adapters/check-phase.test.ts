import { expect } from 'chai';
import { inCheckPhase } from '../../src/http/check-phase.ts';
import { uncaught } from '../support/uncaught.ts';

/** nextCheckPhases resolves after `count` more turns of the loop have passed their check phase. */
async function nextCheckPhases(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('ending in the check phase (inCheckPhase)', function () {
  it('runs the tasks of one turn together in its check phase, in the order asked, with their two arguments', async function () {
    const log: string[] = [];
    const note = (name: string, detail: number) => void log.push(`${name}${detail}`);
    inCheckPhase(note, 'a', 1);
    setImmediate(() => log.push('immediate asked for between them'));
    inCheckPhase(note, 'b', 2);
    expect(log, 'nothing runs in the turn that asked').to.deep.equal([]);
    await nextCheckPhases(1);
    expect(log).to.deep.equal(['a1', 'b2', 'immediate asked for between them']);
  });

  it('a task asked for by a task waits for the next check phase', async function () {
    const log: string[] = [];
    inCheckPhase(() => {
      log.push('first');
      inCheckPhase(() => log.push('asked by first'), undefined, undefined);
    }, undefined, undefined);
    setImmediate(() => log.push('same check phase as first'));
    await nextCheckPhases(2);
    expect(log).to.deep.equal(['first', 'same check phase as first', 'asked by first']);
  });

  it('a task that throws does not keep the others from running; each error is thrown after them, the first first', async function () {
    const ran: number[] = [];
    const errors = await uncaught(async () => {
      inCheckPhase(() => {
        throw new Error('first failure');
      }, undefined, undefined);
      inCheckPhase((n: number) => ran.push(n), 2, undefined);
      inCheckPhase(() => {
        throw new Error('second failure');
      }, undefined, undefined);
      inCheckPhase((n: number) => ran.push(n), 4, undefined);
      await nextCheckPhases(2);
    });
    expect(ran).to.deep.equal([2, 4]);
    expect(errors.map((error) => (error as Error).message)).to.deep.equal(['first failure', 'second failure']);
  });
});
