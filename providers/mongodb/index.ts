import { configError, parseHostListUrl } from '../shared/dsn.ts';
import { indexKeyHash } from '../shared/index-key.ts';
import { assertValidId } from '../../src/id.ts';
import { loadOptional } from '../shared/load.ts';
import type { OpenOptions, Provider, Store } from '../../src/provider.ts';
import { register } from '../../src/registry.ts';
import { failure, idTaken, StoreGuard } from '../shared/errors.ts';
import { redact } from '../shared/redact.ts';
import { parseConfig } from './config.ts';

export { DEFAULT_COLLECTION, DEFAULT_DATABASE, parseConfig, type MongoOptions } from './config.ts';

const NAME = 'mongodb';

/** indexCollectionName names the collection that holds the index of the session collection `collection`: `<collection>_index`. */
export const indexCollectionName = (collection: string): string => `${collection}_index`;

/**
 * DRIVER_DEFAULTS are the timeouts sessionkit gives the driver unless the URL sets them: a server
 * that is down fails `open` and each call within seconds instead of the driver's 30 s, and a
 * server that stops answering mid-request cannot hang it forever.
 */
export const DRIVER_DEFAULTS = { serverSelectionTimeoutMS: 3000, connectTimeoutMS: 3000, socketTimeoutMS: 10_000 } as const;

/**
 * SessionDocument is how one session is kept: `_id` is the session id, `record` the opaque record,
 * `expiresAt` a BSON date watched by a TTL index.
 */
export interface SessionDocument {
  _id: string;
  record: string;
  expiresAt: Date;
}

/**
 * IndexEntryDocument is one index entry: session `sid` filed under an index key until `expiresAt`.
 * `key` is the key's digest (see {@link indexDigest}) and `_id` is `<digest>:<sid>`, so filing
 * the same id again is an upsert of the same document.
 */
export interface IndexEntryDocument {
  _id: string;
  key: string;
  sid: string;
  expiresAt: Date;
}

type Filter = Record<string, unknown>;

/**
 * MongoCollection is the part of the driver's `Collection<SessionDocument>` that {@link MongoStore}
 * calls; the driver's collection satisfies it, and tests pass an in-process fake.
 */
export interface MongoCollection {
  findOne(filter: Filter, options?: { projection?: Record<string, 0 | 1> }): Promise<SessionDocument | null>;
  findOneAndDelete(filter: Filter): Promise<SessionDocument | null>;
  insertOne(doc: SessionDocument): Promise<unknown>;
  updateOne(filter: Filter, update: { $set: Partial<SessionDocument> }, options?: { upsert?: boolean }): Promise<{ matchedCount: number; upsertedCount: number }>;
  deleteOne(filter: Filter): Promise<{ deletedCount: number }>;
  deleteMany(filter: Filter): Promise<{ deletedCount: number }>;
  countDocuments(filter: Filter): Promise<number>;
}

/**
 * MongoIndexCollection is the part of the driver's `Collection<IndexEntryDocument>` that the index of
 * {@link MongoStore} calls; the driver's collection satisfies it, and tests pass an in-process fake.
 */
export interface MongoIndexCollection {
  find(filter: Filter, options?: { projection?: Record<string, 0 | 1> }): { toArray(): Promise<Array<Pick<IndexEntryDocument, 'sid'>>> };
  updateOne(filter: Filter, update: { $set: Partial<IndexEntryDocument> }, options?: { upsert?: boolean }): Promise<unknown>;
  deleteOne(filter: Filter): Promise<unknown>;
  deleteMany(filter: Filter): Promise<unknown>;
}

/** MongoStoreOptions configure a {@link MongoStore} beyond its collection. */
export interface MongoStoreOptions {
  /** now returns epoch ms; every expiry decision uses it (default `Date.now`). */
  now?: () => number;
  /** onClose runs once on the first `close()`, e.g. to close the client that owns the collection. */
  onClose?: () => Promise<void>;
  /** secrets are the passwords to keep out of every error (`provider.open` passes the URL's); default none. */
  secrets?: readonly (string | undefined)[];
  /**
   * index is the collection of index entries (`provider.open` uses `<collection>_index`). Without
   * it the store has no `indexAdd`, `indexRemove` or `indexList`, and the Manager's user-session
   * features report `ERR_SESSION_UNSUPPORTED`.
   */
  index?: MongoIndexCollection;
}

/**
 * indexDigest names an index key by the sha256 of its UTF-16 code units, base64url (43
 * characters). BSON strings are UTF-8, which folds lone surrogates into one replacement character;
 * the digest keeps every key apart, and a key is only ever compared as a plain string, never as a
 * query operator. A key that is not a non-empty string of at most 512 characters is refused.
 */
export function indexDigest(key: string): string {
  return indexKeyHash(NAME, key).toString('base64url');
}

/** isDuplicateKey tells whether `err` is MongoDB's E11000 duplicate key error, from the server or a bulk write. */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}

