import type { Session } from '../session.ts';
import { sessionHeaders, type HeaderTarget, type SessionHeaders } from './node.ts';

/**
 * exposeFlash defines `flash` on a template locals object (`ctx.state`, `reply.locals`) as a
 * getter, so only a request that renders it consumes the waiting flash messages; a JSON route or
 * an asset request leaves them for the next page. The property is enumerable, so engines that
 * copy locals with `Object.assign` see it.
 */
export function exposeFlash(locals: object, session: Session): void {
  Object.defineProperty(locals, 'flash', {
    configurable: true,
    enumerable: true,
    get: () => session.flash.view(),
  });
}

/**
 * saveSession releases `session` (persists what the request changed) and then returns the headers
 * the response must carry. The order matters: a save may change the id (a taken new id) or fail,
 * and a failed save must not hand out a cookie for a session that was never stored.
 */
export async function saveSession(session: Session, target: HeaderTarget): Promise<SessionHeaders> {
  await session.release();
  return sessionHeaders(session, target);
}
