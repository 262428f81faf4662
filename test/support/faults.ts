import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateId, type Store } from 'sessionkit';
import { reachable } from './servers.ts';

/** TestError is what provider tests inspect: a message and, for a SessionError, a code. */
export type TestError = Error & { code?: string };

/** errorOf runs `fn` and returns what it threw; a call that does not throw fails the test. */
export function errorOf(fn: () => unknown, what = 'the call'): TestError {
  try {
    fn();
  } catch (err) {
    return err as TestError;
  }
  assert.fail(`${what} did not throw`);
}

/** rejectsWithin awaits `call`, which must reject within `ms`, and returns the error. */
export async function rejectsWithin(call: () => Promise<unknown>, ms: number): Promise<TestError> {
  const started = Date.now();
  try {
    await call();
  } catch (err) {
    const elapsed = Date.now() - started;
    assert.ok(elapsed < ms, `rejected after ${elapsed} ms, expected under ${ms} ms`);
    return err as TestError;
  }
  assert.fail('the call resolved');
}

/**
 * configRefusal returns a checker for `provider`'s `parse`: the config it is given must be refused
 * with `ERR_SESSION_PROVIDER_CONFIG`, a message starting `session/<provider>: ` and matching
 * `matches` when given, and none of `hidden` (passwords) in the message. It returns the error.
 */
export function configRefusal(provider: string, parse: (config: string) => unknown, hidden: string[] = []) {
  return (config: string, matches?: RegExp): TestError => {
    const err = errorOf(() => parse(config), `${provider} parseConfig(${JSON.stringify(config)})`);
    assert.equal(err.code, 'ERR_SESSION_PROVIDER_CONFIG', err.message);
    assert.ok(err.message.startsWith(`session/${provider}: `), err.message);
    if (matches) assert.match(err.message, matches);
    for (const secret of hidden) assert.ok(!err.message.includes(secret), `the message shows ${JSON.stringify(secret)}: ${err.message}`);
    return err;
  };
}

/** freePort asks the kernel for a loopback port nobody listens on. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Outage is a backend a test can take down and bring back: a {@link Proxy} or a {@link RedisServer}. */
export interface Outage {
  /** stop makes the backend unreachable. */
  stop(): Promise<void>;
  /** start brings it back on the same port. */
  start(): Promise<void>;
}

/** Proxy is a loopback TCP forwarder whose outage a test controls. */
export interface Proxy extends Outage {
  readonly port: number;
  /** start listens again on the same port, forwarding again if it was muted: the network is back. */
  start(): Promise<void>;
  /** stop drops every connection and stops listening: the backend looks down. */
  stop(): Promise<void>;
  /**
   * mute keeps every connection open but forwards nothing more either way, and new connections
   * are accepted and never dialled through: the backend looks hung, not down.
   */
  mute(): void;
}

/**
 * startProxy forwards a loopback port to 127.0.0.1:`target`, so a test can cut, hang and restore a
 * shared server. A proxy muted before its first connection never dials `target`: a black hole.
 */
export async function startProxy(target: number): Promise<Proxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let muted = false;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  };
  const forward = (from: Socket, to: Socket) => from.on('data', (chunk) => muted || to.write(chunk));
  const proxy: Proxy = {
    get port() {
      return port;
    },
    async start() {
      muted = false;
      server = createServer((client) => {
        track(client);
        if (muted) return;
        const upstream = connect(target, '127.0.0.1');
        track(upstream);
        for (const socket of [client, upstream]) {
          socket.on('close', () => {
            client.destroy();
            upstream.destroy();
          });
        }
        forward(client, upstream);
        forward(upstream, client);
      });
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server?.close(resolve));
    },
    mute() {
      muted = true;
    },
  };
  await proxy.start();
  return proxy;
}

/** RedisServer is a private redis-server child process on a loopback port, killed and restarted by its pid. */
export interface RedisServer extends Outage {
  readonly port: number;
  /** pid is the running server's process id, undefined while it is down. */
  readonly pid: number | undefined;
  /** start spawns redis-server and waits (5 s at most) until it accepts connections. */
  start(): Promise<void>;
  /** stop sends SIGKILL to the pid it started: no shutdown, no final save, as in a crash. */
  stop(): Promise<void>;
}

/**
 * redisServer prepares a redis-server on 127.0.0.1:`port` run with `args` after the port, bind
 * and foreground options (persistence, TLS, a directory, `--sentinel`); `configFile`, when given,
 * is read first (a sentinel needs one it can rewrite). Nothing runs until `start()`.
 */
export function redisServer(port: number, args: string[] = [], configFile?: string): RedisServer {
  let child: ChildProcess | undefined;
  const server: RedisServer = {
    port,
    get pid() {
      return child?.pid;
    },
    async start() {
      const started = spawn('redis-server', [...(configFile === undefined ? [] : [configFile]), '--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'no', ...args], { stdio: 'ignore' });
      started.on('error', () => undefined);
      child = started;
      const deadline = Date.now() + 5000;
      while (!(await reachable('127.0.0.1', port, 200))) {
        if (Date.now() > deadline || started.exitCode !== null) {
          await server.stop();
          throw new Error(`redis-server did not start on ${port}`);
        }
        await sleep(50);
      }
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = once(running, 'exit');
      running.kill('SIGKILL');
      await exited;
    },
  };
  return server;
}

/** OutageCheck says what {@link expectOutageRecovery} expects of one provider. */
export interface OutageCheck {
  /** store reaches the backend through the outage. */
  store: Store;
  /** witness reads the write made after recovery by another way; default `store`. */
  witness?: Store;
  /** failure must match the message of a call made while the backend is down. */
  failure: RegExp;
  /** secret (a password in the config) must not appear in that message. */
  secret?: string;
  /** failWithinMs bounds how long a call takes to fail while the backend is down [3000]. */
  failWithinMs?: number;
  /** recoverWithinMs bounds how long calls may keep failing once it is back [10000]. */
  recoverWithinMs?: number;
}

/**
 * expectOutageRecovery runs the outage flow the networked providers share: a record written
 * before the backend goes down; while it is down, get and set reject quickly with
 * `ERR_SESSION_STORE` and a message matching `failure` without the secret; once it is back, calls
 * succeed again within a bounded time without reopening the store, the record written before is
 * still there, and a new write is visible to the witness.
 */
export async function expectOutageRecovery(outage: Outage, check: OutageCheck): Promise<void> {
  const { store, witness = store, failure, secret, failWithinMs = 3000, recoverWithinMs = 10_000 } = check;
  const sid = generateId();
  const expiresAt = () => Date.now() + 3_600_000;
  await store.set(sid, 'before', expiresAt());
  await outage.stop();
  for (const call of [() => store.get(sid), () => store.set(sid, 'during', expiresAt())]) {
    const err = await rejectsWithin(call, failWithinMs);
    assert.equal(err.code, 'ERR_SESSION_STORE', err.message);
    assert.match(err.message, failure);
    if (secret) assert.ok(!err.message.includes(secret), err.message);
  }
  await outage.start();
  assert.equal(await eventually(() => store.get(sid), recoverWithinMs), 'before');
  await store.set(sid, 'after', expiresAt());
  assert.equal(await witness.get(sid), 'after');
}

/** eventually retries `call` every 100 ms while it rejects with a store error, for at most `ms`. */
export async function eventually<T>(call: () => Promise<T>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if ((err as TestError).code !== 'ERR_SESSION_STORE' || Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}
