// Two variants side by side on a noisy machine: both servers stay up, and each round runs one and
// then the other (the first of the pair alternates), so each round's ratio compares two runs made
// back to back. Prints every round and the median of the rounds' ratios.
//   node --import tsx bench/ab.ts <variant A> <variant B> [ro|rw] [rounds] [seconds]
// A ratio above 1 means B costs less server CPU a request (A ÷ B) or answers more requests (B ÷ A).
import type { Server } from './http.ts';
import { cpuMicros, createSessions, load, startServer, stopServer, variantsAndScenario } from './http.ts';

const args = process.argv.slice(2);
const numbers = args.filter((arg) => /^[\d.]+$/.test(arg)).map(Number);
const { variants, scenario } = variantsAndScenario(args.filter((arg) => !/^[\d.]+$/.test(arg)), []);
const [rounds = 10, seconds = 1.5] = numbers;
if (variants.length !== 2) throw new Error('usage: ab.ts <variant A> <variant B> [ro|rw] [rounds] [seconds]');

type Run = { cpu: number; rps: number };

async function run(server: Server, cookies: string[]): Promise<Run> {
  const before = await cpuMicros(server);
  const result = await load(server.port, `/${scenario}`, cookies, 50, { duration: seconds });
  return { cpu: ((await cpuMicros(server)) - before) / (result.ok + result.non2xx), rps: result.rps };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const servers: Server[] = [];
try {
  for (const variant of variants) servers.push(await startServer(variant, 6379));
  const cookies = await Promise.all(servers.map((server) => createSessions(server.port, 50)));
  for (const [i, server] of servers.entries()) await load(server.port, `/${scenario}`, cookies[i]!, 50, { duration: 2 });
  const cpuRatios: number[] = [];
  const rpsRatios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    const runs: Run[] = [];
    for (const i of order) runs[i] = await run(servers[i]!, cookies[i]!);
    const [a, b] = runs as [Run, Run];
    cpuRatios.push(a.cpu / b.cpu);
    rpsRatios.push(b.rps / a.rps);
    console.log(`round ${round + 1}: ${variants[0]} ${a.cpu.toFixed(1)} µs ${Math.round(a.rps)} req/s · ${variants[1]} ${b.cpu.toFixed(1)} µs ${Math.round(b.rps)} req/s`);
  }
  const spread = (values: number[]) => `${median(values).toFixed(3)} (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`;
  console.log(`${scenario}: CPU ${variants[0]} ÷ ${variants[1]} ${spread(cpuRatios)}; req/s ${variants[1]} ÷ ${variants[0]} ${spread(rpsRatios)}`);
} finally {
  for (const server of servers) await stopServer(server);
}
