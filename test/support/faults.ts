import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

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

/** Proxy is a loopback TCP forwarder whose outage a test controls. */
export interface Proxy {
  readonly port: number;
  /** start listens again on the same port. */
  start(): Promise<void>;
  /** stop drops every connection and stops listening: the backend looks down. */
  stop(): Promise<void>;
}

/** startProxy forwards a loopback port to 127.0.0.1:`target`, so a test can cut and restore a shared server. */
export async function startProxy(target: number): Promise<Proxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const proxy: Proxy = {
    get port() {
      return port;
    },
    async start() {
      server = createServer((client) => {
        const upstream = connect(target, '127.0.0.1');
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('error', () => undefined);
          socket.on('close', () => {
            sockets.delete(socket);
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server?.close(resolve));
    },
  };
  await proxy.start();
  return proxy;
}
