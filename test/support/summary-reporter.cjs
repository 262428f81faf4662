// Mocha's spec output, then the skipped tests grouped by reason with the command that makes them
// run, then the plain "N passed, N failed" line that CI reads (always the last line).
'use strict';
const Mocha = require('mocha');
const { Spec } = Mocha.reporters;
const { EVENT_RUN_END, EVENT_TEST_PENDING } = Mocha.Runner.constants;

/** NO_REASON groups tests skipped without a recorded reason (see skipBecause in test/support/servers.ts). */
const NO_REASON = 'skipped by the test itself, no reason recorded';

/** skipReason finds the reason a skipped test carries, on itself or on the nearest suite above it. */
function skipReason(test) {
  for (let node = test; node; node = node.parent) {
    if (node.skipReason && typeof node.skipReason.reason === 'string') return node.skipReason;
  }
  return undefined;
}

/** summarize renders the groups, largest first: count, reason, and the command or an example title. */
function summarize(groups) {
  const rows = [...groups.values()].sort((a, b) => b.count - a.count);
  const width = String(rows[0].count).length;
  const lines = ['', 'skipped, by reason:'];
  for (const row of rows) {
    lines.push(`  ${String(row.count).padStart(width)}  ${row.reason}`);
    if (row.enable) lines.push(`  ${' '.repeat(width)}  to run them: ${row.enable}`);
    else lines.push(`  ${' '.repeat(width)}  e.g. ${row.example}`);
  }
  return lines.join('\n') + '\n';
}

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    const groups = new Map();
    runner.on(EVENT_TEST_PENDING, (test) => {
      const why = skipReason(test);
      const reason = why ? why.reason : NO_REASON;
      const group = groups.get(reason) ?? { reason, enable: why?.enable, example: test.fullTitle(), count: 0 };
      group.count += 1;
      groups.set(reason, group);
    });
    runner.once(EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats ?? this.stats;
      if (groups.size > 0) process.stdout.write(summarize(groups));
      process.stdout.write(`\n${passes} passed, ${failures} failed` + (pending ? `, ${pending} skipped` : '') + '\n');
    });
  }
}
module.exports = SummaryReporter;
module.exports.skipReason = skipReason;
module.exports.summarize = summarize;
