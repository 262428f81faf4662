import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const FIXTURE = fileURLToPath(new URL('./fixtures/faulty-stores.ts', import.meta.url));
const MOCHA = fileURLToPath(new URL('../../node_modules/mocha/bin/mocha.js', import.meta.url));

interface Report {
  stats: { failures: number };
  failures: Array<{ fullTitle: string; err: { message: string } }>;
}

/** runKit runs the kit over the faulty store `fault` in a child mocha and returns its JSON report. */
async function runKit(fault: string): Promise<Report> {
  const args = [MOCHA, '--no-config', '--node-option', 'import=tsx', '--node-option', 'conditions=sessionkit-source', '--reporter', 'json', '--timeout', '30000', '--exit', FIXTURE];
  const { stdout } = await promisify(execFile)(process.execPath, args, { env: { ...process.env, FAULT: fault }, maxBuffer: 16 * 1024 * 1024 }).catch(
    (failed: { stdout?: string }) => ({ stdout: failed.stdout ?? '' }),
  );
  return JSON.parse(stdout.slice(stdout.indexOf('{'))) as Report;
}

/** messagesOf lists the failure messages of a report, one per failed test. */
const messagesOf = (report: Report) => report.failures.map((failure) => `${failure.fullTitle}: ${failure.err.message}`);

describe('the conformance kit names the likely mistake', function () {
  this.timeout(120_000);

  it('a store that reads Date.now() fails with "your store ignores OpenOptions.now", in the expiry tests too', async function () {
    const messages = messagesOf(await runKit('ignores-now'));
    assert.ok(messages.some((m) => m.includes('the store reads time from OpenOptions.now') && m.includes('your store ignores OpenOptions.now')), messages.join('\n'));
    const expiry = messages.filter((m) => m.includes('after expiresAt, before any gc'));
    assert.equal(expiry.length, 1, messages.join('\n'));
    assert.match(expiry[0]!, /your store ignores OpenOptions\.now/);
    assert.ok(messages.every((m) => !/get ignores expiry/.test(m)), messages.join('\n'));
  });

  it('a store that keeps a record live at now == expiresAt fails the boundary test, saying where the boundary is', async function () {
    const messages = messagesOf(await runKit('inclusive-expiry'));
    assert.ok(messages.some((m) => m.includes('get returned a record at now == expiresAt') && m.includes('now >= expiresAt')), messages.join('\n'));
    assert.ok(messages.every((m) => !m.includes('ignores OpenOptions.now')), messages.join('\n'));
  });

  it('a store whose regenerate rejects a taken id with a plain Error is told to throw idTaken', async function () {
    const messages = messagesOf(await runKit('plain-error-regenerate'));
    assert.equal(messages.length, 1, messages.join('\n'));
    assert.match(messages[0]!, /must be ERR_SESSION_ID_TAKEN \(throw idTaken\(provider\) from sessionkit\)/);
  });

  it('a store without compareAndSet that does not declare atomic: false fails the concurrency tests, saying how to declare it', async function () {
    const messages = messagesOf(await runKit('no-compare-and-set'));
    assert.ok(messages.length >= 3, messages.join('\n'));
    for (const message of messages) assert.match(message, /your store has no compareAndSet.*pass atomic: false to describeManager/s);
  });
});
