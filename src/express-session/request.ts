import type { IncomingMessage, ServerResponse } from 'node:http';
import { settle, type Callback } from '../callback.ts';
import { setRequestSession } from '../http/express-fast-path.ts';
import { exposeFlash } from '../http/flash-locals.ts';
import type { AnySession } from '../http/headers.ts';
import { hooks } from '../http/hold-end.ts';
import type { Manager } from '../manager.ts';
import { SELF, Session } from '../session.ts';
import { newSession } from './new-session.ts';

/**
 * What the drop-in changes of a request's session, for express-session's observable behaviour:
 *
 * - `req.session.regenerate(cb)` gives an empty session under a new id in a new object, and
 *   `req.session` becomes that object. The old object keeps the old data, so passport's
 *   `keepSessionInfo` (which holds on to the old `req.session` and copies it over afterwards)
 *   works; the old record is removed, and saving the old object does nothing. The session's own
 *   lifetime ("remember me", `cookie.maxAge`) carries over, as sessionkit's regenerate keeps it.
 * - `req.session.destroy(cb)` removes the session and unsets `req.session`, as express-session does.
 * - At the end of the request, `req.session` set to null (or deleted, with `unset: 'destroy'`)
 *   means: with `unset: 'destroy'` the session is destroyed; with `'keep'` this request's
 *   changes are not saved.
 *
 * The two methods come from a prototype between each session object and Session's own, where its
 * property view finds them first; as properties of the object they would show among its data keys.
 */

/** RequestSessions is the state of one request shared by every session object it had. */
interface RequestSessions {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly manager: Manager;
  /** unsetDestroys: `unset: 'destroy'`, where `req.session` is a property of the request itself, so deleting it can be seen. */
  readonly unsetDestroys: boolean;
  /** session is the request's session now: the one `req.session` was set to last. */
  session: AnySession;
  /** destroyed: `destroy()` unset `req.session`; the destroyed session is still what the end of the request settles. */
  destroyed: boolean;
  /** adopted are the session objects (the Sessions behind their views) of this request. */
  readonly adopted: object[];
}

/**
 * requests maps each session object (the Session behind its view) to the state of its request,
 * until the response has gone out. The state leads back to the request, the response and the session,
 * which are keys of WeakMaps of their own (`req.session`, the response hooks); V8's young-generation
 * collector keeps the values of a WeakMap alive, so while the entries stayed, every finished request
 * lived on into the old generation (bench/gc-survival.ts on express-skd-memory `ro`: 13.2 KB a
 * request surviving a scavenge while they stayed, 9.6 KB once dropped at the end of the response).
 */
const requests = new WeakMap<object, RequestSessions>();

/**
 * takeOverSession gives the session the middleware put in `req.session` express-session's
 * regenerate, destroy and unset behaviour.
 */
export function takeOverSession(req: IncomingMessage, res: ServerResponse, manager: Manager, unset: 'keep' | 'destroy'): void {
  const session = (req as IncomingMessage & { session: AnySession }).session;
  const state: RequestSessions = { req, res, manager, unsetDestroys: unset === 'destroy', session, destroyed: false, adopted: [] };
  adopt(state, session);
  if (state.unsetDestroys) {
    Object.defineProperty(req, 'sessionID', { configurable: true, enumerable: true, get: () => state.session.id });
    assign(state, session);
  }
  const hook = hooks.get(res);
  if (hook !== undefined) hook.beforeSave = settleEndOf(state);
  res.once('finish', () => {
    // The response went out, after its session was saved: nothing is left for the state to do.
    for (const raw of state.adopted) requests.delete(raw);
    if (hook !== undefined) hook.beforeSave = undefined;
  });
}

/**
 * settleEndOf is the response hook's beforeSave for `state`, made in a function of its own. Made
 * beside the 'finish' listener above, it shared that function's context (which holds the hook as
 * well), and finished `rw` requests then survived young collections: gc-survival.ts on
 * express-skd-memory `rw`, 14.0 KB a request surviving a scavenge against 9.7 KB this way.
 */
function settleEndOf(state: RequestSessions): () => Promise<void> | undefined {
  return () => settleEnd(state);
}

/** adopt ties `session` to its request and gives it the drop-in's regenerate and destroy. */
function adopt(state: RequestSessions, session: AnySession): void {
  const raw = session[SELF];
  requests.set(raw, state);
  state.adopted.push(raw);
  Object.setPrototypeOf(raw, dropInPrototype);
}

