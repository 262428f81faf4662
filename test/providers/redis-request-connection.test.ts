import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { RequestConnection, type RequestConnectionOptions } from '../../providers/redis/request-connection.ts';
import { ReplyError } from '../../providers/redis/resp.ts';
import { FakeRedis } from '../support/fake-redis.ts';

/** standard answers the handshake and GET like a server holding `k` = `v`; every other command gets :1. */
function standard(args: string[]): string {
  if (args[0] === 'PING') return '+PONG\r\n';
  if (args[0] === 'AUTH' || args[0] === 'SELECT') return '+OK\r\n';
  if (args[0] === 'GET') return args[1] === 'k' ? '$1\r\nv\r\n' : '$-1\r\n';
  return ':1\r\n';
}

/** DEFAULTS are the options every test connects with, but the port; a resend answers as another connection would. */
const DEFAULTS: Omit<RequestConnectionOptions, 'port'> = {
  host: '127.0.0.1',
  db: 0,
  connectTimeoutMs: 1000,
  commandTimeoutMs: 1000,
  retryDelay: () => 20,
  resend: async (args) => `resent ${args.join(' ')}`,
};

describe('redis request connection (scripted server)', function () {
  let fake: FakeRedis;
  let connection: RequestConnection | undefined;

  /** open connects to the fake server and waits for the first attempt to end. */
  async function open(options: Partial<RequestConnectionOptions> = {}): Promise<RequestConnection> {
    const port = await fake.listen();
    connection = new RequestConnection({ ...DEFAULTS, port, ...options });
    await connection.opened;
    return connection;
  }

  beforeEach(function () {
    fake = new FakeRedis();
    fake.answer = standard;
  });
  afterEach(async function () {
    await connection?.close();
    connection = undefined;
    await fake.close();
  });

  it('sends AUTH, SELECT and PING before anything else, and is ready only once all three are answered', async function () {
    let answerPing!: () => void;
    fake.answer = (args) => {
      if (args[0] !== 'PING') return standard(args);
      answerPing = () => fake.sockets[0]!.write('+PONG\r\n');
      return undefined;
    };
    const port = await fake.listen();
    connection = new RequestConnection({ ...DEFAULTS, port, username: 'app', password: 'pw', db: 3 });
    while (fake.received.length < 3) await sleep(5);
    assert.deepEqual(fake.received, [['AUTH', 'app', 'pw'], ['SELECT', '3'], ['PING']]);
    assert.equal(connection.ready, false, 'not ready before the PING is answered');
    answerPing();
    await connection.opened;
    assert.equal(connection.ready, true);
  });

  it('without a password or a db it sends only PING', async function () {
    await open();
    assert.deepEqual(fake.received, [['PING']]);
  });

  it('answers calls in the order sent, an error reply as a rejected ReplyError, and writes one turn in one piece', async function () {
    const conn = await open();
    fake.answer = (args) => (args[0] === 'BAD' ? '-ERR unknown command\r\n' : standard(args));
    const chunksBefore = fake.chunks;
    const calls = [conn.call(['GET', 'k']), conn.call(['GET', 'missing']), conn.call(['BAD']).catch((error: unknown) => error), conn.call(['EVALSHA', 'x', 1, 'k'])];
    const [found, missing, bad, script] = await Promise.all(calls);
    assert.equal(found, 'v');
    assert.equal(missing, null);
    assert.ok(bad instanceof ReplyError && bad.message === 'ERR unknown command');
    assert.equal(script, 1);
    assert.equal(fake.chunks - chunksBefore, 1, 'the four commands arrived in one read');
    assert.deepEqual(fake.received.slice(1).map((args) => args[0]), ['GET', 'GET', 'BAD', 'EVALSHA']);
  });

  it('writes a busy turn in slices of 24 commands, the rest in its check phase, answered in order', async function () {
    const conn = await open();
    // Each write of the connection's socket, by the number of commands it carries.
    const socket = (conn as unknown as { socket: Socket }).socket;
    const writes: number[] = [];
    const write = socket.write.bind(socket) as (data: string) => boolean;
    socket.write = ((data: string) => {
      writes.push(data.match(/\*2\r\n\$3\r\nGET\r\n/g)?.length ?? 0);
      return write(data);
    }) as Socket['write'];
    const keys = Array.from({ length: 50 }, (_, i) => (i % 3 === 0 ? 'k' : `missing-${i}`));
    const replies = await Promise.all(keys.map((key) => conn.call(['GET', key])));
    assert.deepEqual(writes, [24, 24, 2]);
    assert.deepEqual(replies, keys.map((key) => (key === 'k' ? 'v' : null)));
    assert.deepEqual(fake.received.slice(1).map((args) => args[1]), keys, 'the commands arrived in the order issued');
    writes.length = 0;
    await Promise.all(keys.slice(0, 24).map((key) => conn.call(['GET', key])));
    await Promise.all(keys.slice(0, 3).map((key) => conn.call(['GET', key])));
    assert.deepEqual(writes, [24, 3], 'a slice of exactly 24 leaves nothing for the check phase; a quiet turn is one write');
  });

  it('a call unanswered past its timeout fails; its late reply is dropped and the next call gets its own', async function () {
    const conn = await open({ commandTimeoutMs: 100 });
    const held: string[] = [];
    fake.answer = (args) => {
      if (args[1] === 'slow') {
        held.push('$4\r\nlate\r\n');
        return undefined;
      }
      return standard(args);
    };
    const started = Date.now();
    await assert.rejects(conn.call(['GET', 'slow']), /^Error: Command timed out$/);
    const waited = Date.now() - started;
    assert.ok(waited >= 95 && waited < 1000, `failed after ${waited} ms`);
    fake.sockets[0]!.write(held.join(''));
    assert.equal(await conn.call(['GET', 'k']), 'v');
    assert.equal(conn.ready, true, 'a timeout keeps the connection');
  });

  it('calls in flight when the connection drops fail; it reconnects by itself, handshake first', async function () {
    const conn = await open({ password: 'pw' });
    fake.answer = (args) => (args[0] === 'GET' ? undefined : standard(args));
    const inFlight = conn.call(['GET', 'k']);
    while (fake.received.length < 3) await sleep(5);
    fake.drop();
    await assert.rejects(inFlight, /^Error: Connection is closed\.$/);
    assert.equal(conn.ready, false);
    fake.answer = standard;
    while (!conn.ready) await sleep(5);
    assert.deepEqual(fake.received.slice(3), [['AUTH', 'pw'], ['PING']]);
    assert.equal(await conn.call(['GET', 'k']), 'v');
  });

  it('a read resolves through resend when the connection drops before its reply; a write fails', async function () {
    const conn = await open();
    fake.answer = (args) => (args[0] === 'PING' ? standard(args) : undefined);
    const read = conn.call(['GET', 'k'], true);
    const write = conn.call(['SET', 'k', 'v']);
    while (fake.received.length < 3) await sleep(5);
    fake.drop();
    assert.equal(await read, 'resent GET k');
    await assert.rejects(write, /^Error: Connection is closed\.$/);
  });

  it('a refused handshake (a wrong password) leaves it not ready, trying again after the retry delay', async function () {
    fake.answer = (args) => (args[0] === 'AUTH' ? '-WRONGPASS invalid username-password pair\r\n' : standard(args));
    const conn = await open({ password: 'wrong' });
    assert.equal(conn.ready, false);
    while (fake.received.filter((args) => args[0] === 'AUTH').length < 3) await sleep(5);
    assert.equal(conn.ready, false);
    fake.answer = standard;
    while (!conn.ready) await sleep(5);
  });

  it('a server that accepts but never answers the handshake fails the attempt at the connect timeout', async function () {
    fake.answer = () => undefined;
    const started = Date.now();
    const conn = await open({ connectTimeoutMs: 150 });
    assert.equal(conn.ready, false);
    assert.ok(Date.now() - started < 1000);
  });

  it('bytes that are not RESP drop the connection and fail the calls in flight', async function () {
    const conn = await open();
    fake.answer = (args) => (args[0] === 'GET' ? '?garbage\r\n' : standard(args));
    await assert.rejects(conn.call(['GET', 'k']), /Connection is closed/);
    fake.answer = standard;
    while (!conn.ready) await sleep(5);
  });

  it('close lets the calls in flight finish, then closes for good', async function () {
    const conn = await open({ retryDelay: () => 5 });
    fake.answer = (args) => {
      if (args[0] !== 'GET') return standard(args);
      setTimeout(() => fake.sockets[0]?.write('$1\r\nv\r\n'), 50);
      return undefined;
    };
    const inFlight = conn.call(['GET', 'k']);
    await new Promise((resolve) => setImmediate(resolve));
    await conn.close();
    assert.equal(await inFlight, 'v');
    assert.equal(conn.ready, false);
    const connections = fake.sockets.length;
    await sleep(50);
    assert.equal(fake.sockets.length, connections, 'no reconnect after close');
  });
});
