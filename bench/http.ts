// Child servers, session creation and autocannon runs over loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
// autocannon ships no types; the part used here is declared in bench/autocannon.d.ts.
import autocannon from 'autocannon';

const APP = fileURLToPath(new URL('./servers/app.ts', import.meta.url));

/** Server is one running benchmark child. */
export interface Server {
  variant: string;
  port: number;
  child: ChildProcess;
}

/**
 * startServer runs bench/servers/app.ts for `variant` in a child and resolves with its port.
 * Every child runs without V8's memory reducer, which shrinks the heap of a process left idle for
 * a few seconds (as each server is while the other pairs run) and made its next seconds of load
 * cost 16–38 % more CPU a request; without it, 4–15 % (bench/README.md, "Idle servers").
 * `env` adds to the child's environment (the probes pass NODE_OPTIONS that way). A variant written
 * `<checkout>:<variant>` runs the app of another checkout, over that checkout's build, to compare
 * two builds side by side (bench/ab.ts).
 */
export function startServer(variant: string, redisPort: number, env: Record<string, string> = {}): Promise<Server> {
  const split = variant.lastIndexOf(':');
  const app = split < 0 ? APP : join(variant.slice(0, split), 'bench', 'servers', 'app.ts');
  const child = spawn(process.execPath, ['--no-memory-reducer', '--import', 'tsx', app, variant.slice(split + 1), String(redisPort)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${variant}: no port after 20s`)), 20_000);
    child.once('exit', (code) => reject(new Error(`${variant}: exited with ${code} before listening`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve({ variant, port: (JSON.parse(line) as { port: number }).port, child });
    });
  });
}

/**
 * variantsAndScenario reads a probe's arguments `<variant>... [ro|rw]`: the variants (`fallback`
 * when none is given) and the scenario (`ro` when none is given).
 */
export function variantsAndScenario(args: string[], fallback: string[]): { variants: string[]; scenario: 'ro' | 'rw' } {
  const rest = [...args];
  const scenario = rest.at(-1) === 'ro' || rest.at(-1) === 'rw' ? (rest.pop() as 'ro' | 'rw') : 'ro';
  return { variants: rest.length > 0 ? rest : fallback, scenario };
}

/** stopServer ends one child by its pid and waits for it. */
export async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
}

/** Usage is what a server child reports of itself: CPU time (user + system, µs) and its event loop's idle time (ms), both so far. */
export interface Usage {
  cpu: number;
  /** idleMs is undefined for an app that does not report it (another checkout's, older). */
  idleMs: number | undefined;
}

/** usage asks a server child for its {@link Usage}. */
export function usage(server: Server): Promise<Usage> {
  return new Promise((resolve, reject) => {
    const reply = (report: NodeJS.CpuUsage & { idleMs?: number }) => {
      clearTimeout(timer);
      resolve({ cpu: report.user + report.system, idleMs: report.idleMs });
    };
    const timer = setTimeout(() => {
      server.child.off('message', reply);
      reject(new Error(`${server.variant}: no cpu reply after 5s`));
    }, 5000);
    server.child.once('message', reply);
    server.child.send('cpu');
  });
}

/** cpuMicros asks a server child for the CPU time (user + system, µs) its process has used so far. */
export async function cpuMicros(server: Server): Promise<number> {
  return (await usage(server)).cpu;
}

async function get(port: number, path: string, cookie?: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}${path}`, { headers: cookie ? { cookie } : {} });
}

/** createSessions makes `n` sessions through GET /init and returns their `name=value` cookies. */
export async function createSessions(port: number, n: number): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await get(port, '/init');
    await res.text();
    const setCookie = res.headers.getSetCookie()[0];
    if (!res.ok || !setCookie) throw new Error(`/init on ${port} gave ${res.status} without a cookie`);
    cookies.push(setCookie.split(';')[0]!);
  }
  return cookies;
}

/** request sends one GET with a cookie and returns the body text. */
export async function request(port: number, path: string, cookie: string): Promise<string> {
  const res = await get(port, path, cookie);
  const body = await res.text();
  if (!res.ok) throw new Error(`${path} on ${port} gave ${res.status}: ${body}`);
  return body;
}

/** counterSum reads `count` from every distinct session and adds them up. */
export async function counterSum(port: number, cookies: string[]): Promise<number> {
  let sum = 0;
  for (const cookie of new Set(cookies)) sum += Number(await request(port, '/count', cookie));
  return sum;
}

