/**
 * FakeCouchbase is an in-process stand-in for one Couchbase collection and the cluster's SQL++
 * query call, implementing exactly the calls `CouchbaseStore` makes. No Couchbase server is
 * available to this project's tests, so each method reproduces the documented behaviour of the
 * `couchbase` SDK 4.7.0 and the server that the store relies on:
 *
 * - every method resolves on a later tick (`setImmediate`) and applies its effect atomically at
 *   that moment, as the data service applies one document mutation atomically; concurrent calls
 *   interleave for real (20 racing `replace`s with one CAS: the first applied wins).
 * - errors are the SDK's own classes (`DocumentNotFoundError`, `DocumentExistsError`,
 *   `CasMismatchError`, `PlanningFailureError`, `UnambiguousTimeoutError`, `InvalidArgumentError`),
 *   constructed from the installed `couchbase` package.
 * - CAS: every mutation (insert, upsert, replace, touch) gives the document a new CAS; a `cas`
 *   option that differs from the current one rejects with `CasMismatchError`.
 * - expiry: the `expiry` option follows the SDK's `parseExpiry`: a `Date` is an absolute time
 *   floored to whole seconds (it must lie in 1970-01-31 .. 2106-02-07); a number is seconds from now
 *   (0 = none). The server hides a document once `expiry <= current second`; the fake checks this
 *   on every access with the test clock and then treats the document as absent (get/replace/touch/
 *   remove → `DocumentNotFoundError`, insert succeeds). `upsert` and `replace` without `expiry`
 *   reset it to none, as the server does unless `preserveExpiry` is set.
 * - documents are JSON: a value is stored as its JSON text and `get` returns a fresh parse;
 *   `get(key, { withExpiry: true })` also returns `expiryTime` in epoch seconds (0: none). The
 *   server does not care what a document holds, so index documents (`{ sid: expiresAt }`) go
 *   through the same calls, with the same CAS and expiry rules, as session documents; nothing was
 *   added to model them.
 * - `query(statement, { parameters, scanConsistency })`: only the two statements the store sends
 *   are understood (count and delete over a key range, an anchored key pattern and, for count,
 *   `META(d).expiration > $now`). Range and pattern are parameters applied as given, the range by
 *   string comparison of the (ASCII) keys and the pattern as a JavaScript RegExp: the store sends
 *   only classes, counted repeats, `(?:…|…)` and `^…$`, which the server's RE2 reads the same way.
 *   `request_plus` is required, since without it the index may not yet hold recent writes. With
 *   `primaryIndex = false` it rejects with `PlanningFailureError`, as the query service does when
 *   no index covers the keyspace. The statement text itself is SQL++ that only a real server can
 *   check.
 * - `down = true` makes every call reject with `UnambiguousTimeoutError`, as when the cluster is
 *   unreachable; setting it back lets calls succeed again (the SDK reconnects by itself).
 */
import {
  CasMismatchError,
  DocumentExistsError,
  DocumentNotFoundError,
  InvalidArgumentError,
  PlanningFailureError,
  UnambiguousTimeoutError,
} from 'couchbase';
import type { CouchbaseCollection, CouchbaseQuery, IndexDocumentBody, SessionDocument } from 'sessionkit/providers/couchbase';

/** FakeCas is an opaque CAS value, as the SDK's `Cas` is. */
export class FakeCas {
  constructor(readonly value: number) {}
  toString(): string {
    return String(this.value);
  }
}

interface FakeDocument {
  json: string;
  cas: FakeCas;
  /** expiry in epoch seconds; 0 means none. */
  expiry: number;
}

const MIN_DATE_MS = Date.parse('1970-01-31T00:00:01Z');
const MAX_DATE_MS = Date.parse('2106-02-07T06:28:15Z');

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const COUNT = /^SELECT RAW COUNT\(\*\) FROM (\S+) AS d WHERE META\(d\)\.id >= \$lo AND META\(d\)\.id < \$hi AND REGEXP_CONTAINS\(META\(d\)\.id, \$pattern\) AND META\(d\)\.expiration > \$now$/;
const DELETE = /^DELETE FROM (\S+) AS d WHERE META\(d\)\.id >= \$lo AND META\(d\)\.id < \$hi AND REGEXP_CONTAINS\(META\(d\)\.id, \$pattern\)$/;

/** FakeCouchbase: see the module comment for the SDK and server behaviour each method reproduces. */
export class FakeCouchbase {
  /** docs is the collection's content by key; tests may inspect it (expired documents stay until accessed). */
  readonly docs = new Map<string, FakeDocument>();
  /** down makes every call reject with a timeout until it is set back to false. */
  down = false;
  /** primaryIndex false makes queries fail as they do on a keyspace without an index. */
  primaryIndex = true;
  /** statements records the SQL++ statements received, with their keyspace. */
  readonly statements: string[] = [];
  /** collection is the fake `Collection`. */
  readonly collection: CouchbaseCollection;
  /** query is the fake `cluster.query`. */
  readonly query: CouchbaseQuery;
  private casCounter = 1000;

