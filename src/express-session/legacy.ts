import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { readCookie, serializeCookie, unsign, type Mac } from '../cookie.ts';
import { SessionError, storeError } from '../errors.ts';
import { addExtraCookie } from '../http/extra-cookies.ts';
import type { Manager } from '../manager.ts';
import { forwardOf } from '../save.ts';
import type { Session } from '../session.ts';
import type { LegacyMove, ResolvedLegacy } from './legacy-options.ts';
import { newSession } from './new-session.ts';
import { callStore, type StoredSession } from './store-calls.ts';
import { isWrapped } from './store-provider.ts';

/**
 * Switching from express-session without logging anyone out (the `legacy` option). A request
 * that has no session here but carries the old app's signed cookie (`s:<id>.<signature>`) gets
 * the old session's data — everything but its `cookie` — in a new session under a new id; the
 * old record is removed from the old store and the old cookie cleared. It happens once per old
 * session: a replay of the old cookie afterwards is anonymous.
 *
 * Concurrent requests with one old cookie (a page and its assets) share one new session: within
 * this process, those arriving while the session is moved or up to {@link LEGACY_GRACE_MS} after
 * join it, and so do those reaching other processes where the store keeps an index (every built-in
 * provider does). Two processes that read the old record at the same instant can still each make
 * a session; the browser keeps the cookie it gets last, and the other session expires unused.
 */

/** LEGACY_GRACE_MS is how long after a move requests with the old cookie still join the new session. */
export const LEGACY_GRACE_MS = 10_000;

/** LEGACY_ID bounds an old id: express-session's are 32 characters; a custom genid's may be longer. */
const LEGACY_ID = /^[\x21-\x7e]{1,256}$/;

/** cookieSignature is the signature of the cookie-signature package: HMAC-SHA256 in base64 without padding. */
const cookieSignature: Mac = (value, secret) => createHmac('sha256', secret).update(value).digest('base64').replace(/=+$/, '');

/**
 * readLegacyId returns the session id in an express-session cookie value as the browser sends it
 * (percent-encoded `s:<id>.<signature>`), or undefined when it is not signed by one of `secrets`.
 */
