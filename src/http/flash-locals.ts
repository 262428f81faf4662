import { SELF } from '../session.ts';
import type { AnySession } from './headers.ts';

/** SESSION keeps, on a locals object, the session whose flash its `flash` property shows. */
const SESSION = Symbol('sessionkit.flashSession');

type Locals = { [SESSION]?: AnySession };

/**
 * FLASH is the one `flash` accessor every locals object gets. Shared functions keep the objects of
 * all requests on one hidden class; a getter made per request gave each its own.
 */
const FLASH: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: Locals) {
    return this[SESSION]![SELF].flash.view();
  },
  set(this: Locals, value: unknown) {
    Object.defineProperty(this, 'flash', { configurable: true, enumerable: true, writable: true, value });
  },
};

/**
 * exposeFlash defines `flash` on a template locals object (`res.locals`, `ctx.state`,
 * `reply.locals`) as a getter, so only a request that renders it consumes the waiting flash
 * messages; a JSON route or an asset request leaves them for the next page. The property is
 * enumerable, so engines that copy locals with `Object.assign` see it, and assigning it (as apps
 * using connect-flash do with `res.locals.flash = req.flash()`) replaces it with that value.
 */
export function exposeFlash(locals: object, session: AnySession): void {
  // An assignment, not a definition: a symbol key stays out of for…in, Object.keys and JSON anyway,
  // and on Express's dictionary-mode `res.locals` this function took 2.70 µs a request with two
  // definitions, 0.93–1.28 with one (bench/profile.ts, Express memory `ro`).
  (locals as Locals)[SESSION] = session;
  Object.defineProperty(locals, 'flash', FLASH);
}
