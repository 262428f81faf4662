import { assertValidId } from '../../src/id.ts';
import {
  addEntry,
  entriesDocument,
  INDEX_DOCUMENT_PATTERN,
  type IndexDocument,
  indexDocumentKey,
  listEntries,
  readEntries,
  removeEntry,
} from '../shared/index-document.ts';
import { loadOptional } from '../shared/load.ts';
import type { OpenOptions, Provider, Store } from '../../src/provider.ts';
import { register } from '../../src/registry.ts';
import { failure, idTaken, StoreGuard } from '../shared/errors.ts';
import { parseConfig } from './config.ts';

export { parseConfig, type CouchbaseOptions } from './config.ts';

const NAME = 'couchbase';

/**
 * SDK_TIMEOUTS are the timeouts (ms) sessionkit gives the SDK: a cluster that is down fails `open`
 * within about 3 s, a key-value call within 2.5 s, and a count/clear query within 10 s.
 */
export const SDK_TIMEOUTS = { connectTimeout: 3000, bootstrapTimeout: 3000, kvTimeout: 2500, queryTimeout: 10_000 } as const;

/**
 * SessionDocument is the JSON body of one session document. It is JSON (not a bare UTF-8 string) so
 * that `get` with `withExpiry`, which the SDK runs as a sub-document lookup, can read it.
 */
export interface SessionDocument {
  record: string;
}

/** IndexDocumentBody is the JSON body of one index document: each session id filed under the key, with its entry's expiry in epoch ms. */
export type IndexDocumentBody = Record<string, number>;

/**
 * CouchbaseCollection is the part of the SDK's `Collection` that {@link CouchbaseStore} calls; the
 * SDK's collection satisfies it, and tests pass an in-process fake. CAS values are opaque.
 */
export interface CouchbaseCollection {
  get(key: string, options?: { withExpiry?: boolean }): Promise<{ content: unknown; cas: unknown; expiryTime?: number }>;
  insert(key: string, value: SessionDocument | IndexDocumentBody, options?: { expiry?: Date }): Promise<{ cas: unknown }>;
  upsert(key: string, value: SessionDocument, options?: { expiry?: Date }): Promise<{ cas: unknown }>;
  replace(key: string, value: SessionDocument | IndexDocumentBody, options?: { expiry?: Date; cas?: any }): Promise<{ cas: unknown }>;
  remove(key: string, options?: { cas?: any }): Promise<unknown>;
  touch(key: string, expiry: Date): Promise<unknown>;
}

/** CouchbaseQuery runs one SQL++ statement with named parameters and returns its rows (the SDK's `cluster.query`). */
export type CouchbaseQuery = (
  statement: string,
  options: { parameters: Record<string, string | number>; scanConsistency: 'request_plus' },
) => Promise<{ rows: unknown[] }>;

/** CouchbaseStoreOptions configure a {@link CouchbaseStore} beyond its collection. */
export interface CouchbaseStoreOptions {
  /** query runs SQL++ for `count` and `clear`. */
  query: CouchbaseQuery;
  /** keyspace names the collection in SQL++, e.g. `` `sessions` `` or `` `app`.`web`.`sessions` ``. */
  keyspace: string;
  /** prefix goes before each session id in the document key; default `''`. */
  prefix?: string;
  /** now returns epoch ms; used to decide a past expiry and the live cut-off of `count` (default `Date.now`). */
  now?: () => number;
  /** onClose runs once on the first `close()`, e.g. to close the cluster connection. */
  onClose?: () => Promise<void>;
  /** secrets are the passwords to keep out of every error (`provider.open` passes the config's); default none. */
  secrets?: readonly (string | undefined)[];
}

/**
 * couchbaseError tells whether `err` is the SDK error class `name` (`DocumentNotFoundError`,
 * `DocumentExistsError`, `CasMismatchError`, …). The SDK sets `name` on each of its error classes;
 * matching by name keeps the store free of a load-time dependency on the SDK.
 */
export function couchbaseError(err: unknown, name: string): boolean {
  return err instanceof Error && err.name === name;
}

/** CONFLICT_ERRORS are what a CAS-guarded write rejects with when another writer got there first. */
const CONFLICT_ERRORS = ['DocumentExistsError', 'DocumentNotFoundError', 'CasMismatchError'];

const QUERY_SETUP_ERRORS = ['IndexNotFoundError', 'PlanningFailureError', 'ServiceNotAvailableError', 'FeatureNotAvailableError'];

