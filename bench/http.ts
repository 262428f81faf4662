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
 * `env` adds to the child's environment (the probes pass NODE_OPTIONS that way). A variant written
 * `<checkout>:<variant>` runs the app of another checkout, over that checkout's build, to compare
 * two builds side by side (bench/ab.ts).
 */
export function startServer(variant: string, redisPort: number, env: Record<string, string> = {}): Promise<Server> {
  const split = variant.lastIndexOf(':');
  const app = split < 0 ? APP : join(variant.slice(0, split), 'bench', 'servers', 'app.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', app, variant.slice(split + 1), String(redisPort)], {
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

/** cpuMicros asks a server child for the CPU time (user + system, µs) its process has used so far. */
export function cpuMicros(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    const reply = (usage: NodeJS.CpuUsage) => {
      clearTimeout(timer);
      resolve(usage.user + usage.system);
    };
    const timer = setTimeout(() => {
      server.child.off('message', reply);
      reject(new Error(`${server.variant}: no cpu reply after 5s`));
    }, 5000);
    server.child.once('message', reply);
    server.child.send('cpu');
  });
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
    ok: result['2xx'],
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}
