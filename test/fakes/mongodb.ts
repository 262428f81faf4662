/**
 * FakeMongoCollection is an in-process stand-in for the driver's `Collection<SessionDocument>`
 * and `Collection<IndexEntryDocument>`, implementing exactly the calls `MongoStore` makes on each. No
 * MongoDB server is available to this project's tests, so each method reproduces the documented
 * server behaviour it relies on:
 *
 * - every method resolves on a later tick (`setImmediate`) and applies its effect atomically at
 *   that moment, as the server applies a single-document write atomically; concurrent calls
 *   therefore interleave for real (20 racing `updateOne`s: the first applied matches, the others
 *   find the record changed).
 * - every filter, update and document crosses the wire as BSON, through the driver's own
 *   serializer: strings travel as UTF-8, so a lone surrogate arrives as U+FFFD and two strings that
 *   differ only there become equal, in stored documents and in filters alike.
 * - filters: `{}` matches all; a plain value is equality (Dates by time); `{ $gt: Date }` and
 *   `{ $lte: Date }` compare Dates, and never match a field of another type (BSON type
 *   bracketing); any other operator throws, so the store cannot rely on something unmodelled.
 * - `findOne(filter, { projection })`: first match or `null`; the projection keeps `_id` and the
 *   listed fields.
 * - `find(filter, { projection })` returns a cursor at once and does no I/O; its `toArray()` runs
 *   the query (one request; the fake has no batches) and resolves every match, projected as above.
 * - `findOneAndDelete(filter)`: removes and returns the first match, or `null` (driver ≥ 6 returns
 *   the document itself, not a `{ value }` wrapper).
 * - `insertOne(doc)`: an existing `_id` rejects with a `MongoServerError` code 11000 (E11000).
 * - `updateOne(filter, { $set }, { upsert })`: updates the first match (`matchedCount: 1`);
 *   with no match and `upsert`, inserts a document built from the filter's equality fields plus
 *   `$set`; if that `_id` already exists (the filter missed a live document, or another upsert won
 *   the race) it rejects with E11000, as a unique `_id` index does. A filter of `_id` equality alone
 *   always finds the winner, because each call applies atomically; the server (≥ 4.2) likewise
 *   retries internally an upsert whose filter is equality on exactly the unique index's fields.
 * - `deleteOne`/`deleteMany` report `deletedCount`; `countDocuments(filter)` counts matches exactly.
 * - TTL: documents are NOT deleted when `expiresAt` passes. The real TTL monitor runs about every
 *   60 s; here it runs only when a test calls `runTtlMonitor()`, using the test clock.
 * - `down = true` makes every call reject with a `MongoNetworkError`, as when the server goes away;
 *   setting it back to `false` makes calls succeed again (the driver reconnects by itself).
 */
import { BSON, MongoNetworkError, MongoServerError } from 'mongodb';
import type { SessionDocument } from 'sessionkit/providers/mongodb';

type Filter = Record<string, unknown>;
type Projection = Record<string, 0 | 1>;

/** FakeDocument is what every document of a fake collection has: a string `_id` and a Date `expiresAt`. */
export interface FakeDocument {
  _id: string;
  expiresAt: Date;
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function duplicateKey(id: string): MongoServerError {
  const message = `E11000 duplicate key error collection: sessionkit.sessions index: _id_ dup key: { _id: "${id}" }`;
  return new MongoServerError({ message, errmsg: message, code: 11000, codeName: 'DuplicateKey' });
}

/** wire returns `value` as the server receives it: serialized to BSON by the driver and read back. */
function wire<V>(value: V): V {
  return BSON.deserialize(BSON.serialize({ value })).value as V;
}

function matchesValue(actual: unknown, condition: unknown): boolean {
  if (condition instanceof Date) return actual instanceof Date && actual.getTime() === condition.getTime();
  if (condition !== null && typeof condition === 'object') {
    const entries = Object.entries(condition as Record<string, unknown>);
    if (entries.length === 0 || !entries.every(([op]) => op.startsWith('$'))) {
      throw new Error(`fake mongodb: unsupported filter value ${JSON.stringify(condition)}`);
    }
    return entries.every(([op, operand]) => {
      if (!(operand instanceof Date)) throw new Error(`fake mongodb: ${op} is modelled for Dates only`);
      if (!(actual instanceof Date)) return false;
      if (op === '$gt') return actual.getTime() > operand.getTime();
      if (op === '$lte') return actual.getTime() <= operand.getTime();
      throw new Error(`fake mongodb: unsupported operator ${op}`);
    });
  }
  return actual === condition;
}

function matches(doc: FakeDocument, filter: Filter): boolean {
  return Object.entries(filter).every(([field, condition]) => matchesValue((doc as unknown as Filter)[field], condition));
}

function copy<T extends FakeDocument>(doc: T): T {
  return { ...doc, expiresAt: new Date(doc.expiresAt.getTime()) };
}

/** project keeps `_id` and the fields the projection turns on, as an inclusion projection does. */
function project<T extends FakeDocument>(doc: T, projection: Projection | undefined): T {
  if (!projection) return copy(doc);
  const out: Record<string, unknown> = { _id: doc._id };
  for (const [field, on] of Object.entries(projection)) if (on) out[field] = copy(doc)[field as keyof T];
  return out as T;
}

/**
 * FakeMongoCollection: see the module comment for the driver behaviour each method reproduces.
 * `T` is the document shape: {@link SessionDocument} by default, `IndexEntryDocument` for an index collection.
 */
export class FakeMongoCollection<T extends FakeDocument = SessionDocument> {
  /** docs is the collection's content, keyed by `_id`; tests may inspect it. */
  readonly docs = new Map<string, T>();
  /** down makes every call reject with a network error until it is set back to false. */
  down = false;
  /** calls counts the driver calls made, by method name. */
  readonly calls = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** runTtlMonitor does one pass of the TTL monitor: deletes documents whose expiresAt ≤ now. */
  runTtlMonitor(): number {
    let removed = 0;
    for (const [id, doc] of this.docs) {
      if (doc.expiresAt.getTime() <= this.now()) {
        this.docs.delete(id);
        removed++;
      }
    }
    return removed;
  }