export function readLegacyId(raw: string, secrets: readonly string[]): string | undefined {
  let value = raw;
  if (value.length > 1024) return undefined;
  if (value.includes('%')) {
    try {
      value = decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  if (!value.startsWith('s:')) return undefined;
  const id = unsign(value.slice(2), secrets, cookieSignature)?.value;
  return id !== undefined && LEGACY_ID.test(id) ? id : undefined;
}

/** forwardKey is the index key that tells other processes where an old session moved; the old id itself is not kept. */
const forwardKey = (oldId: string): string => `legacy:${createHash('sha256').update(oldId).digest('hex')}`;

/**
 * adoptLegacy is the Manager's last step for a request without a usable session: `fresh`, or the
 * session an old express-session cookie moves into. A bad or dead old cookie is cleared.
 */
export async function adoptLegacy(manager: Manager, req: IncomingMessage, fresh: Session): Promise<Session> {
  const legacy = manager.options.legacy!;
  const raw = readCookie(req.headers.cookie, legacy.name);
  if (raw === undefined) return fresh;
  const oldId = readLegacyId(raw, legacy.secrets);
  let moved: Session | undefined;
  try {
    moved = oldId === undefined ? undefined : await joinOrMove(manager, legacy, req, oldId);
  } catch (error) {
    // As for the session store: fail the request, or go on anonymous and keep the old cookie for later.
    if (manager.options.onStoreError === 'fail') throw error;
    manager.report(error as Error);
    return fresh;
  }
  // Cleared unless the new session's own cookie takes its place.
  addExtraCookie(moved ?? fresh, { value: clearingCookie(manager, legacy), shadowed: shadows(manager, legacy) });
  return moved ?? fresh;
}

/** joinOrMove returns the session `oldId` moved into, moving it now unless this or another request did lately. */
async function joinOrMove(manager: Manager, legacy: ResolvedLegacy, req: IncomingMessage, oldId: string): Promise<Session | undefined> {
  const now = manager.options.now();
  const known = legacy.moves.get(oldId);
  if (known !== undefined && known.until > now) {
    const newId = await known.newId.catch(() => undefined);
    return newId === undefined ? undefined : loadMoved(manager, req, newId);
  }
  // Moved lately by another process, where the store keeps an index.
  const forwarded = await forwardOf(manager, forwardKey(oldId));
  if (forwarded !== undefined) return loadMoved(manager, req, forwarded);
  for (const [id, move] of legacy.moves) if (move.until <= now) legacy.moves.delete(id);
  const moving = move(manager, legacy, req, oldId);
  const entry: LegacyMove = { newId: moving.then((session) => session?.id), until: now + LEGACY_GRACE_MS };
  legacy.moves.set(oldId, entry);
  try {
    return await moving;
  } catch (error) {
    // Nothing moved: the next request with the old cookie tries again.
    legacy.moves.delete(oldId);
    throw error;
  }
}

/**
 * move reads the old session and, if it is live and holds data, stores that data in a new session
 * (now, so requests in other processes can find it), files the forward, and removes the old
 * record. Keys or values sessionkit cannot hold are left out and reported to `onError`.
 */
async function move(manager: Manager, legacy: ResolvedLegacy, req: IncomingMessage, oldId: string): Promise<Session | undefined> {
  let stored: unknown;
  try {
    stored = await callStore(legacy.store, 'get', oldId);
  } catch (error) {
    throw storeError('legacy', 'get', error);
  }
  if (!isOldSession(stored)) return undefined;
  const { cookie, ...data } = stored;
  const now = manager.options.now();
  let session: Session | undefined;
  if (!hasExpired(cookie, now) && Object.keys(data).length > 0) {
    session = newSession(manager, req, manager.newId(req));
    for (const [key, value] of Object.entries(data)) {
      try {
        session.set(key, value);
      } catch (error) {
        const why = (error as Error).message.replace(/^session: /, '');
        manager.report(new SessionError('ERR_SESSION_INVALID_VALUE', `session: legacy key ${JSON.stringify(key)} was not moved (${why})`, { cause: error }));
      }
    }
    const lifetime = cookie?.originalMaxAge;
    // A persistent old cookie ("remember me") keeps its length, unless it is what every session gets here anyway.
    if (typeof lifetime === 'number' && lifetime > 0 && lifetime !== manager.options.cookieMaxAgeMs) session.cookie.maxAge = lifetime;
    await session.release();
    await fileForward(manager, oldId, session.id, now);
  }
  try {
    await callStore(legacy.store, 'destroy', oldId);
  } catch (error) {
    manager.report(storeError('legacy', 'destroy', error));
  }
  return session;
}

/** isOldSession tells whether `stored` is a session object express-session wrote (not one of sessionkit's own). */
function isOldSession(stored: unknown): stored is StoredSession & Record<string, unknown> {
  return typeof stored === 'object' && stored !== null && !Array.isArray(stored) && !isWrapped(stored);
}

function hasExpired(cookie: StoredSession['cookie'] | undefined, now: number): boolean {
  const expires = cookie?.expires;
  if (expires === undefined || expires === null) return false;
  const at = new Date(expires).getTime();
  return Number.isFinite(at) && at <= now;
}

/** fileForward tells other processes, through the store's index where it has one, where `oldId` went; a failure only costs that. */
async function fileForward(manager: Manager, oldId: string, newId: string, now: number): Promise<void> {
  try {
    await manager.store.indexAdd?.(forwardKey(oldId), newId, now + LEGACY_GRACE_MS);
  } catch (error) {
    manager.report(storeError(manager.providerName, 'indexAdd', error));
  }
}

/** loadMoved loads the session an old id moved into, for a client that does not hold its cookie yet. */
async function loadMoved(manager: Manager, req: IncomingMessage, id: string): Promise<Session | undefined> {
  let record: string | undefined;
  try {
    record = await manager.store.get(id);
  } catch (error) {
    throw storeError(manager.providerName, 'load', error);
  }
  if (record === undefined) return undefined;
  try {
    return newSession(manager, req, id, record);
  } catch {
    return undefined;
  }
}

/** clearingCookie is the Set-Cookie that removes the old cookie: its name, path and domain, with the manager's flags. */
function clearingCookie(manager: Manager, legacy: ResolvedLegacy): string {
  const { cookie } = manager.options;
  return serializeCookie(legacy.name, undefined, { ...cookie, path: legacy.path, domain: legacy.domain, maxAgeMs: 0 });
}

/** shadows tells whether the session cookie replaces the old one in the browser: same name, path and domain. */
function shadows(manager: Manager, legacy: ResolvedLegacy): boolean {
  const { cookieName, cookie } = manager.options;
  return cookieName === legacy.name && cookie.path === legacy.path && cookie.domain === legacy.domain;
}