/**
 * MongoStore keeps one {@link SessionDocument} per session. Every read filters on
 * `expiresAt > now`, because the TTL monitor deletes expired documents only about once a minute.
 * compareAndSet is a conditional `updateOne`, so 20 racing writers produce exactly one match.
 * Given an index collection, it also keeps one {@link IndexEntryDocument} per index entry there.
 */
export class MongoStore implements Store {
  /** indexAdd files `sid` under `key` with one upsert; present only with an index collection. */
  readonly indexAdd?: (key: string, sid: string, expiresAt: number) => Promise<void>;
  /** indexRemove deletes the entry of `sid` under `key`; present only with an index collection. */
  readonly indexRemove?: (key: string, sid: string) => Promise<void>;
  /** indexList finds the live entries of `key` through its index; present only with an index collection. */
  readonly indexList?: (key: string) => Promise<string[]>;
  private readonly now: () => number;
  private readonly index: MongoIndexCollection | undefined;
  private readonly onClose: (() => Promise<void>) | undefined;
  private readonly guard: StoreGuard;

  constructor(
    private readonly collection: MongoCollection,
    options: MongoStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.onClose = options.onClose;
    this.guard = new StoreGuard(NAME, { secrets: options.secrets ?? [] });
    const index = (this.index = options.index);
    if (index) {
      this.indexAdd = (key, sid, expiresAt) => this.addEntry(index, key, sid, expiresAt);
      this.indexRemove = (key, sid) => this.removeEntry(index, key, sid);
      this.indexList = (key) => this.listEntries(index, key);
    }
  }

  async get(sid: string): Promise<string | undefined> {
    assertValidId(sid, NAME);
    const doc = await this.guard.run('get', () => this.collection.findOne(this.live(sid), { projection: { record: 1 } }));
    return doc?.record;
  }

  async set(sid: string, record: string, expiresAt: number): Promise<void> {
    assertValidId(sid, NAME);
    if (expiresAt <= this.now()) return this.destroy(sid);
    await this.guard.run('set', () => this.collection.updateOne({ _id: sid }, { $set: { record, expiresAt: new Date(expiresAt) } }, { upsert: true }));
  }

  async destroy(sid: string): Promise<void> {
    assertValidId(sid, NAME);
    await this.guard.run('destroy', () => this.collection.deleteOne({ _id: sid }));
  }

  async compareAndSet(sid: string, expected: string | undefined, record: string, expiresAt: number): Promise<boolean> {
    assertValidId(sid, NAME);
    const update = { $set: { record, expiresAt: new Date(expiresAt) } };
    return this.guard.run('compareAndSet', async () => {
      if (expected !== undefined) {
        const result = await this.collection.updateOne({ ...this.live(sid), record: expected }, update);
        return result.matchedCount === 1;
      }
      // Matches only an expired leftover; with no document at all the upsert inserts, and with a
      // live one it also tries to insert and the unique _id refuses it with E11000.
      try {
        await this.collection.updateOne({ _id: sid, expiresAt: { $lte: new Date(this.now()) } }, update, { upsert: true });
        return true;
      } catch (cause) {
        if (isDuplicateKey(cause)) return false;
        throw cause;
      }
    });
  }

  async touch(sid: string, expiresAt: number): Promise<void> {
    assertValidId(sid, NAME);
    await this.guard.run('touch', () => this.collection.updateOne(this.live(sid), { $set: { expiresAt: new Date(expiresAt) } }));
  }

  /**
   * regenerate takes the old document with `findOneAndDelete`, so of two concurrent regenerates
   * only one gets the data, then writes it under the new id with the upsert `compareAndSet` uses:
   * it replaces an expired leftover the TTL monitor has not removed yet, and a live document
   * refuses it with E11000. The two steps are not one transaction: if the write fails, the old
   * document is put back.
   */
  async regenerate(oldSid: string, newSid: string): Promise<void> {
    assertValidId(oldSid, NAME);
    assertValidId(newSid, NAME);
    await this.guard.run('regenerate', async () => {
      const doc = await this.collection.findOneAndDelete(this.live(oldSid));
      if (doc === null) return;
      try {
        const moved = { $set: { record: doc.record, expiresAt: doc.expiresAt } };
        await this.collection.updateOne({ _id: newSid, expiresAt: { $lte: new Date(this.now()) } }, moved, { upsert: true });
      } catch (cause) {
        await this.collection.insertOne(doc).catch(() => undefined);
        throw isDuplicateKey(cause) ? idTaken(NAME) : cause;
      }
    });
  }

  async count(): Promise<number> {
    return this.guard.run('count', () => this.collection.countDocuments({ expiresAt: { $gt: new Date(this.now()) } }));
  }

  /** clear empties this store's collection, which holds nothing but sessions, and its index collection. */
  async clear(): Promise<void> {
    await this.guard.run('clear', async () => {
      await this.collection.deleteMany({});
      await this.index?.deleteMany({});
    });
  }

