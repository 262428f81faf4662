import { createHash } from 'node:crypto';
import type { ChainableCommander, Cluster, ClusterOptions, Redis, RedisOptions as ClientOptions } from 'ioredis';
import { SessionError } from '../../src/errors.ts';
import { indexKeyHash } from '../shared/index-key.ts';
import { assertValidId, isValidId } from '../../src/id.ts';
import { loadOptional } from '../shared/load.ts';
import type { OpenOptions, Provider, Store } from '../../src/provider.ts';
import { register } from '../../src/registry.ts';
import { formatHostPort } from '../shared/dsn.ts';
import { checkExpiresAt, failure, idTaken, StoreGuard } from '../shared/errors.ts';
import { parseConfig, type RedisOptions } from './config.ts';
import { RequestConnection } from './request-connection.ts';
import type { Reply } from './resp.ts';

export { DEFAULT_PREFIX, parseConfig, type RedisMode, type RedisOptions } from './config.ts';

const NAME = 'redis';

/**
 * Lua scripts, each one round trip and atomic on the server. ioredis' `defineCommand` sends
 * EVALSHA and falls back to EVAL when the server has not cached the script yet.
 */
const SCRIPTS = {
  /** KEYS[1] key; ARGV: '1' when a record must be missing, expected, record, ttl ms (<= 0: delete). */
  sessionkitCompareAndSet: {
    numberOfKeys: 1,
    lua: `
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current then return 0 end
elseif current ~= ARGV[2] then
  return 0
end
if tonumber(ARGV[4]) > 0 then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
else
  redis.call('DEL', KEYS[1])
end
return 1`,
  },
  /**
   * KEYS[1] old, KEYS[2] new: RENAMENX keeps the value and the remaining TTL and never overwrites
   * a live session at the new key. Returns 1 when moved, 0 when the old key is missing (a no-op),
   * -1 when the new key is taken.
   */
  sessionkitMove: {
    numberOfKeys: 2,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('RENAMENX', KEYS[1], KEYS[2]) == 0 then return -1 end
return 1`,
  },
  /** KEYS[1] key: removes the key and returns {value, pttl} as it was, atomically, or nil when missing. */
  sessionkitTake: {
    numberOfKeys: 1,
    lua: `
local value = redis.call('GET', KEYS[1])
if not value then return nil end
local pttl = redis.call('PTTL', KEYS[1])
redis.call('DEL', KEYS[1])
return {value, pttl}`,
  },
  /**
   * KEYS[1] index key; ARGV: sid, expiresAt, now (epoch ms on the store's clock). Files the id,
   * drops entries already expired, and sets the key's TTL to its latest entry, so the sorted set
   * stays as small as its live entries and disappears by itself once the last one expires.
   */
  sessionkitIndexAdd: {
    numberOfKeys: 1,
    lua: `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then
  redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.ceil(tonumber(last[2]) - tonumber(ARGV[3]))))