/** keyspaceOf quotes bucket, scope and collection for SQL++; the default collection is the bucket alone. */
export function keyspaceOf(bucket: string, scope: string, collection: string): string {
  return scope === '_default' && collection === '_default' ? `\`${bucket}\`` : `\`${bucket}\`.\`${scope}\`.\`${collection}\``;
}

/**
 * CouchbaseStore keeps each session as a JSON document `{ "record": … }` under `prefix + sid` with native document
 * expiry, passed to the SDK as an absolute `Date` (so the 30-day relative/absolute rule never
 * applies). The server hides expired documents from reads, at one-second resolution; a `Date` is
 * floored to the second, so a record never outlives its `expiresAt` by the server's clock.
 * compareAndSet uses CAS; count and clear use SQL++ with `request_plus` consistency and need the
 * query service and an index on the keyspace (`CREATE PRIMARY INDEX ON <keyspace>`). Each index
 * key is one document `{ sid: expiresAt }` under `prefix + "index:" + sha256(key)`, changed by a
 * CAS loop and expiring with its latest entry.
 */
export class CouchbaseStore implements Store {
  private readonly now: () => number;
  private readonly prefix: string;
  private readonly query: CouchbaseQuery;
  private readonly keyspace: string;
  private readonly onClose: (() => Promise<void>) | undefined;
  private readonly guard: StoreGuard;

  constructor(
    private readonly collection: CouchbaseCollection,
    options: CouchbaseStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.prefix = options.prefix ?? '';
    this.query = options.query;
    this.keyspace = options.keyspace;
    this.onClose = options.onClose;
    this.guard = new StoreGuard(NAME, { secrets: options.secrets ?? [] });
  }

  async get(sid: string): Promise<string | undefined> {
    const key = this.key(sid);
    const found = await this.guard.run('get', () => this.collection.get(key).catch(orMissing(undefined)));
    return found && text(found.content);
  }

  async set(sid: string, record: string, expiresAt: number): Promise<void> {
    const key = this.key(sid);
    if (expiresAt <= this.now()) return this.destroy(sid);
    await this.guard.run('set', () => this.collection.upsert(key, { record }, { expiry: new Date(expiresAt) }));
  }

  async destroy(sid: string): Promise<void> {
    const key = this.key(sid);
    await this.guard.run('destroy', () => this.collection.remove(key).catch(orMissing(undefined)));
  }

  async compareAndSet(sid: string, expected: string | undefined, record: string, expiresAt: number): Promise<boolean> {
    const key = this.key(sid);
    const past = expiresAt <= this.now();
    // Writing an already-expired record is writing nothing: succeed exactly when none is live.
    if (expected === undefined && past) return (await this.get(sid)) === undefined;
    return this.guard.run('compareAndSet', async () => {
      try {
        if (expected === undefined) {
          await this.collection.insert(key, { record }, { expiry: new Date(expiresAt) });
          return true;
        }
        const current = await this.collection.get(key);
        if (text(current.content) !== expected) return false;
        if (past) await this.collection.remove(key, { cas: current.cas });
        else await this.collection.replace(key, { record }, { expiry: new Date(expiresAt), cas: current.cas });
        return true;
      } catch (cause) {
        if (CONFLICT_ERRORS.some((name) => couchbaseError(cause, name))) return false;
        throw cause;
      }
    });
  }

  async touch(sid: string, expiresAt: number): Promise<void> {
    const key = this.key(sid);
    if (expiresAt <= this.now()) return this.destroy(sid);
    await this.guard.run('touch', () => this.collection.touch(key, new Date(expiresAt)).catch(orMissing(undefined)));
  }

