import type { Context, Middleware } from 'koa';
import { SessionError } from '../errors.ts';
import type { FlashView } from '../flash.ts';
import { LOAD_NOW, type Manager } from '../manager.ts';
import type { SessionData, TypedSession } from '../session-data.ts';
import { inCheckPhase } from './check-phase.ts';
import { exposeFlash } from './flash-locals.ts';
import { finishSession, type AnySession, type HeaderWriter } from './headers.ts';
import { requireManager } from './require-manager.ts';

export type { SessionData, TypedSession };

declare module 'koa' {
  interface DefaultContext {
    /** session is the request's session, set by {@link koaSession}. */
    get session(): TypedSession;
    /** Assigning null destroys the session (koa-session's `ctx.session = null`); an object replaces its data. */
    set session(value: TypedSession | Record<string, unknown> | null);
  }
  interface DefaultState {
    /** flash is the flash view for templates; reading it consumes the waiting messages. */
    flash: FlashView;
  }
}

/** Slot is what `ctx.session` reads and what its assignment changes. */
interface Slot {
  session: AnySession;
  /** pending is the destroy that `ctx.session = null` started, awaited before the save. */
  pending?: Promise<void>;
}

/**
 * SLOT keeps a context's Slot on the context itself. Koa builds every context of an app the same
 * way, so the property is one shared hidden-class step, not a class per request as on Express's
 * request objects; a WeakMap kept finished requests alive through young collections until a full
 * one (bench/gc-survival.ts on koa-sk-memory `ro`: 367 bytes a request promoted, against 4 this way).
 */
const SLOT = Symbol('sessionkit.koaSlot');

type WithSlot = { [SLOT]?: Slot };
const servesContexts = new WeakMap<object, boolean>();

/**
 * assign is `ctx.session = value`, as koa-session defines it: null destroys the session, an
 * object replaces its data with the object's keys.
 */
function assign(slot: Slot, value: unknown): void {
  if (value === null || value === undefined) {
    slot.pending = slot.session.destroy();
    slot.pending.catch(() => undefined); // awaited, and so reported, when the request ends
  } else if (typeof value === 'object' && value !== slot.session) {
    slot.session.flush();
    for (const [key, item] of Object.entries(value)) slot.session.set(key, item);
  } else if (value !== slot.session) {
    throw new SessionError('ERR_SESSION_INVALID_VALUE', 'session/koa: ctx.session can be assigned null (destroy) or an object of values only');
  }
}

/**
 * setContextSession makes `ctx.session` read the request's session, through accessors defined
 * once on the app's context prototype that read the context's {@link SLOT}, or as a plain
 * property when that prototype already has a `session` of another middleware's making.
 */
function setContextSession(ctx: Context, slot: Slot): void {
  const proto: object = Object.getPrototypeOf(ctx);
  let serves = servesContexts.get(proto);
  if (serves === undefined) {
    serves = !('session' in proto);
    if (serves) {
      Object.defineProperty(proto, 'session', {
        configurable: true,
        get(this: object) {
          return (this as WithSlot)[SLOT]?.session;
        },
        set(this: object, value: unknown) {
          const current = (this as WithSlot)[SLOT];
          if (current === undefined) throw new SessionError('ERR_SESSION_INVALID_VALUE', 'session/koa: ctx.session is set by koaSession(manager)');
          assign(current, value);
        },
      });
    }
    servesContexts.set(proto, serves);
  }
  (ctx as WithSlot)[SLOT] = slot;
  if (!serves) (ctx as { session?: AnySession }).session = slot.session;
}

/** koaWriter is the header writer of a Koa context; Koa keeps the headers on node's response. */
function koaWriter(ctx: Context): HeaderWriter {
  return {
    get: (name) => ctx.res.getHeader(name),
    set: (name, value) => ctx.set(name, value),
    appendCookie: (value) => ctx.append('Set-Cookie', value),
  };
}

/**
 * koaSession returns Koa middleware that loads the session into `ctx.session` (koa-session's
 * shape: properties, `save`, `regenerate`, `maxAge`; `ctx.session = null` destroys it) and
 * exposes the flash view as `ctx.state.flash` (read lazily: only a request that renders it
 * consumes the messages). After the downstream middleware has finished it saves the session and
 * then sets the cookie, before Koa writes the response — so a redirect's target always sees the
 * writes. A store error while loading or saving is thrown into Koa's error path (500 by default);
 * when a downstream middleware throws, nothing is saved and Koa's error response carries no
 * session cookie.
 */
export function koaSession(manager: Manager): Middleware {
  requireManager(manager, 'koa', 'koaSession(manager)');
  return async (ctx, next) => {
    const slot: Slot = { session: await manager[LOAD_NOW](ctx.req) };
    setContextSession(ctx, slot);
    exposeFlash(ctx.state, slot.session);
    await next();
    await slot.pending;
    if (ctx.headerSent) {
      // ctx.respond = false, or a handler wrote ctx.res itself: save, with no headers left to write.
      await slot.session.release();
      return;
    }
    const saving = finishSession(slot.session, manager, koaWriter(ctx));
    // Nothing to save, or saved in this turn: Koa writes the response in this turn's check phase,
    // as a held-back end does (hold-end.ts, endFor). Alternating the builds before and after
    // (bench/ab.ts, koa-sk-memory, 12 rounds): requests/s `ro` 1.37, `rw` 1.60.
    await (saving ?? new Promise<void>((resolve) => inCheckPhase(resolve, undefined, undefined)));
  };
}
