import { IncomingMessage, type ServerResponse } from 'node:http';
import type { Session } from '../session.ts';
import type { AnySession, HeaderTarget } from './node.ts';
import { attachSession, frameworkPrototype, saveBeforeEnd } from './response-hooks.ts';
import { exposeFlash } from './shared.ts';

/** ConnectMiddleware is a connect/Express middleware function. */
export type ConnectMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/** requestSessions holds `req.session` for requests whose framework prototype defines it. */
const requestSessions = new WeakMap<IncomingMessage, AnySession>();
const sessionPrototypes = new WeakSet<object>();

/**
 * hookRequestPrototype defines `session` once on the framework prototype of `req` (Express's
 * `express.request`), read from and written to {@link requestSessions}, so that setting
 * `req.session` adds no property to the request. Without such a prototype, or when it already
 * has a `session` of its own making, `req.session` stays a plain property.
 */
function hookRequestPrototype(req: IncomingMessage): void {
  const proto = frameworkPrototype(req, IncomingMessage.prototype);
  if (proto === undefined || sessionPrototypes.has(proto)) return;
  sessionPrototypes.add(proto);
  if ('session' in proto) return;
  Object.defineProperty(proto, 'session', {
    configurable: true,
    enumerable: false,
    get(this: IncomingMessage) {
      return requestSessions.get(this);
    },
    set(this: IncomingMessage, session: AnySession) {
      requestSessions.set(this, session);
    },
  });
}

/**
 * connectMiddleware loads the session into `req.session`, exposes the flash view as
 * `res.locals.flash` (read lazily: only a request that renders it consumes the messages), and
 * saves the session before the response ends. Store errors go to `next(err)`. A request that
 * already has a session (the middleware mounted twice) keeps it.
 *
 * Under Express it adds no property to `req` or `res` (only `flash` to `res.locals`): Express sets
 * their prototype per request, after which every added property gives the object a hidden class
 * of its own, a cost that showed in throughput (see bench/README.md). `req.session`, writeHead and
 * end live on the shared prototypes instead.
 */
export function connectMiddleware(target: HeaderTarget): ConnectMiddleware {
  return (req, res, next) => {
    hookRequestPrototype(req);
    const withSession = req as IncomingMessage & { session?: Session };
    if (withSession.session !== undefined) return next();
    target.load(req).then((loaded) => {
      const session = attachSession(res, loaded, target);
      withSession.session = session;
      const withLocals = res as ServerResponse & { locals?: Record<string, unknown> };
      exposeFlash((withLocals.locals ??= {}), session);
      saveBeforeEnd(res, next);
      next();
    }, next);
  };
}
