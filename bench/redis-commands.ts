// A private redis-server for the benchmark, and counting the commands one request costs.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createSessions, request } from './http.ts';

/** PrivateRedis is a redis-server child that only this benchmark talks to. */
export interface PrivateRedis {
  port: number;
  child: ChildProcess;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** ping tells whether a Redis server on `port` answers PING. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** startRedis runs `redis-server` on a free loopback port without persistence and waits until it answers. */
export async function startRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  const ready = (async () => {
    for (let i = 0; i < 50; i++) {
      if (await ping(port)) return;
      await sleep(100);
    }
    throw new Error('redis-server did not answer within 5s');
  })();
  await Promise.race([ready, failed]);
  return { port, child };
}

/** stopRedis ends the private redis-server by its pid. */
export async function stopRedis(redis: PrivateRedis): Promise<void> {
  if (redis.child.exitCode !== null) return;
  const exited = new Promise((resolve) => redis.child.once('exit', resolve));
  redis.child.kill('SIGTERM');
  await exited;
}

/** CommandCount is the commands per request, in all and by command name. */
export interface CommandCount {
  perRequest: number;
  commands: Record<string, number>;
}

/**
 * commandsPerRequest sends `k` sequential requests to `path` (after creating the sessions and one
 * warm-up request each, so a first EVAL that loads a script is not counted) while a MONITOR
 * connection counts the commands the server sees; a script call (EVALSHA/EVAL) counts as one.
 */
export async function commandsPerRequest(redisPort: number, serverPort: number, path: string, k: number): Promise<CommandCount> {
  const cookies = await createSessions(serverPort, 10);
  for (const cookie of cookies) await request(serverPort, path, cookie);
  const monitorClient = new Redis({ port: redisPort, host: '127.0.0.1' });
  monitorClient.on('error', () => undefined);
  const monitor = await monitorClient.monitor();
  let seen = 0;
  let counting = false;
  const names = new Map<string, number>();
  // Commands a script runs show up in MONITOR with the source "lua"; the script call itself counts once.
  monitor.on('monitor', (_time: string, argv: string[], source: string) => {
    if (!counting || source === 'lua') return;
    seen++;
    const name = String(argv[0]).toUpperCase();
    names.set(name, (names.get(name) ?? 0) + 1);
  });
  await sleep(100);
  counting = true;
  for (let i = 0; i < k; i++) await request(serverPort, path, cookies[i % cookies.length]!);
  await sleep(200);
  counting = false;
  monitor.disconnect();
  monitorClient.disconnect();
  const perRequest = Object.fromEntries([...names].map(([name, n]) => [name, n / k]));
  return { perRequest: seen / k, commands: perRequest };
}
