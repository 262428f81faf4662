// Where a bench server's time goes, by part: one server under `node --cpu-prof`, loaded, then its
// profile summed by where the code lives (sessionkit, Express, node:http, …) and by function.
//   node --import tsx bench/profile.ts <variant> <ro|rw> [requests]
// Prints µs per request for the top parts and the top sessionkit and framework functions. Times
// are under the profiler, a little above the bench's; compare two variants run the same way (for
// example express-bare against express-sk-memory) rather than reading one alone. Uses the build.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createSessions, load } from './http.ts';

const [variant = 'express-sk-memory', scenario = 'ro', countArg] = process.argv.slice(2);
const count = Number(countArg ?? 40_000);
const warm = Math.ceil(count / 2);
const dir = mkdtempSync(join(tmpdir(), 'sessionkit-profile-'));
const app = fileURLToPath(new URL('./servers/app.ts', import.meta.url));
const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', app, variant], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<number>((resolve) => {
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('{')) resolve((JSON.parse(line) as { port: number }).port);
  });
});
const cookies = await createSessions(port, 10);
await load(port, `/${scenario}`, cookies, 10, { amount: warm });
await load(port, `/${scenario}`, cookies, 10, { amount: count });
child.kill('SIGTERM');
await new Promise((resolve) => child.once('exit', resolve));

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}
// The main thread's profile is the largest; tsx's loader thread writes a smaller one.
const files = readdirSync(dir).map((name) => join(dir, name));
const main = files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
const profile = JSON.parse(readFileSync(main, 'utf8')) as Profile;
rmSync(dir, { recursive: true, force: true });

const selfTime = new Map<number, number>();
profile.samples.forEach((id, i) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const parts = new Map<string, number>();
const functions = new Map<string, number>();
const add = (into: Map<string, number>, key: string, time: number) => into.set(key, (into.get(key) ?? 0) + time);
for (const node of profile.nodes) {
  const time = selfTime.get(node.id) ?? 0;
  if (time === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  add(parts, partOf(url, functionName), time);
  const where = url.replace(/.*node_modules\//, '').replace(/.*\/(dist|bench)\//, '$1/');
  if (/\/dist\/|node_modules\/(express|router|fastify)\//.test(url)) add(functions, `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`, time);
}

/** partOf names where code lives: sessionkit's build, a package, a node: module, or V8's own entries. */
function partOf(url: string, functionName: string): string {
  if (url.includes('/dist/')) return 'sessionkit';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/').slice(0, 2).join('/')}`;
  if (url.includes('/bench/')) return 'bench server';
  return functionName || '(native)';
}

const requests = warm + count;
const top = (from: Map<string, number>, n: number) => [...from].sort((a, b) => b[1] - a[1]).slice(0, n);
console.log(`${variant} ${scenario}: µs per request under the profiler (${requests} requests)`);
for (const [part, time] of top(parts, 18)) console.log(`${(time / requests).toFixed(2).padStart(8)}  ${part}`);
console.log('sessionkit and framework functions:');
for (const [name, time] of top(functions, 15)) console.log(`${(time / requests).toFixed(2).padStart(8)}  ${name}`);
