import type { IncomingMessage, ServerResponse } from 'node:http';
import { expressSession, type ConnectMiddleware } from '../http/express.ts';
import { createManager, type Manager } from '../manager.ts';
import { resolveOptions } from '../options.ts';
import { dropInSettings, type DropInSettings, type SessionOptions } from './options.ts';
import { takeOverSession } from './request.ts';

/** SessionMiddleware is the drop-in's middleware; `manager()` opens (once) and returns the Manager behind it. */
export interface SessionMiddleware extends ConnectMiddleware {
  manager(): Promise<Manager>;
}

/**
 * session is the express-session drop-in: `app.use(session({ secret, store, cookie: { maxAge } }))`
 * with express-session's option names and behaviour (see docs/express-session.md for what
 * differs). It returns synchronous middleware; options are checked at once, and the Manager is
 * created on the first request, which waits for it with any that follow. A Manager that fails to
 * open fails those requests through `next(err)`, and the next request tries again.
 */
export function session(options: SessionOptions = {}): SessionMiddleware {
  const settings = dropInSettings(options);
  // Checked now, so a bad option fails at startup and not on the first request.
  resolveOptions(settings.manager);
  let handle: ConnectMiddleware | undefined;
  let opening: Promise<Manager> | undefined;
  const open = (): Promise<Manager> =>
    (opening ??= createManager(settings.manager).then(
      (manager) => {
        handle = dropIn(manager, settings);
        return manager;
      },
      (error: unknown) => {
        opening = undefined;
        throw error;
      },
    ));
  const middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void => {
    if ((req as { session?: unknown }).session || !inPath(req, settings.path)) return next();
    if (handle !== undefined) return handle(req, res, next);
    open().then(() => handle!(req, res, next), next);
  };
  return Object.assign(middleware, { manager: open });
}

/** dropIn is the per-request work once the Manager is open: sessionkit's middleware, then the drop-in's behaviour. */
function dropIn(manager: Manager, settings: DropInSettings): ConnectMiddleware {
  const load = expressSession(manager);
  return (req, res, next) =>
    load(req, res, (error?: unknown) => {
      // The same callback later receives a failed save.
      if (error !== undefined) return next(error);
      takeOverSession(req, res, manager, settings.unset);
      next();
    });
}

/** inPath tells whether the request's path lies under the cookie's path; express-session gives other requests no session. */
function inPath(req: IncomingMessage, path: string): boolean {
  if (path === '/') return true;
  const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  const query = url.indexOf('?');
  return (query === -1 ? url : url.slice(0, query)).startsWith(path);
}
