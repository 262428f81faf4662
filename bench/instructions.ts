// Instructions a bench server runs per request, counted by valgrind's callgrind: a figure that,
// unlike req/s or CPU time, hardly moves with what else the machine is doing (about ±2–3 % here;
// run one at a time, as several side by side under valgrind slow timers enough to skew it).
//   node --import tsx bench/instructions.ts <variant> <ro|rw> [warm-up requests] [measured requests]
//   CALLGRIND_OUT=/tmp/cg.out … keeps the measured dump: callgrind_annotate /tmp/cg.out shows it by function.
// The server runs the build (npm run build first) under callgrind; the counters are zeroed after
// the warm-up and dumped after the measured requests. Slow: about 100 s for the defaults.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createSessions, load } from './http.ts';

const [variant = 'express-sk-memory', scenario = 'ro', warmArg, countArg] = process.argv.slice(2);
const warm = Number(warmArg ?? 6000);
const count = Number(countArg ?? 4000);
// CALLGRIND_OUT=<file> keeps the measured dump, for callgrind_annotate.
const keep = process.env.CALLGRIND_OUT;
const base = `sessionkit-callgrind-${process.pid}`;
const app = fileURLToPath(new URL('./servers/app.ts', import.meta.url));
// V8's compiler threads would count too, and vary: compile on the main thread instead.
const child = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${join(tmpdir(), base)}`, process.execPath, '--single-threaded', '--import', 'tsx', app, variant], {
  stdio: ['ignore', 'pipe', 'ignore', 'ipc'],
});
const port = await new Promise<number>((resolve) => {
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('{')) resolve((JSON.parse(line) as { port: number }).port);
  });
});
const cookies = await createSessions(port, 10);
await load(port, `/${scenario}`, cookies, 10, { amount: warm });
execFileSync('callgrind_control', ['-z', String(child.pid)], { stdio: 'ignore' });
const result = await load(port, `/${scenario}`, cookies, 10, { amount: count });
execFileSync('callgrind_control', ['-d', String(child.pid)], { stdio: 'ignore' });
child.kill('SIGTERM');
await new Promise((resolve) => child.once('exit', resolve));
let total = 0;
for (const file of readdirSync(tmpdir()).filter((f) => f.startsWith(base))) {
  // The dump taken right after the measured requests is the file numbered .1.
  const summary = /^summary: (\d+)/m.exec(readFileSync(join(tmpdir(), file), 'utf8'));
  if (summary && file.endsWith('.1')) total = Number(summary[1]);
  if (keep !== undefined && file.endsWith('.1')) copyFileSync(join(tmpdir(), file), keep);
  rmSync(join(tmpdir(), file));
}
console.log(`${variant} ${scenario}: ${(total / (result.ok + result.non2xx) / 1000).toFixed(1)} k instructions/request (${result.ok} requests answered)`);
