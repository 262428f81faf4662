import { formatHostPort } from '../shared/dsn.ts';
import { SessionError } from '../../src/errors.ts';
import { assertValidId } from '../../src/id.ts';
import {
  addEntry,
  entriesDocument,
  type IndexDocument,
  type IndexEntries,
  indexDocumentKey,
  listEntries,
  readEntries,
  removeEntry,
} from '../shared/index-document.ts';
import { loadOptional } from '../shared/load.ts';
import type { OpenOptions, Provider, Store } from '../../src/provider.ts';
import { register } from '../../src/registry.ts';
import { failure, idTaken, StoreGuard } from '../shared/errors.ts';
import { parseConfig, type MemcacheOptions } from './config.ts';

export { DEFAULT_PREFIX, DEFAULT_SERVER, MAX_KEY_BYTES, parseConfig, type MemcacheOptions } from './config.ts';

const NAME = 'memcache';

/**
 * MAX_ITEM_BYTES is memcached's default item size limit (`-I 1m`). A record is refused before it is
 * sent when it, its key and {@link ITEM_OVERHEAD_BYTES} exceed it, because memcached answers an
 * oversized set by dropping the item already stored under that key.
 */
export const MAX_ITEM_BYTES = 1024 * 1024;
/** ITEM_OVERHEAD_BYTES is headroom for memcached's per-item header (59 bytes in memcached 1.6). */
export const ITEM_OVERHEAD_BYTES = 128;
/** MAX_RELATIVE_EXPIRY is the largest exptime (30 days, in seconds) memcached reads as relative. */
export const MAX_RELATIVE_EXPIRY = 30 * 24 * 3600;

/**
 * memcachedExpiry converts `expiresAt` (epoch ms) into memcached's exptime as of `now`: relative
 * seconds, rounded up, while they fit in 30 days, otherwise absolute unix seconds (memcached reads
 * any exptime above 2592000 as a timestamp). It returns `undefined` when `expiresAt` is not in the
 * future: the caller deletes instead, since exptime 0 would mean "never expire" and a negative one
 * does not fit the protocol.
 */
export function memcachedExpiry(expiresAt: number, now: number): number | undefined {
  const remaining = expiresAt - now;
  if (!(remaining > 0)) return undefined;
  const seconds = Math.ceil(remaining / 1000);
  if (seconds <= MAX_RELATIVE_EXPIRY) return seconds;
  return Math.min(Math.ceil(expiresAt / 1000), 0xffffffff);
}

/** The parts of memjs 1.x used here; memjs ships no types. */
interface MemjsResponse {
  header: { status: number; cas: Buffer };
  val: Buffer;
}
type MemjsCallback = (err: unknown, response: MemjsResponse | null) => void;
interface MemjsServer {
  host: string;
  port: number;
  _socket?: { prependOnceListener(event: 'close', listener: () => void): unknown };
  connected: boolean;
  errorCallbacks: Record<string, unknown>;
  sock(sasl: boolean, go: (socket: unknown) => void): void;
  error(err: unknown): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  onResponse(seq: number, handler: (response: MemjsResponse) => void): void;
  onError(seq: number, handler: (err: unknown) => void): void;
  write(request: Buffer): void;
}
interface MemjsClient {
  seq: number;
  servers: MemjsServer[];
  incrSeq(): void;
  perform(key: string, request: Buffer, seq: number, callback: MemjsCallback, retries?: number): void;
  close(): void;
}
interface Memjs {
  Client: new (servers: MemjsServer[], options: object) => MemjsClient;
  Server: new (host: string, port: number, username: string | undefined, password: string | undefined, options: object) => MemjsServer;
  Utils: { makeRequestBuffer(opcode: number, key: string, extras: Buffer | string, value: Buffer | string, opaque: number): Buffer };
}

