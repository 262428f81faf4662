// Two variants side by side on a noisy machine: both servers stay up, and each round runs them in
// turns of a second (A B B A …, bench/http.ts `loadInTurns`; the first of the pair alternates), so
// each round's ratio compares the two over the same stretch of time. Prints every round, and the
// median and standard deviation of the rounds' ratios, and how much of its turns each server's
// event loop sat idle (waiting on its store or its clients with nothing to run).
//   node --import tsx bench/ab.ts <variant A> <variant B> [ro|rw] [rounds] [seconds a side] [turn seconds]
//   node --import tsx bench/ab.ts <variant> rw ro [rounds] [seconds a side] [turn seconds]
// The second form runs one server's two routes in turns, A the first route and B the second, as a
// full run judges a read against a write.
// A ratio above 1 means B costs less server CPU a request (A ÷ B) or answers more requests (B ÷ A).
// A turn as long as the side (`… 8 5 5`) runs the two back to back; the same variant as A and B
// shows how far one round's ratio moves by the machine alone.
import type { Server, Turn } from './http.ts';
import { createSessions, load, loadInTurns, startServer, stopServer, variantsAndScenario } from './http.ts';
import { median } from './report.ts';

const args = process.argv.slice(2);
const numbers = args.filter((arg) => /^[\d.]+$/.test(arg)).map(Number);
const words = args.filter((arg) => !/^[\d.]+$/.test(arg));
const [rounds = 10, seconds = 2, turnSeconds = 1] = numbers;
const routes = words.length === 3 && words.slice(1).every((w) => w === 'ro' || w === 'rw');
const { variants, scenario } = routes ? { variants: [words[0]!], scenario: undefined } : variantsAndScenario(words, []);
if (!routes && variants.length !== 2) throw new Error('usage: ab.ts <variant A> <variant B> [ro|rw] [rounds] [seconds a side] [turn seconds], or ab.ts <variant> rw ro […]');
/** sides names A and B as printed, and the route each runs. */
const sides = routes ? words.slice(1).map((route) => ({ name: `${variants[0]} ${route}`, variant: 0, path: `/${route}` })) : variants.map((name, variant) => ({ name, variant, path: `/${scenario}` }));

function summary(values: number[]): string {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, values.length - 1));
  return `${median(values).toFixed(3)} (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}, sd ${sd.toFixed(3)})`;
}

/** percent writes a share of the time as a percentage ("?" for an app that does not report it). */
function percent(share: number): string {
  return Number.isNaN(share) ? '?' : `${(share * 100).toFixed(1)} %`;
}

const servers: Server[] = [];
try {
  for (const variant of variants) servers.push(await startServer(variant, 6379));
  // Each side has sessions of its own, warmed on its route.
  const cookies = await Promise.all(sides.map((side) => createSessions(servers[side.variant]!.port, 50)));
  for (const [i, side] of sides.entries()) await load(servers[side.variant]!.port, side.path, cookies[i]!, 50, { duration: 2 });
  const cpuRatios: number[] = [];
  const rpsRatios: number[] = [];
  const idle: [number[], number[]] = [[], []];
  for (let round = 0; round < rounds; round++) {
    const turns = sides.map((side, i) => ({ server: servers[side.variant]!, path: side.path, cookies: cookies[i]! })) as [Turn, Turn];
    const [a, b] = await loadInTurns(turns, seconds, round % 2 === 0 ? 0 : 1, turnSeconds);
    cpuRatios.push(a.cpu / b.cpu);
    rpsRatios.push(b.rps / a.rps);
    idle[0].push(a.idle);
    idle[1].push(b.idle);
    console.log(`round ${round + 1}: ${sides[0]!.name} ${a.cpu.toFixed(1)} µs ${Math.round(a.rps)} req/s ${percent(a.idle)} idle · ${sides[1]!.name} ${b.cpu.toFixed(1)} µs ${Math.round(b.rps)} req/s ${percent(b.idle)} idle`);
  }
  const [a, b] = sides.map((side) => side.name);
  console.log(`${scenario ? `${scenario}: ` : ''}CPU ${a} ÷ ${b} ${summary(cpuRatios)}; req/s ${b} ÷ ${a} ${summary(rpsRatios)}`);
  console.log(`event loop idle, median of the rounds: ${a} ${percent(median(idle[0]))}, ${b} ${percent(median(idle[1]))}`);
} finally {
  for (const server of servers) await stopServer(server);
}