/** assign sets `req.session`, or unsets it with undefined; under `unset: 'destroy'` as a property of the request itself. */
function assign(state: RequestSessions, session: AnySession | undefined): void {
  const { req } = state;
  if (!state.unsetDestroys) {
    setRequestSession(req, session as AnySession);
    return;
  }
  // Express's shared accessor must not answer once the property is deleted.
  setRequestSession(req, undefined as unknown as AnySession);
  if (session === undefined) delete (req as { session?: unknown }).session;
  else Object.defineProperty(req, 'session', { value: session, writable: true, configurable: true, enumerable: true });
}

/** regenerate is `session.regenerate([keep], [callback])` in the drop-in: a new, empty session object (see the file comment). */
function regenerate(this: Session, keepOrCallback?: readonly string[] | Callback, callback?: Callback): Promise<void> | void {
  const [keep, done] = typeof keepOrCallback === 'function' ? [undefined, keepOrCallback] : [keepOrCallback, callback];
  const state = requests.get(this);
  // After the response there is no `req.session` left to replace: sessionkit's own regenerate, keeping the keys asked for.
  if (state === undefined) return settle(coreRegenerate.call(this, keep ?? []), done);
  return settle(replace(state, keep ?? []), done);
}

async function replace(state: RequestSessions, keep: readonly string[]): Promise<void> {
  const { manager, req, res } = state;
  const old = state.session;
  const stale: string[] = [];
  const fresh = newSession(manager, req, manager.newId(req), undefined, stale);
  for (const key of keep) if (old.has(key)) fresh.set(key, old.get(key));
  if (old.lifetime !== undefined) fresh.cookie.maxAge = old.lifetime * 1000;
  Object.setPrototypeOf(old[SELF], leftBehindPrototype);
  state.session = fresh;
  adopt(state, fresh);
  assign(state, fresh);
  const hook = hooks.get(res);
  if (hook !== undefined) hook.session = fresh;
  const locals = (res as ServerResponse & { locals?: object }).locals;
  // Templates follow the new session, unless the app put its own value in locals.flash.
  if (locals !== undefined && Object.getOwnPropertyDescriptor(locals, 'flash')?.get !== undefined) exposeFlash(locals, fresh);
  if (old.isNew) return;
  try {
    await manager.destroy(old.id);
  } catch (error) {
    // The new session's save tries again.
    stale.push(old.id);
    throw error;
  }
}

/** savedNowhere is `save` of a session object regenerate left behind: it keeps its data for the app to read, and stores nothing. */
function savedNowhere(callback?: Callback): Promise<void> | void {
  return settle(Promise.resolve(), callback);
}

const coreDestroy = Session.prototype.destroy as (this: Session) => Promise<void>;
const coreRegenerate = Session.prototype.regenerate as (this: Session, keep: readonly string[]) => Promise<void>;

/** destroy is `session.destroy([callback])` in the drop-in: sessionkit's destroy, and `req.session` unset. */
function destroy(this: Session, callback?: Callback): Promise<void> | void {
  const state = requests.get(this);
  if (state === undefined) return settle(coreDestroy.call(this), callback);
  state.destroyed = true;
  assign(state, undefined);
  return settle(coreDestroy.call(state.session[SELF]), callback);
}

const method = (value: unknown): PropertyDescriptor => ({ value, writable: true, configurable: true });

/** dropInPrototype is the prototype of the drop-in's session objects: Session's, with express-session's regenerate and destroy. */
const dropInPrototype: object = Object.create(Session.prototype, { regenerate: method(regenerate), destroy: method(destroy) });

/** leftBehindPrototype is the prototype of a session object regenerate replaced: it reads as before and saves nothing. */
const leftBehindPrototype: object = Object.create(dropInPrototype, { save: method(savedNowhere) });

/**
 * settleEnd runs as the response ends, before the save: it acts on a `req.session` the app set to
 * null or deleted, and returns undefined, sparing the request a promise, when there is none.
 */
function settleEnd(state: RequestSessions): Promise<void> | undefined {
  if (state.destroyed) return undefined;
  const current = (state.req as { session?: unknown }).session;
  if (current !== null && current !== undefined) return undefined;
  const raw = state.session[SELF];
  return state.unsetDestroys ? coreDestroy.call(raw) : raw.reload();
}