  /**
   * regenerate reads the old document with its expiry, removes it under its CAS (so of two
   * concurrent regenerates only one proceeds, and a concurrent write makes it read again), then
   * inserts the data under the new key with the same expiry. It is not one atomic step: if the
   * insert fails, the old document is put back.
   */
  async regenerate(oldSid: string, newSid: string): Promise<void> {
    const oldKey = this.key(oldSid);
    const newKey = this.key(newSid);
    await this.guard.run('regenerate', async () => {
      for (let attempt = 0; ; attempt++) {
        let content: string;
        let expiry: Date | undefined;
        try {
          const current = await this.collection.get(oldKey, { withExpiry: true });
          content = text(current.content);
          expiry = current.expiryTime ? new Date(current.expiryTime * 1000) : undefined;
          await this.collection.remove(oldKey, { cas: current.cas });
        } catch (cause) {
          if (couchbaseError(cause, 'DocumentNotFoundError')) return;
          if (couchbaseError(cause, 'CasMismatchError') && attempt < 3) continue;
          throw cause;
        }
        try {
          await this.collection.insert(newKey, { record: content }, expiry ? { expiry } : {});
          return;
        } catch (cause) {
          await this.collection.insert(oldKey, { record: content }, expiry ? { expiry } : {}).catch(() => undefined);
          throw couchbaseError(cause, 'DocumentExistsError') ? idTaken(NAME) : cause;
        }
      }
    });
  }

  /** indexAdd is `get` + a CAS-guarded `replace` (or `insert` for a new index key), retried on conflict. */
  async indexAdd(key: string, sid: string, expiresAt: number): Promise<void> {
    await this.guard.run('indexAdd', () => addEntry(NAME, this.indexDocument(key), sid, expiresAt, this.now));
  }

  /** indexRemove is `get` + a CAS-guarded `replace`, or `remove` once the last entry goes; a missing entry is one `get`. */
  async indexRemove(key: string, sid: string): Promise<void> {
    await this.guard.run('indexRemove', () => removeEntry(NAME, this.indexDocument(key), sid, this.now));
  }

  /** indexList is one `get`; expired entries are left out by the store's clock. */
  async indexList(key: string): Promise<string[]> {
    return this.guard.run('indexList', () => listEntries(this.indexDocument(key), this.now));
  }

  /**
   * count runs `SELECT RAW COUNT(*)` over this store's session keys whose expiration is still
   * ahead; the key range ends before `prefix + "index:"`, so index documents are never counted.
   */
  async count(): Promise<number> {
    const statement =
      `SELECT RAW COUNT(*) FROM ${this.keyspace} AS d WHERE META(d).id >= $lo AND META(d).id < $hi ` +
      'AND REGEXP_CONTAINS(META(d).id, $pattern) AND META(d).expiration > $now';
    const [n] = await this.statement('count', statement, { ...this.keyRange(false), now: Math.floor(this.now() / 1000) });
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw this.guard.fail('count', new Error('the query returned no count'));
    return n;
  }

  /** clear deletes, in one statement, every document whose key is this store's prefix followed by a session id or an index document name. */
  async clear(): Promise<void> {
    const statement =
      `DELETE FROM ${this.keyspace} AS d WHERE META(d).id >= $lo AND META(d).id < $hi ` + 'AND REGEXP_CONTAINS(META(d).id, $pattern)';
    await this.statement('clear', statement, this.keyRange(true));
  }

  /** close runs `onClose` once; later calls reject with `ERR_SESSION_CLOSED`. */
  async close(): Promise<void> {
    await this.guard.close(async () => this.onClose?.());
  }

  private key(sid: string): string {
    assertValidId(sid, NAME);
    return this.prefix + sid;
  }

  /**
   * keyRange selects this store's keys: ids are lowercase hex, all below `g`, so the range
   * `[prefix, prefix + 'g')` can use the index, and the anchored pattern makes the match exact.
   * With `withIndex` it also selects the index documents, `prefix + "index:…"`, which sort below
   * `prefix + "index;"`.
   */
  private keyRange(withIndex: boolean): Record<string, string> {
    const prefix = this.prefix.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
    return {
      lo: this.prefix,
      hi: withIndex ? `${this.prefix}index;` : `${this.prefix}g`,
      pattern: withIndex ? `^${prefix}(?:[0-9a-f]{32,128}|${INDEX_DOCUMENT_PATTERN})$` : `^${prefix}[0-9a-f]{32,128}$`,
    };
  }