/** Binary protocol opcodes and statuses (memcached protocol_binary.h). */
const OP = { get: 0x00, set: 0x01, add: 0x02, delete: 0x04, version: 0x0b, touch: 0x1c } as const;
const STATUS = { ok: 0x00, notFound: 0x01, exists: 0x02, tooLarge: 0x03, notStored: 0x05 } as const;
/** NO_RETRY makes memjs send a conditional write once: a retry after a lost reply could misreport it. */
const NO_RETRY = 1;
/** REGENERATE_ATTEMPTS bounds how often regenerate reads again when a save changes the session under it. */
const REGENERATE_ATTEMPTS = 3;
/** RETRY_DELAY_MS is memjs's pause before it retries a failed request. */
const RETRY_DELAY_MS = 100;

interface Item {
  value: string;
  cas: Buffer;
}

/**
 * MemcacheStore keeps each session as one memcached item `prefix + sid` with native expiry. It
 * speaks memcached's binary protocol through memjs's request layer so that it can read CAS tokens:
 * `compareAndSet` is `add` for a missing record and a CAS-guarded `set` otherwise. Each index key
 * is one item `prefix + "index:" + sha256(key)` holding the JSON object `{ sid: expiresAt }`,
 * changed by a CAS loop and expiring with its latest entry. memcached cannot list keys, so there
 * is no `count` or `clear`; it expires items itself, so there is no `gc`.
 */
export class MemcacheStore implements Store {
  private readonly guard: StoreGuard;

  constructor(
    private readonly memjs: Memjs,
    private readonly client: MemjsClient,
    private readonly options: MemcacheOptions,
    private readonly openOptions: OpenOptions,
  ) {
    this.guard = new StoreGuard(NAME, { secrets: [options.password] });
  }

  async get(sid: string): Promise<string | undefined> {
    return (await this.read(sid, 'get'))?.value;
  }

  async set(sid: string, record: string, expiresAt: number): Promise<void> {
    const key = this.key(sid);
    const exptime = memcachedExpiry(expiresAt, this.now());
    if (exptime === undefined) return this.remove(key, 'set');
    const value = this.encode(key, record);
    const response = await this.request('set', OP.set, key, storeExtras(exptime), value);
    this.expect('set', response, [STATUS.ok]);
  }

  async destroy(sid: string): Promise<void> {
    await this.remove(this.key(sid), 'destroy');
  }

  async compareAndSet(sid: string, expected: string | undefined, record: string, expiresAt: number): Promise<boolean> {
    const key = this.key(sid);
    const exptime = memcachedExpiry(expiresAt, this.now());
    if (expected === undefined) {
      // An already expired record is "nothing stored": it succeeds exactly when nothing is there.
      if (exptime === undefined) return (await this.read(sid, 'compareAndSet')) === undefined;
      const value = this.encode(key, record);
      const response = await this.request('compareAndSet', OP.add, key, storeExtras(exptime), value, undefined, NO_RETRY);
      return this.expect('compareAndSet', response, [STATUS.ok, STATUS.exists, STATUS.notStored]) === STATUS.ok;
    }
    const current = await this.read(sid, 'compareAndSet');
    if (current === undefined || current.value !== expected) return false;
    const response =
      exptime === undefined
        ? await this.request('compareAndSet', OP.delete, key, '', '', current.cas, NO_RETRY)
        : await this.request('compareAndSet', OP.set, key, storeExtras(exptime), this.encode(key, record), current.cas, NO_RETRY);
    return this.expect('compareAndSet', response, [STATUS.ok, STATUS.notFound, STATUS.exists]) === STATUS.ok;
  }

  async touch(sid: string, expiresAt: number): Promise<void> {
    const key = this.key(sid);
    const exptime = memcachedExpiry(expiresAt, this.now());
    if (exptime === undefined) return this.remove(key, 'touch');
    const response = await this.request('touch', OP.touch, key, uint32(exptime), '');
    this.expect('touch', response, [STATUS.ok, STATUS.notFound]);
  }

