import { decode } from './codec.ts';
import { SessionError, storeError } from './errors.ts';
import type { SessionCore } from './session.ts';

/**
 * The Manager keeps two things in a store's index (see `Store.indexAdd`): the sessions of each
 * bound user, and where a regenerated id moved, so a request that loaded the old id just before
 * the regenerate can still land its writes.
 */

/** MAX_USER_ID is the longest user id `bindUser` accepts, so index keys stay within 512 characters. */
export const MAX_USER_ID = 500;

/** MOVED_GRACE_MS is how long a regenerated id forwards the writes of requests already under way. */
export const MOVED_GRACE_MS = 60_000;

/** userKey is the index key under which the sessions of `userId` are filed. */
export const userKey = (userId: string): string => `user:${userId}`;

/** movedKey is the index key that tells where the session `sid` moved on regenerate. */
export const movedKey = (sid: string): string => `moved:${sid}`;

/** checkUserId refuses user ids that are not non-empty strings of at most {@link MAX_USER_ID} characters. */
export function checkUserId(userId: unknown): asserts userId is string {
  if (typeof userId !== 'string' || userId === '' || userId.length > MAX_USER_ID) {
    throw new SessionError('ERR_SESSION_INVALID_VALUE', `session: a user id must be a non-empty string of at most ${MAX_USER_ID} characters`);
  }
}

/** indexUntil is how long a user's index entry should last for a session expiring at `expiresAt`. */
export function indexUntil(core: SessionCore, created: number, expiresAt: number): number {
  const { maxLifetimeMs, absoluteLifetimeMs } = core.options;
  const until = expiresAt + maxLifetimeMs;
  return absoluteLifetimeMs === undefined ? until : Math.max(expiresAt, Math.min(until, created + absoluteLifetimeMs));
}

function indexOf(core: SessionCore, what: string) {
  const { store } = core;
  if (!store.indexList || !store.indexRemove) {
    throw new SessionError('ERR_SESSION_UNSUPPORTED', `session/${core.providerName}: ${what} needs a store with an index (indexAdd, indexRemove, indexList)`);
  }
  return { indexList: store.indexList.bind(store), indexRemove: store.indexRemove.bind(store) };
}

/** PARALLEL bounds the store calls one listing runs at once. */
const PARALLEL = 16;

/**
 * listUserSessions returns the ids of the live sessions bound to `userId`. Each id the index lists
 * is checked against its record — live, readable, within the absolute lifetime and still bound to
 * this user — and entries that fail the check are dropped from the index on the way.
 */
export async function listUserSessions(core: SessionCore, userId: string): Promise<string[]> {
  checkUserId(userId);
  const { indexList, indexRemove } = indexOf(core, 'listUserSessions');
  const { store, providerName, options } = core;
  const key = userKey(userId);
  let ids: string[];
  try {
    ids = await indexList(key);
  } catch (error) {
    throw storeError(providerName, 'indexList', error);
  }
  const live: string[] = [];
  const check = async (sid: string) => {
    let record: string | undefined;
    try {
      record = await store.get(sid);
    } catch (error) {
      throw storeError(providerName, 'get', error);
    }
    if (record !== undefined && belongsTo(record, userId, options.now(), options.absoluteLifetimeMs)) {
      live.push(sid);
      return;
    }
    try {
      await indexRemove(key, sid);
    } catch (error) {
      core.report(storeError(providerName, 'indexRemove', error));
    }
  };
  for (let i = 0; i < ids.length; i += PARALLEL) await Promise.all(ids.slice(i, i + PARALLEL).map(check));
  return live;
}

function belongsTo(record: string, userId: string, now: number, absoluteLifetimeMs: number | undefined): boolean {
  try {
    const state = decode(record);
    return state.user === userId && (absoluteLifetimeMs === undefined || state.created + absoluteLifetimeMs > now);
  } catch {
    return false;
  }
}

/**
 * destroyUserSessions destroys every live session bound to `userId` ("log out everywhere") and
 * returns how many there were. A request of one of them that is still running cannot bring it
 * back: its save finds the record gone and drops its writes.
 */
export async function destroyUserSessions(core: SessionCore, userId: string): Promise<number> {
  const ids = await listUserSessions(core, userId);
  const { indexRemove } = indexOf(core, 'destroyUserSessions');
  const { store, providerName, options } = core;
  for (const sid of ids) {
    try {
      await store.destroy(sid);
      await indexRemove(userKey(userId), sid);
    } catch (error) {
      throw storeError(providerName, 'destroy', error);
    }
    options.onDestroy?.(sid);
  }
  return ids.length;
}
