import { IncomingMessage, ServerResponse } from 'node:http';
import type { Manager } from '../manager.ts';
import type { AnySession } from './headers.ts';
import { attachSession, endFor, hooks, newHook, writeHeadFor } from './hold-end.ts';

/**
 * The Express fast path: the middleware adds no property to `req` or `res`.
 *
 * Express sets the prototype of each request and response to its own `express.request` /
 * `express.response`, after which every property added to the object gives it a hidden class of
 * its own. Measured under `npm run bench`, each added property cost about 870 bytes and a
 * visible share of throughput per request (bench/README.md). So `req.session`, `req.sessionID`,
 * `res.writeHead` and `res.end` live once on those shared prototypes, and look the request or
 * response up in a WeakMap; objects the middleware never saw pass straight through. A response
 * whose writeHead or end another middleware already wrapped, and any object without a framework
 * prototype (plain node:http under connect), gets the hooks of hold-end.ts as its own properties.
 */

/** requestSessions holds `req.session` for requests whose framework prototype defines it. */
const requestSessions = new WeakMap<IncomingMessage, AnySession>();
const hookedResponses = new WeakSet<object>();

/**
 * frameworkPrototype finds the prototype a framework put between `target` and node's `base`
 * (for an Express response, `express.response` below ServerResponse.prototype, which every app's
 * and sub-app's `res` inherits from), or undefined for a plain node object.
 */
function frameworkPrototype(target: object, base: object): object | undefined {
  for (let proto = Object.getPrototypeOf(target); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const parent = Object.getPrototypeOf(proto);
    if (parent === base) return proto;
    if (parent === null) return undefined;
  }
  return undefined;
}

const requestAccessors = {
  session: {
    get(this: IncomingMessage) {
      return requestSessions.get(this);
    },
    set(this: IncomingMessage, session: AnySession) {
      // A request another session middleware serves (express-session) gets a property of its own, which it may delete.
      if (requestSessions.has(this)) requestSessions.set(this, session);
      else Object.defineProperty(this, 'session', { value: session, writable: true, configurable: true, enumerable: true });
    },
  },
  sessionID: {
    get(this: IncomingMessage) {
      return requestSessions.get(this)?.id;
    },
    // The prototype is Express's, shared by every app in the process: another session middleware
    // (express-session assigns req.sessionID) must still be able to set it on its own requests.
    set(this: IncomingMessage, id: unknown) {
      Object.defineProperty(this, 'sessionID', { value: id, writable: true, configurable: true, enumerable: true });
    },
  },
};

/** servesRequests tells, per framework request prototype, whether the accessors above serve its requests. */
const servesRequests = new WeakMap<object, boolean>();

/**
 * hookRequestPrototype defines `session` and `sessionID` once on a framework request prototype,
 * and tells whether they are ours: a prototype that already had a `session` keeps it.
 */
function hookRequestPrototype(proto: object): boolean {
  let serves = servesRequests.get(proto);
  if (serves === undefined) {
    serves = !('session' in proto);
    if (serves) {
      for (const [name, accessor] of Object.entries(requestAccessors)) {
        if (!(name in proto)) Object.defineProperty(proto, name, { configurable: true, enumerable: false, ...accessor });
      }
    }
    servesRequests.set(proto, serves);
  }
  return serves;
}

/**
 * setRequestSession sets `req.session` (and `req.sessionID`, express-session's name for its id),
 * on the framework prototype where there is one, else as properties of `req`.
 */
export function setRequestSession(req: IncomingMessage, session: AnySession): void {
  // A `session` of the request's own (left undefined by another middleware) would hide the prototype's.
  const proto = Object.hasOwn(req, 'session') ? undefined : frameworkPrototype(req, IncomingMessage.prototype);
  if (proto !== undefined && hookRequestPrototype(proto)) {
    requestSessions.set(req, session);
    return;
  }
  const target = req as IncomingMessage & { session?: AnySession };
  target.session = session;
  if (!Object.hasOwn(req, 'sessionID')) Object.defineProperty(req, 'sessionID', { configurable: true, get: () => target.session?.id });
}

/** hookResponsePrototype gives a framework response prototype a writeHead and an end that act for the hooked responses inheriting them. */
function hookResponsePrototype(proto: object): void {
  if (hookedResponses.has(proto)) return;
  hookedResponses.add(proto);
  const writeHead = Reflect.get(proto, 'writeHead') as ServerResponse['writeHead'];
  const end = Reflect.get(proto, 'end') as ServerResponse['end'];
  const methods = {
    writeHead(this: ServerResponse, ...args: unknown[]) {
      const hook = hooks.get(this);
      return hook && !hook.own ? writeHeadFor(this, hook, writeHead, args) : writeHead.apply(this, args as Parameters<typeof writeHead>);
    },
    end(this: ServerResponse, ...args: unknown[]) {
      const hook = hooks.get(this);
      return hook && !hook.own ? endFor(this, hook, end, args) : end.apply(this, args as Parameters<typeof end>);
    },
  };
  for (const [name, value] of Object.entries(methods)) {
    Object.defineProperty(proto, name, { value, writable: true, configurable: true, enumerable: false });
  }
}

/**
 * attachResponse makes `res` carry the session's headers and wait for its save, through its
 * framework prototype when it has one and no writeHead or end of its own, else through hooks of
 * its own. A response already attached keeps its first session, which is returned.
 */
export function attachResponse(res: ServerResponse, session: AnySession, manager: Manager): AnySession {
  const attached = hooks.get(res);
  if (attached !== undefined) return attached.session;
  const proto = frameworkPrototype(res, ServerResponse.prototype);
  if (proto === undefined || Object.hasOwn(res, 'writeHead') || Object.hasOwn(res, 'end')) return attachSession(res, session, manager);
  const hook = newHook(session, manager, false);
  hooks.set(res, hook);
  hookResponsePrototype(proto);
  return session;
}