  /**
   * regenerate takes the old item with a CAS-guarded delete, so that of two concurrent regenerates
   * only one gets the session, then adds it under the new id; a new id that is taken is never
   * overwritten, and the old item is put back. The steps are not atomic: a reader may briefly see
   * neither id. memcached cannot report an item's remaining lifetime, so the new id gets a full
   * `maxLifetime`, as a touch at regeneration time would give it.
   */
  async regenerate(oldSid: string, newSid: string): Promise<void> {
    const [oldKey, newKey] = [this.key(oldSid), this.key(newSid)];
    const exptime = memcachedExpiry(this.now() + this.openOptions.maxLifetime, this.now());
    for (let attempt = 1; ; attempt++) {
      const current = await this.read(oldSid, 'regenerate');
      if (current === undefined) return;
      const value = this.encode(newKey, current.value);
      const taken = await this.request('regenerate', OP.delete, oldKey, '', '', current.cas, NO_RETRY);
      const status = this.expect('regenerate', taken, [STATUS.ok, STATUS.notFound, STATUS.exists]);
      // Not found: another regenerate or a destroy took it first. Exists: a save changed it since the read.
      if (status === STATUS.notFound) return;
      if (status === STATUS.exists) {
        if (attempt < REGENERATE_ATTEMPTS) continue;
        throw new SessionError('ERR_SESSION_CONTENDED', 'session/memcache: regenerate gave up: the session kept changing');
      }
      if (exptime === undefined) return;
      const added = await this.request('regenerate', OP.add, newKey, storeExtras(exptime), value, undefined, NO_RETRY);
      if (this.expect('regenerate', added, [STATUS.ok, STATUS.exists, STATUS.notStored]) === STATUS.ok) return;
      await this.request('regenerate', OP.add, oldKey, storeExtras(exptime), value, undefined, NO_RETRY).catch(() => undefined);
      throw idTaken(NAME);
    }
  }

  /** indexAdd is `GET` + a CAS-guarded `SET` (or `ADD` for a new index key), retried on conflict. */
  async indexAdd(key: string, sid: string, expiresAt: number): Promise<void> {
    await addEntry(NAME, this.indexDocument(key, 'indexAdd'), sid, expiresAt, () => this.now());
  }

  /** indexRemove is `GET` + a CAS-guarded `SET`, or `DELETE` once the last entry goes; a missing entry is one `GET`. */
  async indexRemove(key: string, sid: string): Promise<void> {
    await removeEntry(NAME, this.indexDocument(key, 'indexRemove'), sid, () => this.now());
  }

  /** indexList is one `GET`; expired entries are left out by the store's clock. */
  async indexList(key: string): Promise<string[]> {
    return listEntries(this.indexDocument(key, 'indexList'), () => this.now());
  }

  async close(): Promise<void> {
    await this.guard.close(async () => this.client.close());
  }

  private now(): number {
    return (this.openOptions.now ?? Date.now)();
  }

  private key(sid: string): string {
    assertValidId(sid, NAME);
    return this.options.prefix + sid;
  }

  private read(sid: string, action: string): Promise<Item | undefined> {
    return this.readKey(this.key(sid), action);
  }

  private async readKey(key: string, action: string): Promise<Item | undefined> {
    const response = await this.request(action, OP.get, key, '', '');
    if (this.expect(action, response, [STATUS.ok, STATUS.notFound]) === STATUS.notFound) return undefined;
    return { value: response.val.toString('utf8'), cas: Buffer.from(response.header.cas) };
  }

  /**
   * indexDocument gives the CAS loop of providers/shared/index-document.ts its access to the item of one index
   * key. A conflict (the item appeared, changed or went away) reads as `false`; the writes are
   * conditional, so they are sent once, like compareAndSet's.
   */
  private indexDocument(indexKey: string, action: string): IndexDocument<Buffer> {
    const key = indexDocumentKey(NAME, this.options.prefix, indexKey);
    const write = async (opcode: number, entries: IndexEntries, expiresAt: number, cas?: Buffer) => {
      // The latest entry is in the future; should the clock pass it meanwhile, one second is harmless: reads filter entries.
      const exptime = memcachedExpiry(expiresAt, this.now()) ?? 1;
      const value = this.encode(key, JSON.stringify(entriesDocument(entries)), 'an index entry list');
      const response = await this.request(action, opcode, key, storeExtras(exptime), value, cas, NO_RETRY);
      return this.expect(action, response, [STATUS.ok, STATUS.notFound, STATUS.exists, STATUS.notStored]) === STATUS.ok;
    };
    return {
      read: async () => {
        const item = await this.readKey(key, action);
        return item && { entries: readEntries(parseJson(item.value)), cas: item.cas };
      },
      create: (entries, expiresAt) => write(OP.add, entries, expiresAt),
      replace: (entries, expiresAt, cas) => write(OP.set, entries, expiresAt, cas),
      remove: async (cas) => {
        const response = await this.request(action, OP.delete, key, '', '', cas, NO_RETRY);
        return this.expect(action, response, [STATUS.ok, STATUS.notFound, STATUS.exists]) === STATUS.ok;
      },
    };
  }