/** LoadResult is what one autocannon run measured. */
export interface LoadResult {
  rps: number;
  /** seconds is how long the run lasted. */
  seconds: number;
  ok: number;
  errors: number;
  non2xx: number;
}

/**
 * load runs autocannon against `path` with `connections` connections; connection i sends
 * cookie `cookies[i % cookies.length]` on every request (set through `setupClient`); it runs for
 * `duration` seconds or until `amount` requests are answered.
 */
export async function load(port: number, path: string, cookies: string[], connections: number, limit: { duration: number } | { amount: number }): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    connections,
    ...limit,
    setupClient(client) {
      client.setHeaders({ cookie: cookies[next++ % cookies.length]! });
    },
  });
  return {
    rps: result.requests.average,
    seconds: result.duration,
    ok: result['2xx'],
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/** Side is what one side of a comparison measured over its turns: requests/s and server CPU a request. */
export interface Side {
  rps: number;
  cpu: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** warmOk counts the 2xx answers of the turn that warmed the side up, not measured (a counter check adds them). */
  warmOk: number;
  /**
   * idle is the share of its turns' time the server's event loop waited with nothing to run: a
   * server that waits on its store or its clients answers fewer requests than its CPU a request
   * allows. NaN for an app that does not report it.
   */
  idle: number;
}

/**
 * turnOrder is the order in which the two variants of a pair (0 and 1, `first` opening) take
 * `turns` turns each: A B B A, repeated, so that the machine drifting faster or slower over the
 * pair's run falls on both sides alike, where two runs back to back (`turns` = 1) put the whole
 * drift between them.
 */
export function turnOrder(turns: number, first: 0 | 1): (0 | 1)[] {
  const second = first === 0 ? 1 : 0;
  const pattern = [first, second, second, first] as const;
  return Array.from({ length: 2 * turns }, (_, i) => pattern[i % 4]!);
}

/** Turn is one side of a comparison in turns: a server, the path it is loaded on, and the cookies of its connections. */
export interface Turn {
  server: Server;
  path: string;
  cookies: string[];
}

/**
 * loadInTurns runs the two sides of a comparison for `seconds` each, in turns of `turnSeconds`
 * (whole seconds: autocannon runs whole seconds) in {@link turnOrder}, one connection a cookie,
 * and sums each side's turns. The sides may be two servers on one path or one server on two
 * paths. On this 2-core machine the speed moves by 10–30 % within seconds; two servers of the
 * same variant (Express on Redis, `rw`, 8 rounds of 5 s a side) gave the rounds' ratios a standard
 * deviation of 0.09–0.18 back to back and 0.05–0.06 in one-second turns (bench/README.md, "Turns").
 */
export async function loadInTurns(sides: readonly [Turn, Turn], seconds: number, first: 0 | 1, turnSeconds = 1): Promise<[Side, Side]> {
  // A server left idle runs its first seconds of load slower, so each side first gets a turn
  // that is not counted (bench/README.md, "Idle servers").
  const warmOk = [0, 0];
  for (const i of turnOrder(1, first)) warmOk[i] = (await load(sides[i].server.port, sides[i].path, sides[i].cookies, sides[i].cookies.length, { duration: 1 })).ok;
  const sums = sides.map(() => ({ requests: 0, seconds: 0, cpu: 0, ok: 0, non2xx: 0, errors: 0, idleMs: 0, wallMs: 0 }));
  for (const i of turnOrder(Math.max(1, Math.round(seconds / turnSeconds)), first)) {
    const { server, path, cookies } = sides[i];
    const before = await usage(server);
    const start = performance.now();
    const result = await load(server.port, path, cookies, cookies.length, { duration: turnSeconds });
    const after = await usage(server);
    const sum = sums[i]!;
    sum.wallMs += performance.now() - start;
    sum.idleMs += after.idleMs === undefined || before.idleMs === undefined ? NaN : after.idleMs - before.idleMs;
    sum.cpu += after.cpu - before.cpu;
    sum.requests += result.ok + result.non2xx;
    sum.seconds += result.seconds;
    sum.ok += result.ok;
    sum.non2xx += result.non2xx;
    sum.errors += result.errors;
  }
  const side = ({ requests, seconds: s, cpu, ok, non2xx, errors, idleMs, wallMs }: (typeof sums)[number], i: number): Side => ({ rps: requests / s, cpu: cpu / requests, ok, non2xx, errors, warmOk: warmOk[i]!, idle: idleMs / wallMs });
  return [side(sums[0]!, 0), side(sums[1]!, 1)];
}
