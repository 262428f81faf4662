import type { IncomingMessage, ServerResponse } from 'node:http';
import { LOAD_NOW, type Manager } from '../manager.ts';
import type { Session } from '../session.ts';
import { attachSession, saveBeforeEnd } from './hold-end.ts';

/**
 * startSession is `manager.start(req, res)` on node:http (beego's SessionStart): it loads the
 * session and, given the response, makes it carry the session's headers and wait for the save
 * before it ends, as the framework adapters do — so a handler that never calls `release()` loses
 * nothing. A save that fails before anything was sent answers 500 instead and goes to `onError`;
 * a session that was never stored never gets a cookie.
 */
export async function startSession(manager: Manager, req: IncomingMessage, res?: ServerResponse): Promise<Session> {
  const session = await manager[LOAD_NOW](req);
  if (res === undefined) return session;
  const attached = attachSession(res, session, manager);
  saveBeforeEnd(res, (error) => {
    manager.report(error);
    res.statusCode = 500;
    res.removeHeader('content-length');
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end('Internal Server Error\n');
  });
  return attached;
}