  /**
   * indexDocument gives the CAS loop of providers/shared/index-document.ts its access to the document of one
   * index key. Its expiry is the latest entry's, rounded up to the second so that the document never
   * goes before a live entry; a conflict (the document appeared, changed or went away) reads as `false`.
   */
  private indexDocument(indexKey: string): IndexDocument<unknown> {
    const key = indexDocumentKey(NAME, this.prefix, indexKey);
    const expiry = (expiresAt: number) => new Date(Math.ceil(expiresAt / 1000) * 1000);
    const conflict = (cause: unknown) => {
      if (CONFLICT_ERRORS.some((name) => couchbaseError(cause, name))) return false;
      throw cause;
    };
    const written = () => true;
    return {
      read: async () => {
        try {
          const { content, cas } = await this.collection.get(key);
          return { entries: readEntries(content), cas };
        } catch (cause) {
          if (couchbaseError(cause, 'DocumentNotFoundError')) return undefined;
          throw cause;
        }
      },
      create: (entries, expiresAt) => this.collection.insert(key, entriesDocument(entries), { expiry: expiry(expiresAt) }).then(written, conflict),
      replace: (entries, expiresAt, cas) =>
        this.collection.replace(key, entriesDocument(entries), { expiry: expiry(expiresAt), cas }).then(written, conflict),
      remove: (cas) => this.collection.remove(key, { cas }).then(written, conflict),
    };
  }

  /** statement runs one SQL++ statement and returns its rows; a cluster without the query service or an index gets a message saying so. */
  private statement(action: string, statement: string, parameters: Record<string, string | number>): Promise<unknown[]> {
    return this.guard.run(action, async () => {
      try {
        return (await this.query(statement, { parameters, scanConsistency: 'request_plus' })).rows;
      } catch (cause) {
        if (!QUERY_SETUP_ERRORS.some((name) => couchbaseError(cause, name))) throw cause;
        throw this.guard.fail(action, new Error(`it needs the query service and an index on ${this.keyspace} (CREATE PRIMARY INDEX ON ${this.keyspace})`, { cause }));
      }
    });
  }
}

/** orMissing makes a call that rejects because the document is not there resolve `value`; other errors pass. */
function orMissing<T>(value: T): (cause: unknown) => T {
  return (cause) => {
    if (couchbaseError(cause, 'DocumentNotFoundError')) return value;
    throw cause;
  };
}

/**
 * text returns the record of a {@link SessionDocument}. A document of another shape under a session
 * key comes back as its JSON text, which the core codec then treats as a corrupt record.
 */
function text(content: unknown): string {
  const record = (content as Partial<SessionDocument> | null)?.record;
  if (typeof record === 'string') return record;
  return Buffer.isBuffer(content) ? content.toString('utf8') : JSON.stringify(content);
}

interface ClusterLike {
  bucket(name: string): { scope(name: string): { collection(name: string): CouchbaseCollection } };
  query(statement: string, options: object): Promise<{ rows: unknown[] }>;
  close(): Promise<void>;
}

interface CouchbaseModule {
  connect(connectionString: string, options: object): Promise<ClusterLike>;
}

/**
 * provider opens a {@link CouchbaseStore}: it loads the `couchbase` SDK, connects with
 * {@link SDK_TIMEOUTS}, and reads a probe key so that a cluster that is down, a wrong password or a
 * missing bucket fails `open` within seconds, naming the address and bucket but never the password.
 */
export const provider: Provider = {
  async open(config: string, options: OpenOptions): Promise<Store> {
    const parsed = parseConfig(config);
    const loaded = await loadOptional<CouchbaseModule & { default?: CouchbaseModule }>(NAME, 'couchbase');
    const sdk = loaded.default ?? loaded;
    const where = `${parsed.connectionString} bucket ${parsed.bucket}`;
    let cluster: ClusterLike | undefined;
    try {
      cluster = await sdk.connect(parsed.connectionString, {
        ...(parsed.username === undefined ? {} : { username: parsed.username, password: parsed.password ?? '' }),
        timeouts: SDK_TIMEOUTS,
      });
      const collection = cluster.bucket(parsed.bucket).scope(parsed.scope).collection(parsed.collection);
      await collection.get(`${parsed.prefix}sessionkit-probe`).catch((err: unknown) => {
        if (!couchbaseError(err, 'DocumentNotFoundError')) throw err;
      });
      const owned = cluster;
      return new CouchbaseStore(collection, {
        query: (statement, queryOptions) => owned.query(statement, queryOptions),
        keyspace: keyspaceOf(parsed.bucket, parsed.scope, parsed.collection),
        prefix: parsed.prefix,
        now: options.now,
        onClose: () => owned.close(),
        secrets: [parsed.password],
      });
    } catch (cause) {
      await cluster?.close().catch(() => undefined);
      throw failure(NAME, `cannot open ${where}`, cause, [parsed.password]);
    }
  },
};

register('couchbase', provider);
