import { connect as connectTcp, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as connectTls } from 'node:tls';
import { encodeCommand, ReplyError, ReplyReader, type Reply } from './resp.ts';

/** RequestConnectionOptions say where the connection goes and how long it waits; they follow the ioredis client's. */
export interface RequestConnectionOptions {
  host: string;
  port: number;
  /** tls, when present, connects over TLS with these settings. */
  tls?: { rejectUnauthorized: boolean } | undefined;
  username?: string | undefined;
  /** password, when present, is sent with AUTH before anything else. */
  password?: string | undefined;
  /** db is SELECTed after AUTH unless it is 0. */
  db: number;
  /** connectTimeoutMs bounds a connection attempt, the handshake included. */
  connectTimeoutMs: number;
  /** commandTimeoutMs bounds each call: past it the call fails with "Command timed out". */
  commandTimeoutMs: number;
  /** retryDelay is the wait before reconnect attempt `attempt` (1, 2, …) after the connection is lost. */
  retryDelay(attempt: number): number;
  /** resend sends a read another way when this connection drops before its reply (see {@link RequestConnection.call}). */
  resend(args: readonly (string | number)[]): PromiseLike<Reply>;
}

/** KEEP_ALIVE_MS is the idle time before TCP keep-alive probes start, ioredis's default. */
const KEEP_ALIVE_MS = 30_000;

/**
 * SLICE is how many commands of one turn are written in one piece at most. A turn's commands go
 * out together, one write for many requests; but under load a turn can hold the compare-and-sets
 * of dozens of requests whose responses wait for them, and with all of them written in the turn's
 * check phase the server sat idle until Redis had answered the lot. Written in slices, Redis works
 * on the first while the server still runs the turn. Express on Redis, the build before against
 * this one (bench/ab.ts, 8 rounds of 5 s a side, either build started first): `rw` 1.017 times the
 * requests/s in both orders, the event loop idle 1.3 % of the time against 5.3–5.4 %, server CPU a
 * request 0.6 and 2.3 % higher; `ro` 1.000 and 0.986, idle 1.1 % against 2.4–2.5 %. Every write
 * costs system calls and wake-ups: probes with slices of 4 and 8 served 0.92 and 0.98 times the
 * requests/s on `rw`, one of 16 gave `ro` 0.92 (bench/README.md, "Waiting on Redis").
 */
export const SLICE = 24;

/** Call is one command in flight, answered in the order it was sent. */
interface Call {
  resolve(reply: Reply | PromiseLike<Reply>): void;
  reject(error: Error): void;
  /** deadline is when the call fails if unanswered, on `performance.now()`'s clock. */
  deadline: number;
  /** timedOut is set once the call has failed by its deadline: its reply, when it comes, is dropped. */
  timedOut: boolean;
  /** read holds the arguments of a read, which `resend` may send again; undefined for a write. */
  read: readonly (string | number)[] | undefined;
}

/**
 * RequestConnection is a second connection to a single Redis server that carries the store's
 * per-session commands, written and parsed here instead of through ioredis, which keeps the
 * maintenance commands (SCAN, UNLINK), `wait_replicas` and every call made while this connection
 * is down. ioredis builds a command object, a promise wrapper and a timer for each command and
 * runs each reply through its own queue; here a command is one string appended to the turn's
 * writes ({@link SLICE}), and a reply settles its call directly: Express Redis `rw` 700.7 → 663.9 k
 * instructions a request (bench/README.md, "The request connection").
 *
 * Calls are only made while {@link RequestConnection.ready}. No write is ever sent twice: a call in
 * flight when the connection drops fails unless it is a read, which goes to `resend`, and a call past its
 * timeout fails, its reply dropped when it comes. After a drop the connection reconnects by itself, after
 * `retryDelay`; errors of its own (a refused connection, a failed AUTH) are never reported, since
 * the store's calls go through ioredis meanwhile and fail there with the server's reason.
 */
export class RequestConnection {
  /** ready is true once the server has answered the handshake (AUTH, SELECT, PING), until the connection drops. */
  ready = false;
  private readonly options: RequestConnectionOptions;
  private socket: Socket | undefined;
  private closed = false;
  private attempts = 0;
  /** greeting counts the handshake replies still to come. */
  private greeting = 0;
  private calls: Call[] = [];
  /** expired counts the calls at the head of {@link RequestConnection.calls} that failed by their deadline. */
  private expired = 0;
  /** out holds the commands of this turn of the event loop not written yet: fewer than {@link SLICE}, written at the latest in its check phase. */
  private out = '';
  /** queued counts the commands in {@link RequestConnection.out}. */
  private queued = 0;
  /** flushDue is set while a write of the turn's last commands waits for its check phase. */
  private flushDue = false;
  private timer: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private drained: (() => void) | undefined;
  private firstAttempt: (() => void) | undefined;
  /** opened settles when the first connection attempt has ended, ready or not. */
  readonly opened: Promise<void>;
  private readonly reader = new ReplyReader();
  private readonly onReply = (reply: Reply): void => this.settle(reply);
  private readonly flush = (): void => {
    this.flushDue = false;
    this.write();
  };
  private readonly sweep = (): void => this.expire();