  private async remove(key: string, action: string): Promise<void> {
    const response = await this.request(action, OP.delete, key, '', '');
    this.expect(action, response, [STATUS.ok, STATUS.notFound]);
  }

  /** encode refuses a record memcached would reject, before anything is sent or overwritten. */
  private encode(key: string, text: string, what = 'a record'): Buffer {
    const value = Buffer.from(text, 'utf8');
    if (value.length + key.length + ITEM_OVERHEAD_BYTES > MAX_ITEM_BYTES) throw tooLarge(`${what} of ${value.length} bytes`);
    return value;
  }

  private expect(action: string, response: MemjsResponse, allowed: readonly number[]): number {
    const { status } = response.header;
    if (allowed.includes(status)) return status;
    if (status === STATUS.tooLarge) throw tooLarge();
    const detail = response.val.length > 0 ? response.val.toString('utf8') : `status 0x${status.toString(16)}`;
    throw this.guard.fail(action, new Error(`memcached answered ${detail}`));
  }

  /**
   * request sends one binary-protocol request through memjs, which picks the server by key,
   * applies the timeout and retries. The CAS token, when given, goes into the header (bytes 16–23),
   * which memjs's own set/add/delete leave zero.
   */
  private async request(action: string, opcode: number, key: string, extras: Buffer | string, value: Buffer | string, cas?: Buffer, retries?: number): Promise<MemjsResponse> {
    this.guard.check(action);
    const { client } = this;
    client.incrSeq();
    const seq = client.seq;
    const buffer = this.memjs.Utils.makeRequestBuffer(opcode, key, extras, value, seq);
    if (cas) cas.copy(buffer, 16);
    // A backstop above memjs's own timeout and retries, so that no call can hang whatever memjs misses.
    const attempts = retries ?? this.options.retries;
    const deadlineMs = attempts * (2 * this.options.timeoutMs + RETRY_DELAY_MS) + 1000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(this.guard.fail(action, new Error(`no reply within ${deadlineMs}ms`))), deadlineMs);
      client.perform(
        key,
        buffer,
        seq,
        (err, response) => {
          clearTimeout(timer);
          if (err || !response) reject(this.guard.fail(action, err ?? 'no response'));
          else resolve(response);
        },
        retries,
      );
    });
  }
}

function uint32(n: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(n, 0);
  return buffer;
}

/** storeExtras are set/add extras: 4 bytes of flags (always 0) and 4 bytes of exptime. */
function storeExtras(exptime: number): Buffer {
  return Buffer.concat([uint32(0), uint32(exptime)]);
}

/** parseJson reads a stored index item; one that is not JSON reads as `undefined`, which holds no entries. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function tooLarge(what = 'the record'): SessionError {
  return new SessionError(
    'ERR_SESSION_TOO_LARGE',
    `session/memcache: ${what} does not fit memcached's 1 MB item limit (${MAX_ITEM_BYTES} bytes with key and item header)`,
  );
}


/**
 * failPendingOnClose fixes two gaps in memjs 1.x's connection handling. When the server closes a
 * connection without a socket error (a restart, a proxy going away), memjs forgets the socket but
 * never fails the requests written to it, and their timer dies with the socket, so they would hang:
 * here they fail, and memjs retries them on a fresh connection or reports the error. And when an
 * old socket (ended after a timeout) closes once a new one is in use, memjs's own 'close' handler
 * forgets the new socket; here it is put back.
 */