end
return 1`,
  },
} as const;

/** The script commands `defineCommand` adds to the client. */
interface ScriptCommands {
  sessionkitCompareAndSet(key: string, mustBeMissing: '0' | '1', expected: string, record: string, ttl: number): Promise<number>;
  sessionkitMove(oldKey: string, newKey: string): Promise<number>;
  sessionkitTake(key: string): Promise<[string, number] | null>;
  sessionkitIndexAdd(key: string, sid: string, expiresAt: number, now: number): Promise<number>;
}

type Client = (Redis | Cluster) & ScriptCommands;

/** WriteCommand names the commands that change data, the ones `wait_replicas` confirms. */
type ScriptName = keyof typeof SCRIPTS;
type WriteCommand = 'set' | 'del' | 'pexpire' | 'zrem' | ScriptName;

/** SHAS holds the SHA1 of each script, by which EVALSHA runs it once the server has it cached. */
const SHAS = Object.fromEntries(Object.entries(SCRIPTS).map(([name, { lua }]) => [name, createHash('sha1').update(lua).digest('hex')])) as Record<ScriptName, string>;

const SCAN_COUNT = 1000;

/**
 * INDEX_TAG follows the prefix in index key names. It starts with a character no session id has,
 * so an index key never matches the session pattern that `count` scans.
 */
const INDEX_TAG = 'index:';

/** INDEX_REST matches what follows `prefix + INDEX_TAG`: a sha256 digest in base64url. */
const INDEX_REST = /^[A-Za-z0-9_-]{43}$/;

/** escapeGlob escapes the characters SCAN MATCH treats as patterns, so a prefix matches only itself. */
function escapeGlob(text: string): string {
  return text.replace(/[\\*?[\]]/g, '\\$&');
}

/**
 * indexDigest names an index key by the sha256 of its UTF-16 code units, base64url: a fixed
 * 43 characters whatever the key holds (braces included, so no cluster hash tag), and distinct
 * for distinct keys even with lone surrogates, which UTF-8 would fold into one replacement character.
 */
function indexDigest(key: string): string {
  return indexKeyHash(NAME, key).toString('base64url');
}

/**
 * RedisStore keeps each session at `prefix + sid` as a string with a native millisecond TTL, so
 * Redis itself enforces expiry and no gc is needed. Each index key is one sorted set at
 * `prefix + "index:" + digest` (member: session id, score: the entry's expiresAt), whose own TTL
 * follows its latest entry. On a Redis Cluster, `regenerate` is not atomic (the two keys live in
 * different slots: it takes the old key, then writes the new one) and `count`/`clear` scan every master.
 * On a standalone server the per-session commands go over a {@link RequestConnection} of the
 * store's own while it is up, and everything else through ioredis.
 */
export class RedisStore implements Store {
  private readonly client: Client;
  private readonly options: RedisOptions;
  private readonly now: () => number;
  /** sessionMatch is the SCAN pattern of session keys: ids are lowercase hex, index keys are not. */
  private readonly sessionMatch: string;
  /** anyMatch is the SCAN pattern of every key under the prefix, sessions and index alike. */
  private readonly anyMatch: string;
  private readonly guard: StoreGuard;
  /** lastConnectionError is why the connection is down, while it is: a failing call says it. */
  private lastConnectionError: Error | undefined;
  /** single is the client of a single server (standalone or sentinel), whose writes {@link RedisStore.batchTurn} corks. */
  private readonly single: Redis | undefined;
  /** requests carries the per-session commands of a standalone server while it is up ({@link RedisStore.direct}). */
  private readonly requests: RequestConnection | undefined;

  constructor(client: Client, options: RedisOptions, openOptions: OpenOptions, requests?: RequestConnection) {
    this.client = client;
    this.requests = requests;
    client.on('error', (err: Error) => {
      this.lastConnectionError = err;
    });
    client.on('ready', () => {
      this.lastConnectionError = undefined;
    });
    this.options = options;
    this.single = options.mode === 'cluster' ? undefined : (client as Redis);
    this.now = openOptions.now ?? Date.now;
    this.guard = new StoreGuard(NAME, { secrets: [options.password, options.sentinelPassword] });
    const prefix = escapeGlob(options.prefix);
    this.sessionMatch = `${prefix}[0-9a-f]*`;
    this.anyMatch = `${prefix}*`;
  }

  /**
   * get and compareAndSet, the calls every request makes, are plain functions: `run` turns the
   * reply into their result in its own `then`, sparing each an async function's promise and await
   * (Express Redis `rw`: 40.0 → 39.2 KB allocated a request, bench/alloc-sites.ts). An invalid id
   * or expiry rejects before anything is sent, as it would from an async function.
   */
  get(sid: string): Promise<string | undefined> {
    let key: string;
    try {
      key = this.key(sid);
    } catch (invalid) {
      return Promise.reject(invalid);
    }
    return this.run('get', () => this.read<string | null>(['get', key]), orUndefined);
  }

  async set(sid: string, record: string, expiresAt: number): Promise<void> {
    const key = this.key(sid);
    const ttl = this.ttl(expiresAt);
    if (ttl <= 0) await this.run('set', () => this.write('del', key));
    else await this.run('set', () => this.write('set', key, record, 'PX', ttl));
  }

  async destroy(sid: string): Promise<void> {
    const key = this.key(sid);
    await this.run('destroy', () => this.write('del', key));
  }

  compareAndSet(sid: string, expected: string | undefined, record: string, expiresAt: number): Promise<boolean> {
    let key: string;
    let ttl: number;
    try {
      key = this.key(sid);
      ttl = this.ttl(expiresAt);
    } catch (invalid) {
      return Promise.reject(invalid);
    }
    return this.run('compareAndSet', () => this.write('sessionkitCompareAndSet', key, expected === undefined ? '1' : '0', expected ?? '', record, ttl), isOne);
  }

  async touch(sid: string, expiresAt: number): Promise<void> {
    const key = this.key(sid);
    const ttl = this.ttl(expiresAt);
    // PEXPIRE leaves a missing key missing, so touch never creates a record.
    if (ttl <= 0) await this.run('touch', () => this.write('del', key));
    else await this.run('touch', () => this.write('pexpire', key, ttl));
  }

  async regenerate(oldSid: string, newSid: string): Promise<void> {
    const [oldKey, newKey] = [this.key(oldSid), this.key(newSid)];
    if (this.options.mode !== 'cluster') {
      const moved = await this.run('regenerate', () => this.write('sessionkitMove', oldKey, newKey));
      if (moved === -1) throw idTaken(NAME);
      return;
    }
    // The keys hash to different slots, so no single command or script may touch both. Taking the
    // old key first means that of two concurrent regenerates only one gets the session; if the new
    // key is taken, the old one is put back.
    const found = (await this.run('regenerate', () => this.write('sessionkitTake', oldKey))) as [string, number] | null;
    if (!found) return;
    const [value, pttl] = found;
    if (pttl !== -1 && pttl <= 0) return;
    const writeTo = (key: string) => (pttl > 0 ? this.write('set', key, value, 'PX', pttl, 'NX') : this.write('set', key, value, 'NX'));
    if ((await this.run('regenerate', () => writeTo(newKey))) === 'OK') return;
    await this.run('regenerate', () => writeTo(oldKey));
    throw idTaken(NAME);
  }

  async indexAdd(key: string, sid: string, expiresAt: number): Promise<void> {
    const indexKey = this.indexKey(key);
    assertValidId(sid, NAME);
    checkExpiresAt(NAME, expiresAt);
    await this.run('indexAdd', () => this.write('sessionkitIndexAdd', indexKey, sid, expiresAt, this.now()));
  }

  async indexRemove(key: string, sid: string): Promise<void> {
    const indexKey = this.indexKey(key);
    assertValidId(sid, NAME);
    // The key's TTL may now outlast its entries; it still expires, and listing reads scores.
    await this.run('indexRemove', () => this.write('zrem', indexKey, sid));
  }

  async indexList(key: string): Promise<string[]> {
    const indexKey = this.indexKey(key);
    // Scores are expiresAt on the store's clock: an entry is live while it is still after now.
    return this.run('indexList', () => this.read<string[]>(['zrangebyscore', indexKey, `(${this.now()}`, '+inf']));
  }

  async count(): Promise<number> {
    return this.run('count', async () => {
      // SCAN may return a key twice, so keys are counted once through a Set.
      const keys = new Set<string>();
      for (const node of this.masters()) {
        for await (const batch of this.scan(node, this.sessionMatch, (key) => this.isSessionKey(key))) {
          for (const key of batch) keys.add(key);
        }
      }
      return keys.size;
    });
  }

  async clear(): Promise<void> {
    const mine = (key: string) => this.isSessionKey(key) || this.isIndexKey(key);
    await this.run('clear', async () => {
      for (const node of this.masters()) {
        for await (const batch of this.scan(node, this.anyMatch, mine)) {
          if (batch.length === 0) continue;
          // One UNLINK per key: on a cluster node, one multi-key command across slots is refused.
          const pipeline = node.pipeline();
          for (const key of batch) pipeline.unlink(key);
          for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
        }
      }
    });
  }

  async close(): Promise<void> {
    await this.guard.close(async () => {
      await this.requests?.close();
      try {
        if (this.client.status === 'ready') {
          await Promise.race([this.client.quit(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
        }
      } catch {
        // quit failed: the disconnect below still releases the sockets.
      } finally {
        this.client.disconnect();
      }
    });
  }

  private key(sid: string): string {
    assertValidId(sid, NAME);
    return this.options.prefix + sid;
  }

  private indexKey(key: string): string {
    return this.options.prefix + INDEX_TAG + indexDigest(key);
  }

  private isSessionKey(key: string): boolean {
    return key.startsWith(this.options.prefix) && isValidId(key.slice(this.options.prefix.length));
  }

  private isIndexKey(key: string): boolean {
    const head = this.options.prefix + INDEX_TAG;
    return key.startsWith(head) && INDEX_REST.test(key.slice(head.length));
  }

  /** ttl converts an epoch-ms expiry to whole milliseconds from now; <= 0 means already expired. */
  private ttl(expiresAt: number): number {
    checkExpiresAt(NAME, expiresAt);
    return Math.ceil(expiresAt - this.now());
  }

  private masters(): Redis[] {
    return this.options.mode === 'cluster' ? (this.client as Cluster).nodes('master') : [this.client as Redis];
  }

  /** scan yields the keys on one server that match `pattern` and pass `keep`, a batch per SCAN call. */
  private async *scan(node: Redis, pattern: string, keep: (key: string) => boolean): AsyncGenerator<string[]> {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
      cursor = next;
      yield keys.filter(keep);
    } while (cursor !== '0');
  }

  /**
   * write sends one write command. With `wait_replicas` set, the command and a `WAIT` go out as
   * one pipeline on the connection of the key's primary (WAIT covers the writes before it on that
   * connection), and fewer confirmations than asked fail the call: the primary has the write, but
   * a failover could lose it, so it is not reported as done. Without, it returns the client's own
   * promise: an async function returning a promise costs two more turns of the microtask queue.
   */
  private write(command: WriteCommand, ...args: (string | number)[]): Promise<unknown> {
    if (this.options.waitReplicas) return this.writeAndWait(command, args);
    if (Object.hasOwn(SCRIPTS, command)) return this.evalScript(command as ScriptName, args);
    return this.direct?.call([command, ...args]) ?? send(this.client, command, args);
  }

  /**
   * read sends a read on the request connection while it is ready, else through ioredis, which
   * also takes it if the request connection drops before the reply (its `resend`): a read is safe
   * to send twice, a write is not.
   */
  private read<T extends Reply>(args: [string, ...(string | number)[]]): Promise<T> {
    const direct = this.direct;
    return (direct === undefined ? callThrough(this.client, args) : direct.call(args, true)) as Promise<T>;
  }

  /**
   * direct is the request connection while it is ready, and undefined otherwise (a cluster or
   * sentinel client, the connection down or still connecting): commands then go through ioredis.
   */
  private get direct(): RequestConnection | undefined {
    const requests = this.requests;
    return requests !== undefined && requests.ready ? requests : undefined;
  }

  /**
   * evalScript runs one of the scripts by its SHA1, and sends its source only when the server
   * answers NOSCRIPT (not cached yet, or its cache lost in a restart); a NOSCRIPT reply means
   * nothing ran, so the second send cannot apply a write twice. Plain EVALSHA rather than the
   * command `defineCommand` made, whose wrapper costs a closure and a promise more a call: 8.2–8.6
   * → 7.6–7.7 µs of client CPU a compare-and-set, 50 at a time against a local Redis, in three
   * alternating runs of 100,000. Pipelines (wait_replicas) keep the defined commands.
   */
  private evalScript(name: ScriptName, args: (string | number)[]): Promise<unknown> {
    const { numberOfKeys, lua } = SCRIPTS[name];
    const sent = this.direct?.call(['EVALSHA', SHAS[name], numberOfKeys, ...args]) ?? this.client.evalsha(SHAS[name], numberOfKeys, ...args);
    return sent.catch((error: unknown) => {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return this.direct?.call(['EVAL', lua, numberOfKeys, ...args]) ?? this.client.eval(lua, numberOfKeys, ...args);
    });
  }

  private async writeAndWait(command: WriteCommand, args: (string | number)[]): Promise<unknown> {
    const { waitReplicas, waitTimeoutMs } = this.options;
    const pipeline = this.client.pipeline();
    send(pipeline, command, args);
    pipeline.wait(waitReplicas!, waitTimeoutMs!);
    const [[error, reply] = [], [waitError, confirmed] = []] = (await pipeline.exec()) ?? [];
    if (error) throw error;
    if (waitError) throw waitError;
    if ((confirmed as number) < waitReplicas!) {
      throw new Error(`written on the primary but confirmed by ${String(confirmed)} of ${waitReplicas} replicas within ${waitTimeoutMs} ms`);
    }
    return reply;
  }

  /**
   * run is every call's way to the server: StoreGuard's check, then the call, whose failure
   * StoreGuard wraps with why the connection is down added ({@link RedisStore.whyDown}). A plain
   * function over the call's promise, not an async one: one promise and one turn of the microtask
   * queue fewer on each of a request's commands (bench/README.md, "The Redis path").
   */
  private run<T, R = T>(action: string, call: () => Promise<T>, onValue?: (value: T) => R): Promise<R> {
    let sent: Promise<T>;
    try {
      this.guard.check(action);
    } catch (closed) {
      return Promise.reject(closed);
    }
    this.batchTurn();
    try {
      sent = call();
    } catch (cause) {
      return Promise.reject(this.guard.fail(action, this.whyDown(cause)));
    }
    return sent.then(onValue, (cause: unknown) => {
      throw this.guard.fail(action, this.whyDown(cause));
    }) as Promise<R>;
  }

  /**
   * batchTurn corks the connection of a single server (standalone or sentinel) until the end of
   * this turn of the event loop, so the commands of every request handled in the turn go out in
   * one write, in the order they were issued. ioredis's auto-pipelining batches the same way but
   * makes a pipeline of each batch: callgrind, Express Redis `rw`, 792.7 → 715.6 k instructions a
   * request with the cork instead (`ro` 724.8 → 680.8 k); in a loop of reads and
   * compare-and-sets, 50 at a time, 20.1 → 13.3 µs of client CPU a pair. The cork is taken before a
   * command is written and released in the check phase, which runs before the event loop waits
   * for I/O again; a Cluster keeps ioredis's pipelines, one per node.
   */
  private batchTurn(): void {
    // The request connection writes each turn's commands itself.
    if (this.direct !== undefined) return;
    const stream = this.single?.stream;
    // Corked already: by an earlier command of this turn.
    if (stream === undefined || stream.writableCorked > 0) return;
    stream.cork();
    setImmediate(uncork, stream);
  }

  /**
   * whyDown adds to a failed call why the connection is down, while it is: ioredis fails a call
   * made while it reconnects with "max retries", and the reason is the connection's.
   */
  private whyDown(cause: unknown): unknown {
    const down = this.lastConnectionError;
    if (down === undefined || this.client.status === 'ready') return cause;
    return new Error(`${errorText(cause)} (the connection is down: ${down.message})`, { cause: down });
  }
}

/** callThrough sends one command through ioredis, whose reply has the shape the request connection's has. */
function callThrough(client: Client, [command, ...args]: readonly (string | number)[]): Promise<Reply> {
  return client.call(String(command), ...args) as Promise<Reply>;
}

/** orUndefined reads a missing key's null reply as undefined. */
const orUndefined = (reply: string | null): string | undefined => reply ?? undefined;

/** isOne reads a script's 1 reply as true. */
const isOne = (reply: unknown): boolean => reply === 1;

/** uncork writes what a connection held back during the turn ({@link RedisStore.batchTurn}). */
function uncork(stream: Redis['stream']): void {
  stream.uncork();
}

/** send issues one write command on a client or a pipeline: commands, scripts included, have the same names on both. */
function send(target: Client | ChainableCommander, command: WriteCommand, args: (string | number)[]): Promise<unknown> {
  return (target as unknown as Record<WriteCommand, (...a: (string | number)[]) => Promise<unknown>>)[command].apply(target, args);
}

/** describeTarget names what the store connects to, for messages; it never includes a password. */
function describeTarget(options: RedisOptions): string {
  const list = options.nodes.map(formatHostPort).join(',');
  if (options.mode === 'cluster') return `cluster ${list}`;
  if (options.mode === 'sentinel') return `sentinel master "${options.masterName}" via ${list}`;
  return list;
}

/**
 * reconnectDelay is the wait before reconnect attempt `times`: 100 ms more each time, at most
 * 500 ms, so once a server (or a newly promoted primary) is back, calls fail for at most about
 * half a second more. A connection attempt costs the server next to nothing.
 */
function reconnectDelay(times: number): number {
  return Math.min(times * 100, 500);
}

function clientOptions(options: RedisOptions): ClientOptions {
  const client: ClientOptions = {
    db: options.db,
    connectTimeout: options.connectTimeoutMs,
    commandTimeout: options.commandTimeoutMs,
    // A command waits through at most this many reconnect attempts, then fails: no endless queue.
    maxRetriesPerRequest: options.maxRetries,
    // A command whose reply was lost is not sent twice: a repeated compareAndSet could misreport.
    autoResendUnfulfilledCommands: false,
    retryStrategy: reconnectDelay,
    lazyConnect: true,
  };
  if (options.username) client.username = options.username;
  if (options.password) client.password = options.password;
  if (options.tls) client.tls = { rejectUnauthorized: !options.tlsSkipVerify };
  return client;
}

function createClient(lib: typeof import('ioredis'), options: RedisOptions): Client {
  const base = clientOptions(options);
  let client: Redis | Cluster;
  if (options.mode === 'cluster') {
    const { db: _db, lazyConnect: _lazy, retryStrategy: _retry, ...redisOptions } = base;
    const clusterOptions: ClusterOptions = {
      lazyConnect: true,
      // The commands of one turn of the event loop go out as one pipeline per node (a single
      // server's connection is corked for the turn instead: RedisStore.batchTurn).
      enableAutoPipelining: true,
      // While no node is reachable, commands fail at once instead of waiting in a queue.
      enableOfflineQueue: false,
      clusterRetryStrategy: reconnectDelay,
      slotsRefreshTimeout: options.connectTimeoutMs,
      redisOptions,
    };
    client = new lib.Cluster(options.nodes, clusterOptions);
  } else if (options.mode === 'sentinel') {
    client = new lib.Redis({
      ...base,
      sentinels: options.nodes,
      name: options.masterName!,
      ...(options.sentinelPassword ? { sentinelPassword: options.sentinelPassword } : {}),
      // Give up on the sentinels after a few quick rounds; retryStrategy schedules the next try.
      sentinelRetryStrategy: (times) => (times > 3 ? null : times * 100),
      ...(options.tls ? { enableTLSForSentinelMode: true, sentinelTLS: { rejectUnauthorized: !options.tlsSkipVerify } } : {}),
    });
  } else {
    const [node] = options.nodes;
    client = new lib.Redis({ ...base, host: node!.host, port: node!.port });
  }
  for (const [name, script] of Object.entries(SCRIPTS)) client.defineCommand(name, script);
  return client as Client;
}

/**
 * connectWithin waits for the client to be ready, failing after `ms` even if ioredis keeps retrying.
 * It waits for the 'ready' event as well as for connect(): when a Cluster's first ready check finds
 * `cluster_state:fail` (a cluster that has just formed), ioredis reconnects and becomes ready, but
 * leaves the promise connect() returned pending.
 */
async function connectWithin(client: Client, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  const connecting = client.connect();
  connecting.catch(() => {});
  try {
    await Promise.race([
      connecting,
      new Promise<void>((resolve) => {
        onReady = resolve;
        client.once('ready', resolve);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    client.off('ready', onReady!);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * provider opens a {@link RedisStore}: it parses the config, loads ioredis, connects (standalone,
 * cluster or sentinel) and fails within about `dial_timeout` (default 3 s) with
 * `ERR_SESSION_STORE` naming the address, never the password, when the server does not answer.
 */
export const provider: Provider = {
  async open(config, openOptions) {
    const options = parseConfig(config);
    const lib = await loadOptional<typeof import('ioredis')>(NAME, 'ioredis');
    const client = createClient(lib, options);
    let lastError: Error | undefined;
    // Without a listener an 'error' event would crash the process; failed calls reject on their own.
    client.on('error', (err: Error) => {
      lastError = err;
    });
    try {
      await connectWithin(client, options.connectTimeoutMs + 500);
    } catch (err) {
      client.disconnect();
      // The client's error may carry the AUTH arguments: failure keeps no password in the cause.
      throw failure(NAME, `cannot connect to ${describeTarget(options)}`, lastError ?? err, [options.password, options.sentinelPassword]);
    }
    if (options.mode !== 'standalone') return new RedisStore(client, options, openOptions);
    const [node] = options.nodes;
    const requests = new RequestConnection({
      host: node!.host,
      port: node!.port,
      tls: options.tls ? { rejectUnauthorized: !options.tlsSkipVerify } : undefined,
      // As ioredis does: an empty user name or password is no AUTH.
      username: options.username || undefined,
      password: options.password || undefined,
      db: options.db,
      connectTimeoutMs: options.connectTimeoutMs,
      commandTimeoutMs: options.commandTimeoutMs,
      retryDelay: reconnectDelay,
      resend: (args) => callThrough(client, args),
    });
    // Until it is ready the store's calls go through ioredis; waiting once makes the first ones take it.
    await requests.opened;
    return new RedisStore(client, options, openOptions, requests);
  },
};

register('redis', provider);