  constructor(options: RequestConnectionOptions) {
    this.options = options;
    this.opened = new Promise((resolve) => (this.firstAttempt = resolve));
    this.open();
  }

  /**
   * call sends one command and resolves with its reply; an error reply rejects with a
   * {@link ReplyError}. Only while ready. A `read`, safe to send twice, resolves through the
   * `resend` option instead if the connection drops before the reply: the server may well have
   * closed it before this command went out (an idle `timeout`, a `CLIENT KILL`), which the client
   * learns only after.
   */
  call(args: readonly (string | number)[], read = false): Promise<Reply> {
    const command = encodeCommand(args);
    return new Promise((resolve, reject) => {
      if (!this.flushDue) {
        this.flushDue = true;
        setImmediate(this.flush);
      }
      this.out += command;
      this.calls.push({ resolve, reject, deadline: performance.now() + this.options.commandTimeoutMs, timedOut: false, read: read ? args : undefined });
      this.timer ??= setTimeout(this.sweep, this.options.commandTimeoutMs).unref();
      if (++this.queued === SLICE) this.write();
    });
  }

  /** close stops reconnecting, lets the calls in flight finish for up to a second, and closes the socket. */
  async close(): Promise<void> {
    this.closed = true;
    this.ready = false;
    clearTimeout(this.retry);
    const socket = this.socket;
    if (socket === undefined) return;
    if (this.calls.length > this.expired) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        setTimeout(resolve, 1000).unref();
      });
    }
    socket.destroy();
  }

  private open(): void {
    this.retry = undefined;
    if (this.closed) return;
    const { host, port, tls, connectTimeoutMs } = this.options;
    const socket = tls === undefined ? connectTcp({ host, port }) : connectTls({ host, port, rejectUnauthorized: tls.rejectUnauthorized });
    this.socket = socket;
    socket.setNoDelay(true);
    // As ioredis sets its own: a peer gone without a word is found by the kernel's probes.
    socket.setKeepAlive(true, KEEP_ALIVE_MS);
    socket.setTimeout(connectTimeoutMs);
    socket.once(tls === undefined ? 'connect' : 'secureConnect', () => this.greet(socket));
    socket.on('data', (chunk: Buffer) => this.read(socket, chunk));
    socket.on('timeout', () => socket.destroy());
    // 'close' follows every error: the calls in flight fail there.
    socket.on('error', () => undefined);
    socket.on('close', () => this.lost(socket));
  }

  private greet(socket: Socket): void {
    const { username, password, db } = this.options;
    let handshake = '';
    this.greeting = 1;
    if (password !== undefined) {
      handshake += encodeCommand(username === undefined ? ['AUTH', password] : ['AUTH', username, password]);
      this.greeting++;
    }
    if (db !== 0) {
      handshake += encodeCommand(['SELECT', db]);
      this.greeting++;
    }
    socket.write(handshake + encodeCommand(['PING']));
  }

  private read(socket: Socket, chunk: Buffer): void {
    try {
      this.reader.feed(chunk, this.onReply);
    } catch {
      // Bytes that are not RESP: nothing after them can be matched to its call.
      socket.destroy();
    }
  }

  private settle(reply: Reply): void {
    if (this.greeting > 0) {
      if (reply instanceof ReplyError) {
        this.socket?.destroy();
        return;
      }
      if (--this.greeting === 0) {
        this.ready = !this.closed;
        this.attempts = 0;
        this.socket?.setTimeout(0);
        this.firstAttempt?.();
      }
      return;
    }
    const call = this.calls.shift();
    if (call === undefined) throw new Error('redis protocol error: a reply to no command');
    if (call.timedOut) {
      this.expired--;
      return;
    }
    if (reply instanceof ReplyError) call.reject(reply);
    else call.resolve(reply);
    if (this.drained !== undefined && this.calls.length === 0) this.drained();
  }

  private write(): void {
    const out = this.out;
    this.out = '';
    this.queued = 0;
    if (out !== '') this.socket?.write(out);
  }

  /** expire fails the calls past their deadline and sets the timer for the next one. */
  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    const calls = this.calls;
    let at = this.expired;
    for (; at < calls.length && calls[at]!.deadline <= now; at++) {
      calls[at]!.timedOut = true;
      calls[at]!.reject(new Error('Command timed out'));
    }
    this.expired = at;
    if (at < calls.length) this.timer = setTimeout(this.sweep, calls[at]!.deadline - now + 1).unref();
  }

  private lost(socket: Socket): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.ready = false;
    this.greeting = 0;
    this.out = '';
    this.queued = 0;
    this.reader.reset();
    clearTimeout(this.timer);
    this.timer = undefined;
    const calls = this.calls;
    this.calls = [];
    this.expired = 0;
    const error = new Error('Connection is closed.');
    for (const call of calls) {
      if (call.timedOut) continue;
      if (call.read !== undefined && !this.closed) call.resolve(this.options.resend(call.read));
      else call.reject(error);
    }
    this.drained?.();
    this.firstAttempt?.();
    if (!this.closed) this.retry = setTimeout(() => this.open(), this.options.retryDelay(++this.attempts)).unref();
  }
}