  /** gc deletes expired sessions and index entries now instead of waiting for the TTL monitor's next pass. */
  async gc(): Promise<void> {
    const expired = { expiresAt: { $lte: new Date(this.now()) } };
    await this.guard.run('gc', async () => {
      await this.collection.deleteMany(expired);
      await this.index?.deleteMany(expired);
    });
  }

  /** close runs `onClose` once; later calls reject with `ERR_SESSION_CLOSED`. */
  async close(): Promise<void> {
    await this.guard.close(async () => this.onClose?.());
  }

  private live(sid: string): Filter {
    return { _id: sid, expiresAt: { $gt: new Date(this.now()) } };
  }

  /*
   * The index keeps one IndexEntryDocument per entry in its own collection: a TTL index on
   * `expiresAt` removes them, an index on `key` serves the listing, and every call is one request.
   * Each id is its own document, so concurrent adds under one key never contend; reads filter on
   * `expiresAt > now` like the sessions.
   */

  private async addEntry(index: MongoIndexCollection, key: string, sid: string, expiresAt: number): Promise<void> {
    const digest = indexDigest(key);
    assertValidId(sid, NAME);
    if (expiresAt <= this.now()) return this.removeEntry(index, key, sid);
    const update = { $set: { key: digest, sid, expiresAt: new Date(expiresAt) } };
    await this.guard.run('indexAdd', () => index.updateOne({ _id: `${digest}:${sid}` }, update, { upsert: true }));
  }

  private async removeEntry(index: MongoIndexCollection, key: string, sid: string): Promise<void> {
    const digest = indexDigest(key);
    assertValidId(sid, NAME);
    await this.guard.run('indexRemove', () => index.deleteOne({ _id: `${digest}:${sid}` }));
  }

  private async listEntries(index: MongoIndexCollection, key: string): Promise<string[]> {
    const digest = indexDigest(key);
    const docs = await this.guard.run('indexList', () => index.find({ key: digest, expiresAt: { $gt: new Date(this.now()) } }, { projection: { sid: 1 } }).toArray());
    return docs.map((doc) => doc.sid);
  }
}

interface MongoClientLike {
  connect(): Promise<unknown>;
  close(): Promise<void>;
  on(event: 'error', listener: (err: unknown) => void): unknown;
  db(name: string): {
    collection<T>(name: string): T & {
      createIndex(spec: Record<string, 1>, options: { expireAfterSeconds?: number; name: string }): Promise<string>;
    };
  };
}

interface MongoModule {
  MongoClient: new (url: string, options: Record<string, unknown>) => MongoClientLike;
}

function driverDefaults(url: string): Record<string, number> {
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1).toLowerCase() : '';
  const given = new Set(query.split('&').map((pair) => pair.split('=')[0]));
  return Object.fromEntries(Object.entries(DRIVER_DEFAULTS).filter(([key]) => !given.has(key.toLowerCase())));
}

/** TTL is the options of the TTL index on `expiresAt`: documents go once their expiry has passed. */
const TTL = { expireAfterSeconds: 0, name: 'expiresAt_ttl' };

/**
 * provider opens a {@link MongoStore}: it loads the `mongodb` driver, connects (failing within
 * about 3 s when no server answers, naming the address but never the password), and creates the
 * indexes it relies on if they are missing: the TTL index `expiresAt_ttl` (`expireAfterSeconds: 0`)
 * on the session collection and on its index collection `<collection>_index`, and `key` there.
 */
export const provider: Provider = {
  async open(config: string, options: OpenOptions): Promise<Store> {
    const parsed = parseConfig(config);
    const password = parseHostListUrl(NAME, parsed.url, ['mongodb', 'mongodb+srv']).password;
    const { MongoClient } = await loadOptional<MongoModule>(NAME, 'mongodb');
    let client: MongoClientLike;
    try {
      client = new MongoClient(parsed.url, driverDefaults(parsed.url));
    } catch (cause) {
      throw configError(NAME, `the driver refused the url for ${parsed.address}: ${redact(String((cause as Error)?.message ?? cause), [password])}`);
    }
    client.on('error', () => undefined);
    try {
      await client.connect();
      const db = client.db(parsed.database);
      const collection = db.collection<MongoCollection>(parsed.collection);
      const index = db.collection<MongoIndexCollection>(indexCollectionName(parsed.collection));
      await Promise.all([
        collection.createIndex({ expiresAt: 1 }, TTL),
        index.createIndex({ expiresAt: 1 }, TTL),
        index.createIndex({ key: 1 }, { name: 'key' }),
      ]);
      return new MongoStore(collection, { now: options.now, index, secrets: [password], onClose: () => client.close() });
    } catch (cause) {
      await client.close().catch(() => undefined);
      throw failure(NAME, `cannot open ${parsed.address} (database ${parsed.database})`, cause, [password]);
    }
  },
};

register('mongodb', provider);
