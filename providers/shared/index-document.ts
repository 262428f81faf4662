import { setTimeout as sleep } from 'node:timers/promises';
import { SessionError } from '../../src/errors.ts';
import { indexKeyHash, MAX_INDEX_KEY } from './index-key.ts';
import { assertValidId, isValidId } from '../../src/id.ts';

/**
 * Stores whose backend keeps whole documents only (memcache, couchbase) hold each index key (see
 * `Store.indexAdd`) as one document mapping session id → entry expiry in epoch ms. A change reads
 * the document with its CAS token, edits it here, and writes it back only if nobody wrote in
 * between, retrying a bounded number of times; the document's own expiry is its latest entry's.
 */

/** MAX_INDEX_ATTEMPTS bounds the CAS attempts of one index change before `ERR_SESSION_CONTENDED`. */
export const MAX_INDEX_ATTEMPTS = 100;

/** IndexEntries maps each session id filed under one index key to its entry's expiry (epoch ms). */
export type IndexEntries = Map<string, number>;

/**
 * indexDocumentKey names the document of index key `key` in a store with key prefix `prefix`:
 * `prefix + "index:" + sha256(key)` in base64url, a fixed 43 characters whatever the key holds. A
 * session key is the prefix followed by hex, never by `index:`, so the two kinds stay apart. The
 * hash is over UTF-16 code units, so keys that differ only in lone surrogates (which UTF-8 would
 * fold into one replacement character) stay apart too. A key that is not a non-empty string of at
 * most {@link MAX_INDEX_KEY} characters is refused with `ERR_SESSION_INVALID_VALUE`.
 */
export function indexDocumentKey(provider: string, prefix: string, key: string): string {
  return `${prefix}index:${indexKeyHash(provider, key).toString('base64url')}`;
}

/** INDEX_DOCUMENT_PATTERN matches what {@link indexDocumentKey} puts after the prefix (as a regular expression source). */
export const INDEX_DOCUMENT_PATTERN = 'index:[A-Za-z0-9_-]{43}';

/**
 * readEntries turns a stored document (already parsed from JSON) into entries. Only pairs of a
 * valid session id and a finite number count, so a damaged document reads as the entries it
 * still holds, and a foreign one as none.
 */
export function readEntries(document: unknown): IndexEntries {
  const entries: IndexEntries = new Map();
  if (document === null || typeof document !== 'object' || Array.isArray(document)) return entries;
  for (const [sid, expiresAt] of Object.entries(document)) {
    if (isValidId(sid) && typeof expiresAt === 'number' && Number.isFinite(expiresAt)) entries.set(sid, expiresAt);
  }
  return entries;
}

/** entriesDocument is the plain object a store writes for `entries`: `{ "<sid>": expiresAt, … }`. */
export function entriesDocument(entries: IndexEntries): Record<string, number> {
  return Object.fromEntries(entries);
}

/** liveIds returns the ids whose entry expires after `now`, in any order. */
function liveIds(entries: IndexEntries, now: number): string[] {
  return [...entries].filter(([, expiresAt]) => expiresAt > now).map(([sid]) => sid);
}

/**
 * IndexDocument is one store's CAS-guarded access to the document of one index key. `read`
 * resolves `undefined` when there is none (or it expired); each write resolves `false`, without
 * throwing, when another writer got there first (the document appeared, changed or went away),
 * and `expiresAt` is the latest entry's expiry, always in the future when a write is asked for.
 */
export interface IndexDocument<Cas> {
  read(): Promise<{ entries: IndexEntries; cas: Cas } | undefined>;
  create(entries: IndexEntries, expiresAt: number): Promise<boolean>;
  replace(entries: IndexEntries, expiresAt: number, cas: Cas): Promise<boolean>;
  remove(cas: Cas): Promise<boolean>;
}

/** addEntry files `sid` in `document` until `expiresAt` (replacing an earlier expiry), dropping expired entries on the way. */
export async function addEntry<Cas>(provider: string, document: IndexDocument<Cas>, sid: string, expiresAt: number, now: () => number): Promise<void> {
  assertValidId(sid, provider);
  return update(provider, 'indexAdd', document, now, (entries) => {
    if (entries.get(sid) === expiresAt) return false;
    entries.set(sid, expiresAt);
    return true;
  });
}

/** removeEntry takes `sid` out of `document`; a missing entry writes nothing. */
export async function removeEntry<Cas>(provider: string, document: IndexDocument<Cas>, sid: string, now: () => number): Promise<void> {
  assertValidId(sid, provider);
  return update(provider, 'indexRemove', document, now, (entries) => entries.delete(sid));
}

/** listEntries returns the live ids of `document`: one read. */
export async function listEntries<Cas>(document: IndexDocument<Cas>, now: () => number): Promise<string[]> {
  const current = await document.read();
  return current === undefined ? [] : liveIds(current.entries, now());
}

/**
 * update runs the read–edit–conditional-write loop. `edit` changes the entries in place and says
 * whether it changed anything; when it did not, nothing is written. Retries back off with jitter
 * (as the Session's own save does) so that many writers of one key, 50 at once, all get through.
 */
async function update<Cas>(
  provider: string,
  action: string,
  document: IndexDocument<Cas>,
  now: () => number,
  edit: (entries: IndexEntries) => boolean,
): Promise<void> {
  for (let attempt = 0; attempt < MAX_INDEX_ATTEMPTS; attempt++) {
    if (attempt > 0) await sleep(Math.random() * Math.min(50, 2 ** Math.min(attempt, 6)));
    const current = await document.read();
    const entries: IndexEntries = current?.entries ?? new Map();
    if (!edit(entries)) return;
    const latest = prune(entries, now());
    let written: boolean;
    if (latest === undefined) written = current === undefined || (await document.remove(current.cas));
    else if (current === undefined) written = await document.create(entries, latest);
    else written = await document.replace(entries, latest, current.cas);
    if (written) return;
  }
  throw new SessionError('ERR_SESSION_CONTENDED', `session/${provider}: ${action} gave up after ${MAX_INDEX_ATTEMPTS} conflicting writes to one index key`);
}

/** prune drops the entries expired at `now` and returns the latest expiry left, `undefined` when none is. */
function prune(entries: IndexEntries, now: number): number | undefined {
  let latest: number | undefined;
  for (const [sid, expiresAt] of entries) {
    if (!(expiresAt > now)) entries.delete(sid);
    else if (latest === undefined || expiresAt > latest) latest = expiresAt;
  }
  return latest;
}
