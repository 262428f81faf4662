// What a bench server's young-generation collections keep, per request:
//   node --import tsx bench/gc-survival.ts <variant> [ro|rw] [seconds]
// The server runs the build (npm run build first) with V8's --trace-gc-nvp; after a warm-up of two
// seconds, the scavenges of one loaded run are summed and divided by the requests answered. Bytes
// that survive a scavenge are copied, and copied again or promoted to the old generation at the
// next, where only a full collection frees them: a request path that keeps its objects reachable a
// little longer than the request (a cycle through a WeakMap, which a scavenge keeps whole) shows
// up here long before it shows in a profile.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createSessions, load } from './http.ts';

const [variant = 'express-sk-memory', scenario = 'ro', secondsArg] = process.argv.slice(2);
const duration = Number(secondsArg ?? 3);
const app = fileURLToPath(new URL('./servers/app.ts', import.meta.url));
const child = spawn(process.execPath, ['--trace-gc-nvp', '--import', 'tsx', app, variant], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const lines: string[] = [];
let recording = false;
const port = await new Promise<number>((resolve) => {
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('{"port"')) resolve((JSON.parse(line) as { port: number }).port);
    else if (recording) lines.push(line);
  });
});
const cookies = await createSessions(port, 50);
await load(port, `/${scenario}`, cookies, 50, { duration: 2 });
recording = true;
const result = await load(port, `/${scenario}`, cookies, 50, { duration });
recording = false;
child.kill('SIGTERM');
await new Promise((resolve) => child.once('exit', resolve));

const field = (line: string, name: string) => Number(new RegExp(`\\b${name}=(\\d+)`).exec(line)?.[1] ?? 0);
const requests = result.ok + result.non2xx;
let scavenges = 0;
let fullGcs = 0;
let allocated = 0;
let survived = 0;
let promoted = 0;
for (const line of lines) {
  const kind = /\bgc=(\w+)/.exec(line)?.[1];
  if (kind === undefined) continue;
  if (kind !== 's') {
    fullGcs++;
    continue;
  }
  scavenges++;
  allocated += field(line, 'allocated');
  survived += field(line, 'new_space_survived');
  promoted += field(line, 'promoted');
}
const perRequest = (bytes: number) => `${Math.round(bytes / requests)} B`;
console.log(
  `${variant} ${scenario}: ${requests} requests, ${scavenges} scavenges and ${fullGcs} full collections; a request allocates about ${perRequest(allocated)}, ` +
    `${perRequest(survived)} survive a scavenge, ${perRequest(promoted)} reach the old generation`,
);
