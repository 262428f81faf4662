import type { RequestHandler } from 'express';
import type { Manager } from '../manager.ts';
import type { SessionData, TypedSession } from './express-types.ts';

export type { SessionData, TypedSession };

/**
 * expressSession is `manager.middleware()` typed for Express: it sets `req.session` (typed from
 * {@link SessionData}) and `res.locals.flash` (read lazily, so only a rendering request consumes
 * the messages), and holds back the end of the response until the session is saved, so the
 * next request sees the writes even after `res.redirect`. Store errors go to `next(err)`.
 */
export function expressSession(manager: Manager): RequestHandler {
  return manager.middleware();
}
