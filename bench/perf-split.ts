// Where a server's CPU time goes, per request, split by what runs it: V8's garbage collector, its
// inline-cache runtime (property lookups that missed), compiled JavaScript, V8's builtins, the
// kernel, and the rest of the runtime. Unlike callgrind's instruction counts this is time, so it
// shows work that runs slowly for its instructions (bench/README.md).
//   node --import tsx bench/perf-split.ts <variant> [<baseline variant>] [ro|rw] [seconds]
// Each variant's server runs under `node --perf-basic-prof` (so `perf` can name JavaScript
// functions) with a `perf record -e cpu-clock` of its own; after 4 s of warm-up each, the servers
// take `seconds` (default 5) of load with 50 connections in turns of a second (bench/http.ts
// `loadInTurns`), so a baseline is measured over the same stretch of time: two profiles taken
// one after the other disagreed by more than the difference they were after. µs a request =
// samples × sample period ÷ requests answered while recorded. With a baseline, prints the split of
// both and the symbols whose time differs most. Needs `perf` on the PATH and the build (npm run build first).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSessions, load, loadInTurns, startServer, stopServer, variantsAndScenario, type Server, type Side, type Turn } from './http.ts';

const args = process.argv.slice(2);
const seconds = /^\d+$/.test(args.at(-1) ?? '') ? Number(args.pop()) : 5;
const { variants, scenario } = variantsAndScenario(args, ['express-sk-memory', 'express-bare']);
const HZ = 2000;

/** PARTS names what runs a symbol, first match wins; anything else is "runtime, other". */
const PARTS: [string, RegExp][] = [
  ['garbage collector', /Scaveng|Heap::|Heap\b|Marking|Marker|Sweep|Evacuat|Ephemeron|RecordWrite|Compactor|MemoryAllocator|BodyDescriptor|RememberedSet|SlotSet|MemoryChunk|FreeList/],
  ['inline-cache runtime', /LookupIterator|IC::|LoadIC|StoreIC|StubCache|ComputeHandler|DescriptorArray|TransitionArray|TransitionsAccessor|Map::|MigrateToMap|PrototypeIterator|FieldIndex|FieldType|FeedbackNexus|FeedbackVector/],
  ['javascript, sessionkit', /^JS:.*\/dist\/(src|providers)\//],
  ['javascript, other', /^JS:/],
  ['builtins', /^Builtins_/],
  ['kernel', /^\[k\]/],
  ['libc', /memmove|memcpy|memset|memcmp|malloc|_int_free|\bfree\b|pthread_/],
];
const OTHER = 'runtime, other';

type Split = { perRequest: Map<string, number>; parts: Map<string, number> };

/** record starts a `perf record` of one server's process into `data`; SIGINT ends it. */
function record(server: Server, data: string): ChildProcess {
  return spawn('perf', ['record', '-e', 'cpu-clock', '-F', String(HZ), '-p', String(server.child.pid), '-o', data], { stdio: 'ignore' });
}

/** split reads a recording into µs a request by symbol and by part. */
function split(data: string, requests: number): Split {
  const report = execFileSync('perf', ['report', '-i', data, '--no-children', '--sort', 'sym', '--stdio', '-n'], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
  const perRequest = new Map<string, number>();
  for (const line of report.split('\n')) {
    const match = /^\s*[\d.]+%\s+(\d+)\s+(\[.\])\s+(.*)$/.exec(line);
    if (!match) continue;
    const name = `${match[2] === '[k]' ? '[k] ' : ''}${match[3]!.trim().replace(/0x[0-9a-f]+/g, 'X')}`;
    perRequest.set(name, (perRequest.get(name) ?? 0) + (Number(match[1]) * 1e6) / HZ / requests);
  }
  const parts = new Map<string, number>();
  for (const [name, us] of perRequest) {
    const part = PARTS.find(([, pattern]) => pattern.test(name))?.[0] ?? OTHER;
    parts.set(part, (parts.get(part) ?? 0) + us);
  }
  return { perRequest, parts };
}

/** answered counts the requests a side answered while recorded: its turns and its warm-up turn. */
function answered(side: Side): number {
  return side.ok + side.non2xx + side.warmOk;
}

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-perf-'));
const servers: Server[] = [];
const splits: Split[] = [];
try {
  for (const variant of variants) servers.push(await startServer(variant, 6379, { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --perf-basic-prof`.trim() }));
  const path = `/${scenario}`;
  const cookies = await Promise.all(servers.map((server) => createSessions(server.port, 50)));
  for (const [i, server] of servers.entries()) await load(server.port, path, cookies[i]!, 50, { duration: 4 });
  const data = servers.map((_, i) => join(dir, `perf-${i}.data`));
  const perfs = servers.map((server, i) => record(server, data[i]!));
  const ended = perfs.map((perf) => new Promise((resolve) => perf.once('exit', resolve)));
  // perf needs a moment to attach before the counted load starts.
  await new Promise((resolve) => setTimeout(resolve, 500));
  let sides: Side[];
  if (servers.length === 2) {
    const turns = servers.map((server, i) => ({ server, path, cookies: cookies[i]! })) as [Turn, Turn];
    sides = await loadInTurns(turns, seconds, 0);
  } else {
    const result = await load(servers[0]!.port, path, cookies[0]!, 50, { duration: seconds });
    sides = [{ rps: result.rps, cpu: 0, ok: result.ok, non2xx: result.non2xx, errors: result.errors, warmOk: 0, idle: NaN }];
  }
  for (const perf of perfs) perf.kill('SIGINT');
  await Promise.all(ended);
  for (const [i, side] of sides.entries()) splits.push(split(data[i]!, answered(side)));
} finally {
  for (const server of servers) await stopServer(server);
  rmSync(dir, { recursive: true, force: true });
  // --perf-basic-prof also has V8 write a log of each isolate of a server into the working directory.
  for (const server of servers) {
    const own = `-${server.child.pid}-v8.log`;
    for (const name of readdirSync('.')) if (name.startsWith('isolate-') && name.endsWith(own)) rmSync(name, { force: true });
  }
}

const names = [...PARTS.map(([name]) => name), OTHER];
const total = (split: Split) => [...split.parts.values()].reduce((a, b) => a + b, 0);
const columns = (values: number[]) => values.map((v) => v.toFixed(2).padStart(8)).join(' ');
console.log(`µs a request (${scenario})${' '.repeat(13)}${variants.map((v) => v.slice(0, 17).padStart(18)).join('')}`);
for (const name of names) console.log(`${name.padEnd(32)}${columns(splits.map((s) => s.parts.get(name) ?? 0))}`);
console.log(`${'all'.padEnd(32)}${columns(splits.map(total))}`);
if (splits.length === 2) {
  const [a, b] = splits as [Split, Split];
  const symbols = [...new Set([...a.perRequest.keys(), ...b.perRequest.keys()])];
  const delta = (name: string) => (a.perRequest.get(name) ?? 0) - (b.perRequest.get(name) ?? 0);
  symbols.sort((x, y) => Math.abs(delta(y)) - Math.abs(delta(x)));
  console.log(`\nsymbols whose time differs most (${variants[0]} − ${variants[1]}, µs a request):`);
  for (const name of symbols.slice(0, 25)) console.log(`${delta(name) >= 0 ? '+' : ''}${delta(name).toFixed(2).padStart(6)}  ${name.slice(0, 110)}`);
}
