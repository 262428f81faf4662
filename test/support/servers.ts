import { spawnSync } from 'node:child_process';
import { createConnection } from 'node:net';

/** inCI tells whether the suite runs under CI, where every integration server is expected. */
export const inCI = process.env.CI === 'true' || process.env.CI === '1';

/** reachable resolves true when a TCP connection to host:port opens within `timeoutMs`. */
export function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * SkipReason says why a suite or test did not run and, where something can be done, the command
 * that makes it run. The summary reporter (test/support/summary-reporter.cjs) groups skipped tests
 * by it: it reads the `skipReason` property of the skipped test or of a suite above it.
 */
export interface SkipReason {
  reason: string;
  enable?: string;
}

/**
 * skipBecause skips the running test — or, called from a `before` hook, every test of the hook's
 * suite — and records `why` where the summary reporter finds it.
 */
export function skipBecause(ctx: Mocha.Context, why: SkipReason): never {
  const runnable = ctx.test;
  const target = (runnable as { type?: string } | undefined)?.type === 'hook' ? runnable?.parent : runnable;
  if (target) Object.assign(target, { skipReason: why });
  ctx.skip();
}

/** START tells, per port, how to get the server a suite needs running on this machine. */
const START: Readonly<Record<number, string>> = {
  5432: 'start PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth, database test)',
  3306: 'start MariaDB or MySQL on 127.0.0.1:3306 (user root, empty password, database test)',
  6379: 'start redis-server on 127.0.0.1:6379',
  7000: 'bash .ci/redis-cluster.sh',
  26379: 'bash .ci/redis-sentinel.sh',
  11211: 'bash .ci/memcached.sh',
};

/**
 * requireServer gates an integration suite on a server: in CI an unreachable server fails the
 * suite; elsewhere the suite is skipped with the reason and the command that starts the server.
 * Call it from a `before` hook.
 */
export async function requireServer(ctx: Mocha.Context, label: string, host: string, port: number): Promise<void> {
  if (await reachable(host, port)) return;
  const reason = `${label.replace(/ \(.*\)$/, '')} is not reachable at ${host}:${port}`;
  if (inCI) throw new Error(`${reason}, and CI expects it (see .ci/run)`);
  skipBecause(ctx, { reason, enable: START[port] ?? `start it on ${host}:${port}` });
}

/**
 * requireCommands gates a suite on programs it runs itself (such as redis-server): in CI a missing
 * one fails the suite; elsewhere the suite is reported pending with the reason. Each is run with
 * `--version`. Call it from a `before` hook.
 */
export function requireCommands(ctx: Mocha.Context, ...commands: string[]): void {
  const missing = commands.filter((command) => spawnSync(command, ['--version'], { stdio: 'ignore' }).status !== 0);
  if (missing.length === 0) return;
  const reason = `${missing.join(' and ')} not found on PATH`;
  if (inCI) throw new Error(`${reason}, and CI expects it (apt-get install redis-server)`);
  console.log(`      (pending: ${reason})`);
  ctx.skip();
}

/**
 * requireEnvServer gates a suite on a server named by an environment variable (for backends no
 * CI machine has): unset, the suite is skipped with the reason and an example; set, it runs and an
 * unreachable server fails it. Returns the variable's value.
 */
export function requireEnvServer(ctx: Mocha.Context, variable: string, example: string): string {
  const value = process.env[variable];
  if (!value) skipBecause(ctx, { reason: `${variable} is not set`, enable: `${variable}=${example} npm test` });
  return value;
}