  async findOne(filter: Filter, options?: { projection?: Projection }): Promise<T | null> {
    await this.enter('findOne');
    filter = wire(filter);
    const doc = this.first(filter);
    return doc ? project(doc, options?.projection) : null;
  }

  find(filter: Filter, options?: { projection?: Projection }): { toArray(): Promise<T[]> } {
    return {
      toArray: async () => {
        await this.enter('find');
        filter = wire(filter);
        return [...this.docs.values()].filter((doc) => matches(doc, filter)).map((doc) => project(doc, options?.projection));
      },
    };
  }

  async findOneAndDelete(filter: Filter): Promise<T | null> {
    await this.enter('findOneAndDelete');
    filter = wire(filter);
    const doc = this.first(filter);
    if (!doc) return null;
    this.docs.delete(doc._id);
    return copy(doc);
  }

  async insertOne(doc: T): Promise<{ acknowledged: true; insertedId: string }> {
    await this.enter('insertOne');
    doc = wire(doc);
    if (this.docs.has(doc._id)) throw duplicateKey(doc._id);
    this.docs.set(doc._id, copy(doc));
    return { acknowledged: true, insertedId: doc._id };
  }

  async updateOne(
    filter: Filter,
    update: { $set: Partial<T> },
    options?: { upsert?: boolean },
  ): Promise<{ acknowledged: true; matchedCount: number; modifiedCount: number; upsertedCount: number; upsertedId: string | null }> {
    await this.enter('updateOne');
    [filter, update] = [wire(filter), wire(update)];
    const keys = Object.keys(update);
    if (keys.length !== 1 || keys[0] !== '$set') throw new Error(`fake mongodb: only $set updates are modelled, got ${keys.join(', ')}`);
    if ('_id' in update.$set) throw new Error('fake mongodb: $set may not change _id');
    const doc = this.first(filter);
    if (doc) {
      Object.assign(doc, update.$set);
      return { acknowledged: true, matchedCount: 1, modifiedCount: 1, upsertedCount: 0, upsertedId: null };
    }
    if (!options?.upsert) return { acknowledged: true, matchedCount: 0, modifiedCount: 0, upsertedCount: 0, upsertedId: null };
    const equality = Object.fromEntries(
      Object.entries(filter).filter(([, value]) => value === null || typeof value !== 'object' || value instanceof Date),
    );
    const created = { ...equality, ...update.$set } as unknown as T;
    if (typeof created._id !== 'string') throw new Error('fake mongodb: upsert without an _id equality is not modelled');
    if (this.docs.has(created._id)) throw duplicateKey(created._id);
    this.docs.set(created._id, copy(created));
    return { acknowledged: true, matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: created._id };
  }

  async deleteOne(filter: Filter): Promise<{ acknowledged: true; deletedCount: number }> {
    await this.enter('deleteOne');
    filter = wire(filter);
    const doc = this.first(filter);
    if (doc) this.docs.delete(doc._id);
    return { acknowledged: true, deletedCount: doc ? 1 : 0 };
  }

  async deleteMany(filter: Filter): Promise<{ acknowledged: true; deletedCount: number }> {
    await this.enter('deleteMany');
    filter = wire(filter);
    let deletedCount = 0;
    for (const doc of [...this.docs.values()]) {
      if (matches(doc, filter)) {
        this.docs.delete(doc._id);
        deletedCount++;
      }
    }
    return { acknowledged: true, deletedCount };
  }

  async countDocuments(filter: Filter): Promise<number> {
    await this.enter('countDocuments');
    filter = wire(filter);
    return [...this.docs.values()].filter((doc) => matches(doc, filter)).length;
  }

  private async enter(method: string): Promise<void> {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    await tick();
    if (this.down) throw new MongoNetworkError('connection 3 to 127.0.0.1:27017 closed');
  }

  private first(filter: Filter): T | undefined {
    if (typeof filter._id === 'string') {
      const doc = this.docs.get(filter._id);
      return doc && matches(doc, filter) ? doc : undefined;
    }
    for (const doc of this.docs.values()) if (matches(doc, filter)) return doc;
    return undefined;
  }
}
