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
 * requireServer gates an integration suite on a server: in CI an unreachable server fails the
 * suite; elsewhere the suite is reported pending with the reason. Call it from a `before` hook.
 */
export async function requireServer(ctx: Mocha.Context, label: string, host: string, port: number): Promise<void> {
  if (await reachable(host, port)) return;
  const reason = `${label} is not reachable at ${host}:${port}`;
  if (inCI) throw new Error(`${reason}, and CI expects it (see .ci/run)`);
  console.log(`      (pending: ${reason})`);
  ctx.skip();
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
 * CI machine has): unset, the suite is pending with the reason and an example; set, it runs and an
 * unreachable server fails it. Returns the variable's value.
 */
export function requireEnvServer(ctx: Mocha.Context, variable: string, example: string): string {
  const value = process.env[variable];
  if (!value) {
    console.log(`      (pending: ${variable} is not set, e.g. ${example})`);
    ctx.skip();
  }
  return value;
}
