import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** mocha runs the fixture file with the summary reporter, outside CI, and returns what it printed. */
function mocha(): Promise<string> {
  const args = [
    '--conditions=sessionkit-source', '--import', 'tsx', 'node_modules/mocha/bin/mocha.js', '--no-config',
    '--reporter', './test/support/summary-reporter.cjs', 'test/support/fixtures/skips.ts',
  ];
  const env = { ...process.env, CI: '', SESSIONKIT_TEST_NOWHERE_URL: '' };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: root, env, timeout: 30_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${stdout}${stderr}`)) : resolve(stdout)));
  });
}

describe('the test summary', function () {
  this.timeout(30_000);

  it('groups skipped tests by reason with the command that runs them, and ends with the line CI reads', async function () {
    const lines = (await mocha()).trimEnd().split('\n');
    const start = lines.indexOf('skipped, by reason:');
    assert.ok(start > 0, lines.join('\n'));
    assert.deepEqual(lines.slice(start + 1), [
      '  2  memcached is not reachable at 127.0.0.1:1',
      '     to run them: start it on 127.0.0.1:1',
      '  1  SESSIONKIT_TEST_NOWHERE_URL is not set',
      '     to run them: SESSIONKIT_TEST_NOWHERE_URL=nowhere://127.0.0.1 npm test',
      '  1  Chromium is missing at /nowhere',
      '     to run them: bash .ci/chromium.sh',
      '  1  skipped by the test itself, no reason recorded',
      '     e.g. skips single tests fifth',
      '',
      '1 passed, 0 failed, 5 skipped',
    ]);
  });
});