  constructor(private readonly now: () => number = Date.now) {
    this.collection = {
      get: async (key, options) => {
        await this.enter();
        const doc = this.live(key);
        return { content: JSON.parse(doc.json), cas: doc.cas, ...(options?.withExpiry ? { expiryTime: doc.expiry } : {}) };
      },
      insert: async (key, value, options) => {
        const expiry = this.expiry(options?.expiry);
        await this.enter();
        if (this.find(key)) throw new DocumentExistsError();
        return { cas: this.write(key, value, expiry) };
      },
      upsert: async (key, value, options) => {
        const expiry = this.expiry(options?.expiry);
        await this.enter();
        return { cas: this.write(key, value, expiry) };
      },
      replace: async (key, value, options) => {
        const expiry = this.expiry(options?.expiry);
        await this.enter();
        this.checkCas(this.live(key), options?.cas);
        return { cas: this.write(key, value, expiry) };
      },
      remove: async (key, options) => {
        await this.enter();
        this.checkCas(this.live(key), options?.cas);
        this.docs.delete(key);
        return { cas: this.nextCas() };
      },
      touch: async (key, expiry) => {
        const seconds = this.expiry(expiry);
        await this.enter();
        const doc = this.live(key);
        doc.expiry = seconds;
        doc.cas = this.nextCas();
        return { cas: doc.cas };
      },
    };
    this.query = async (statement, options) => {
      await this.enter();
      this.statements.push(statement);
      if (options.scanConsistency !== 'request_plus') throw new Error('fake couchbase: queries must use request_plus');
      const match = COUNT.exec(statement) ?? DELETE.exec(statement);
      if (!match) throw new Error(`fake couchbase: statement not modelled: ${statement}`);
      if (!this.primaryIndex) throw new PlanningFailureError(new Error(`No index available on keyspace ${match[1]}`));
      const { lo, hi, pattern, now } = options.parameters;
      if (typeof lo !== 'string' || typeof hi !== 'string' || typeof pattern !== 'string') throw new Error('fake couchbase: missing parameters');
      const regex = new RegExp(pattern);
      const selected = [...this.docs.entries()].filter(([key]) => key >= lo && key < hi && regex.test(key));
      if (statement.startsWith('DELETE')) {
        for (const [key] of selected) this.docs.delete(key);
        return { rows: [] };
      }
      if (typeof now !== 'number') throw new Error('fake couchbase: $now must be a number');
      // META().expiration is 0 for a document without expiry; the statement counts it as not live,
      // and the store always writes an expiry.
      return { rows: [selected.filter(([, doc]) => doc.expiry > now && this.isLive(doc)).length] };
    };
  }

  private async enter(): Promise<void> {
    await tick();
    if (this.down) throw new UnambiguousTimeoutError();
  }

  private nextCas(): FakeCas {
    return new FakeCas(++this.casCounter);
  }

  private isLive(doc: FakeDocument): boolean {
    return doc.expiry === 0 || doc.expiry > Math.floor(this.now() / 1000);
  }

  /** find returns the document if it exists and has not expired; an expired one is purged. */
  private find(key: string): FakeDocument | undefined {
    const doc = this.docs.get(key);
    if (doc && !this.isLive(doc)) {
      this.docs.delete(key);
      return undefined;
    }
    return doc;
  }

  private live(key: string): FakeDocument {
    const doc = this.find(key);
    if (!doc) throw new DocumentNotFoundError();
    return doc;
  }

  private checkCas(doc: FakeDocument, cas: unknown): void {
    if (cas === undefined) return;
    if (!(cas instanceof FakeCas) || cas.value !== doc.cas.value) throw new CasMismatchError();
  }

  private write(key: string, value: SessionDocument | IndexDocumentBody, expiry: number): FakeCas {
    const cas = this.nextCas();
    this.docs.set(key, { json: JSON.stringify(value), cas, expiry });
    return cas;
  }

  /** expiry converts an SDK `expiry` option to epoch seconds as `parseExpiry` and the server do. */
  private expiry(expiry: Date | number | undefined): number {
    if (!expiry) return 0;
    if (expiry instanceof Date) {
      const ms = expiry.getTime();
      if (Number.isNaN(ms) || ms < MIN_DATE_MS || ms > MAX_DATE_MS) throw new InvalidArgumentError(new Error('Expected expiry to be a valid Date.'));
      return Math.floor(ms / 1000);
    }
    if (expiry < 0) throw new InvalidArgumentError(new Error(`Expected expiry to be either zero (for no expiry) or greater but got ${expiry}.`));
    return Math.floor(this.now() / 1000) + expiry;
  }
}
