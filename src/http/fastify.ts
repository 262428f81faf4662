import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Manager } from '../manager.ts';
import type { SessionData, TypedSession } from '../session-data.ts';
import { inCheckPhase } from './check-phase.ts';
import { exposeFlash } from './flash-locals.ts';
import { finishSession, type AnySession, type HeaderValue, type HeaderWriter } from './headers.ts';
import { loadNow } from './load-now.ts';
import { requireManager } from './require-manager.ts';

export type { SessionData, TypedSession };

declare module 'fastify' {
  interface FastifyRequest {
    /** session is the request's session, set by {@link fastifySession}. */
    session: TypedSession;
  }
}

/** FastifySessionOptions configure {@link fastifySession}. */
export interface FastifySessionOptions {
  /** manager is the session manager (see `createManager`); required. */
  manager: Manager;
}

// Per-request slots, declared as decorators so that Fastify builds every request and reply with
// them and they keep one shape. UNSAVED holds the session still to be saved: onSend takes it out
// before saving, because an error raised while saving is sent through onSend again, and that pass
// must not retry the save. LOCALS holds `reply.locals` once a request has asked for it.
const UNSAVED = Symbol('sessionkit.unsaved');
const LOCALS = Symbol('sessionkit.locals');

type Slots = { [UNSAVED]: AnySession | null; [LOCALS]: object | null };

/** ReplyWriter is the header writer of a Fastify reply; Fastify adds each Set-Cookie given to it. */
class ReplyWriter implements HeaderWriter {
  readonly #reply: FastifyReply;

  constructor(reply: FastifyReply) {
    this.#reply = reply;
  }

  get(name: string): HeaderValue | undefined {
    return this.#reply.getHeader(name);
  }

  set(name: string, value: string): void {
    this.#reply.header(name, value);
  }

  appendCookie(value: string): void {
    this.#reply.header('set-cookie', value);
  }
}

/**
 * declareLocals gives replies `reply.locals`, which @fastify/view merges into every render, unless
 * a plugin registered earlier (@fastify/view itself) declared it; @fastify/view then skips its own.
 * Declared here, it is made on first read with the flash view on it, so a request that never reads
 * it pays for neither the object nor the flash property. With the slots above in place of a
 * WeakMap, Fastify memory `ro` went from 144.3 k to 138.6 k instructions a request
 * (bench/instructions.ts, 20,000 requests of warm-up).
 */
function declareLocals(fastify: FastifyInstance): boolean {
  if (fastify.hasReplyDecorator('locals')) return false;
  fastify.decorateReply(LOCALS, null);
  fastify.decorateReply('locals', {
    getter(this: FastifyReply) {
      const slots = this as FastifyReply & Slots;
      if (slots[LOCALS] === null) {
        const locals = {};
        const session = this.request.session as unknown as AnySession | null;
        if (session) exposeFlash(locals, session);
        slots[LOCALS] = locals;
      }
      return slots[LOCALS];
    },
    setter(this: FastifyReply, value: object | null) {
      (this as FastifyReply & Slots)[LOCALS] = value;
    },
  });
  return true;
}

async function plugin(fastify: FastifyInstance, options: FastifySessionOptions): Promise<void> {
  const { manager } = options;
  requireManager(manager, 'fastify', 'register(fastifySession, { manager })');
  fastify.decorateRequest('session', null as unknown as TypedSession);
  fastify.decorateRequest(UNSAVED, null);
  const ownLocals = declareLocals(fastify);

  const start = (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void, session: AnySession) => {
    (request as FastifyRequest & Slots)[UNSAVED] = session;
    // The session is typed by the application's SessionData, which this module cannot see.
    request.session = session as unknown as TypedSession;
    // Locals made already (by another onRequest hook) get the flash now; ours get it when made.
    const withLocals = reply as FastifyReply & Slots & { locals: object | null };
    const locals = ownLocals ? withLocals[LOCALS] : (withLocals.locals ??= {});
    if (locals) exposeFlash(locals, session);
    done();
  };
  // Callback hooks rather than async ones: a request whose store reads synchronously goes on in
  // this turn, and a read-only request finishes its session without waiting for a promise that has
  // nothing to wait for.
  const startWhenLoaded = (loading: Promise<AnySession>, request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    loading.then((session) => start(request, reply, done, session), done);
  };
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    const loaded = loadNow(manager, request.raw, done);
    if (loaded instanceof Promise) startWhenLoaded(loaded, request, reply, done);
    else if (loaded !== undefined) start(request, reply, done, loaded);
  });

  fastify.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void) => {
    const slots = request as FastifyRequest & Slots;
    const session = slots[UNSAVED];
    if (!session) return done(null, payload);
    slots[UNSAVED] = null;
    const saving = finishSession(session, manager, new ReplyWriter(reply));
    // Nothing to save, or saved in this turn: the reply goes out in this turn's check phase, as a
    // held-back end does (hold-end.ts, endFor).
    if (saving === undefined) return inCheckPhase(done, null, payload);
    saving.then(() => done(null, payload), done);
  });
}

/**
 * fastifySession is a Fastify plugin (fastify-plugin conventions: not encapsulated, named
 * "sessionkit", for fastify 5.x) registered with `app.register(fastifySession, { manager })`.
 * It loads the session into `request.session` in an onRequest hook (with @fastify/session's
 * methods: `get`, `set` where `undefined` deletes, `regenerate(keysToKeep)`, `save`, `reload`,
 * `destroy`, `touch`, `cookie`, `sessionId`, and data as plain properties), exposes the flash view as
 * `reply.locals.flash` for @fastify/view templates (read lazily: only a rendering request
 * consumes the messages), and in onSend saves the session and then adds its cookie to any
 * Set-Cookie already on the reply. Store errors go to Fastify's error handler (500 by default);
 * an error response still saves what the handler wrote before failing.
 */
export const fastifySession: FastifyPluginAsync<FastifySessionOptions> = Object.assign(plugin, {
  // The three symbols fastify-plugin sets; written out so sessionkit needs no runtime dependency.
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'sessionkit',
  [Symbol.for('plugin-meta')]: { fastify: '5.x', name: 'sessionkit' },
});
