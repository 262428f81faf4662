import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FlashView } from '../flash.ts';
import type { Manager } from '../manager.ts';
import type { SessionData, TypedSession } from '../session-data.ts';
import { attachResponse, setRequestSession } from './express-fast-path.ts';
import { exposeFlash } from './flash-locals.ts';
import type { AnySession } from './headers.ts';
import { hooks, saveBeforeEnd } from './hold-end.ts';
import { loadNow } from './load-now.ts';
import { requireManager } from './require-manager.ts';

export type { SessionData, TypedSession };

declare global {
  // Express keeps its request and locals types in this global namespace.
  namespace Express {
    interface Request {
      session: TypedSession;
      /** sessionID is the session's id, express-session's name for `req.session.id`. */
      sessionID: string;
    }
    interface Locals {
      flash: FlashView;
    }
  }
}

/** ConnectMiddleware is a connect/Express middleware function. */
export type ConnectMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/**
 * expressSession returns connect/Express middleware (what `manager.middleware()` returns) that
 * loads the session into `req.session` (with `req.sessionID`, express-session's name for its id),
 * exposes the flash view as `res.locals.flash` (read lazily: only a rendering request consumes
 * the messages), and holds back the end of the response until the session is saved, so the next
 * request sees the writes even after `res.redirect`. Store errors go to `next(err)`. A request
 * that already has a session (the middleware mounted twice) keeps it. Anything but a Manager
 * (a `createManager` not awaited) throws `ERR_SESSION_CONFIG` here, before any request.
 */
export function expressSession(manager: Manager): ConnectMiddleware {
  requireManager(manager, 'express', 'expressSession(manager)');
  return (req, res, next) => {
    if (hasSession(req, res)) return next();
    const loaded = loadNow(manager, req, next);
    if (loaded instanceof Promise) startWhenLoaded(loaded, req, res, next, manager);
    else if (loaded !== undefined) start(req, res, next, loaded, manager);
  };
}

/**
 * hasSession tells whether the request has its session already: this middleware, mounted twice,
 * attached the response, or another session middleware put a session on the request itself.
 * Not read as `req.session`, which on Express's per-request hidden classes misses V8's inline
 * caches; Express memory `rw`: 113.6 → 112.5 misses a request (bench/ic-misses.ts).
 */
function hasSession(req: IncomingMessage, res: ServerResponse): boolean {
  return hooks.has(res) || (Object.hasOwn(req, 'session') && (req as { session?: unknown }).session !== undefined);
}

/** startWhenLoaded calls {@link start} once the store has read the session; a failed read goes to `next`. */
function startWhenLoaded(loading: Promise<AnySession>, req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void, manager: Manager): void {
  loading.then((session) => start(req, res, next, session, manager), next);
}

/** start puts a loaded session on the request and the response, and goes on to the next handler. */
function start(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void, loaded: AnySession, manager: Manager): void {
  const session = attachResponse(res, loaded, manager);
  setRequestSession(req, session);
  const withLocals = res as ServerResponse & { locals?: Record<string, unknown> };
  exposeFlash((withLocals.locals ??= {}), session);
  saveBeforeEnd(res, next);
  next();
}
