// System calls a bench server makes per request, by call: `perf stat` counts the syscall
// tracepoints of the server's process while it is loaded, and the count is divided by the requests
// answered meanwhile. Shows how many socket writes and reads a request costs, for example whether
// the commands of concurrent requests share writes to Redis (bench/README.md, "The Redis path").
//   node --import tsx bench/syscalls.ts <variant> [ro|rw] [seconds]
// 50 connections, 3 s of warm-up, then `seconds` (default 4) counted. Needs `perf` on the PATH and
// the build (npm run build first).
import { spawn } from 'node:child_process';
import { createSessions, load, startServer, stopServer, variantsAndScenario } from './http.ts';

const args = process.argv.slice(2);
const seconds = /^\d+$/.test(args.at(-1) ?? '') ? Number(args.pop()) : 4;
const { variants, scenario } = variantsAndScenario(args, ['express-sk-redis']);
const CALLS = ['write', 'writev', 'read', 'epoll_pwait', 'epoll_wait'];

for (const variant of variants) {
  const server = await startServer(variant, 6379);
  try {
    const cookies = await createSessions(server.port, 50);
    await load(server.port, `/${scenario}`, cookies, 50, { duration: 3 });
    const events = CALLS.map((name) => `syscalls:sys_enter_${name}`).join(',');
    const perf = spawn('perf', ['stat', '-x', ',', '-e', events, '-p', String(server.child.pid), '--', 'sleep', String(seconds)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let report = '';
    perf.stderr!.on('data', (chunk: Buffer) => (report += chunk.toString()));
    const counted = new Promise((resolve) => perf.once('exit', resolve));
    const result = await load(server.port, `/${scenario}`, cookies, 50, { duration: seconds + 1 });
    await counted;
    // The requests answered while perf counted: the run's rate over the counted seconds.
    const requests = result.rps * seconds;
    const perRequest = report
      .trim()
      .split('\n')
      .map((line) => line.split(','))
      .filter((fields) => fields[2]?.startsWith('syscalls:'))
      .map((fields) => `${fields[2]!.replace('syscalls:sys_enter_', '')} ${(Number(fields[0]) / requests).toFixed(2)}`);
    console.log(`${variant} ${scenario}: ${Math.round(result.rps)} req/s; system calls a request: ${perRequest.join(', ')}`);
  } finally {
    await stopServer(server);
  }
}
