import type { Middleware } from 'koa';
import type { FlashView } from '../flash.ts';
import type { Manager } from '../manager.ts';
import type { SessionData, TypedSession } from './express-types.ts';
import { exposeFlash, saveSession } from './shared.ts';

export type { SessionData, TypedSession };

declare module 'koa' {
  interface DefaultContext {
    /** session is the request's session, set by {@link koaSession}. */
    session: TypedSession;
  }
  interface DefaultState {
    /** flash is the flash view for templates; reading it consumes the waiting messages. */
    flash: FlashView;
  }
}

/**
 * koaSession returns Koa middleware that loads the session into `ctx.session` and exposes the
 * flash view as `ctx.state.flash` (read lazily: only a request that renders it consumes the
 * messages). After the downstream middleware has finished it saves the session and sets the
 * cookie with `ctx.append`, before Koa writes the response — so a redirect's target always sees
 * the writes. A store error while loading or saving is thrown into Koa's error path (500 by
 * default); when a downstream middleware throws, nothing is saved and Koa's error response
 * carries no session cookie.
 */
export function koaSession(manager: Manager): Middleware {
  return async (ctx, next) => {
    const session = await manager.load(ctx.req);
    // The session is typed by the application's SessionData, which this module cannot see.
    ctx.session = session as unknown as TypedSession;
    exposeFlash(ctx.state, session);
    await next();
    const headers = await saveSession(session, manager);
    if (ctx.headerSent) return; // ctx.respond = false or a handler wrote ctx.res itself
    for (const [name, value] of headers) {
      if (name === 'set-cookie') ctx.append('Set-Cookie', value);
      else ctx.set(name, value);
    }
  };
}