function failPendingOnClose(server: MemjsServer): void {
  const sock = server.sock;
  if (typeof sock !== 'function') return;
  server.sock = function (sasl, go) {
    const before = server._socket;
    sock.call(server, sasl, go);
    const socket = server._socket;
    if (socket === undefined || socket === before) return;
    socket.prependOnceListener('close', () => {
      const current = server._socket;
      if (current === socket) {
        if (Object.keys(server.errorCallbacks).length > 0) server.error(new Error('connection closed before the reply'));
        return;
      }
      if (current === undefined) return;
      const { connected } = server;
      queueMicrotask(() => {
        if (server._socket !== undefined) return;
        server._socket = current;
        server.connected = connected;
      });
    });
  };
}

/** TESTED_MEMJS is the memjs release whose request layer and connection internals this provider was tested with. */
const TESTED_MEMJS = '1.3.2';

/**
 * checkMemjs refuses a memjs without the parts of its request layer and connection handling this
 * provider reaches past the public API for (CAS tokens, failing requests on a closed socket; see
 * {@link failPendingOnClose}), so a memjs that reshaped them fails at open, naming the version to
 * install, instead of mid-request. The peer range pins memjs to the tested minor for the same reason.
 */
function checkMemjs(memjs: Memjs): void {
  const client = memjs.Client?.prototype as Partial<MemjsClient> | undefined;
  const server = memjs.Server?.prototype as Partial<MemjsServer> | undefined;
  const present =
    typeof memjs.Utils?.makeRequestBuffer === 'function' &&
    [client?.perform, client?.incrSeq, client?.close, server?.sock, server?.error, server?.onResponse, server?.onError, server?.write].every((method) => typeof method === 'function');
  if (!present) {
    throw new SessionError('ERR_SESSION_MISSING_DEPENDENCY', `session/memcache: the installed memjs lacks the request layer this provider uses; install memjs@~${TESTED_MEMJS}`);
  }
}

/** probe sends `version` to one server, bypassing memjs's retries, and resolves when it answers. */
function probe(memjs: Memjs, client: MemjsClient, server: MemjsServer, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs}ms`)), timeoutMs);
    client.incrSeq();
    const seq = client.seq;
    server.onResponse(seq, () => {
      clearTimeout(timer);
      resolve();
    });
    server.onError(seq, (err) => {
      clearTimeout(timer);
      reject(err instanceof Error ? err : new Error(String(err)));
    });
    server.write(memjs.Utils.makeRequestBuffer(OP.version, '', '', '', seq));
  });
}

/**
 * provider opens a {@link MemcacheStore}: it loads memjs, then asks every server for its version,
 * so an unreachable or refusing memcached fails `open` within about twice the timeout, naming the
 * address (never the password).
 */
export const provider: Provider = {
  async open(config, openOptions) {
    const options = parseConfig(config);
    const loaded = await loadOptional<Memjs & { default?: Memjs }>(NAME, 'memjs');
    const memjs = loaded.default ?? loaded;
    checkMemjs(memjs);
    const timeout = options.timeoutMs / 1000;
    const clientOptions = {
      timeout,
      conntimeout: timeout,
      retries: options.retries,
      retry_delay: RETRY_DELAY_MS / 1000,
      failover: false,
      keepAlive: true,
      logger: { log() {} },
    };
    const servers = options.servers.map((s) => new memjs.Server(s.host, s.port, options.username, options.password, clientOptions));
    for (const server of servers) {
      // memjs reports failures through callbacks; the listener keeps a stray 'error' from crashing.
      server.on('error', () => {});
      failPendingOnClose(server);
    }
    const client = new memjs.Client(servers, clientOptions);
    for (const [i, server] of servers.entries()) {
      try {
        await probe(memjs, client, server, 2 * options.timeoutMs + 500);
      } catch (cause) {
        client.close();
        throw failure(NAME, `cannot reach memcached at ${formatHostPort(options.servers[i]!)}`, cause, [options.password]);
      }
    }
    return new MemcacheStore(memjs, client, options, openOptions);
  },
};

register('memcache', provider);
