import { SELF } from '../session.ts';
import type { AnySession } from './headers.ts';

/**
 * exposeFlash defines `flash` on a template locals object (`res.locals`, `ctx.state`,
 * `reply.locals`) as a getter, so only a request that renders it consumes the waiting flash
 * messages; a JSON route or an asset request leaves them for the next page. The property is
 * enumerable, so engines that copy locals with `Object.assign` see it, and assigning it (as apps
 * using connect-flash do with `res.locals.flash = req.flash()`) replaces it with that value.
 */
export function exposeFlash(locals: object, session: AnySession): void {
  Object.defineProperty(locals, 'flash', {
    configurable: true,
    enumerable: true,
    get: () => session[SELF].flash.view(),
    set(value: unknown) {
      Object.defineProperty(locals, 'flash', { configurable: true, enumerable: true, writable: true, value });
    },
  });
}
