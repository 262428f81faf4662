import { ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import { appendSetCookie, applyHeaders, sessionHeaders, type AnySession, type HeaderTarget } from './node.ts';

/**
 * Hook is what the writeHead and end hooks of one response act on: the session whose headers
 * writeHead adds and, once {@link saveBeforeEnd} asked for it, how a failed save is reported
 * (`saveError`) while end is held back until the save completes.
 */
interface Hook {
  session: AnySession;
  target: HeaderTarget;
  saveError?: (error: Error) => void;
  ending: boolean;
  /** own: the hooks are properties of the response itself, not of the framework's shared prototype. */
  own: boolean;
}

/** hooks holds the hooked responses; a response hooked once keeps its first session. */
const hooks = new WeakMap<ServerResponse, Hook>();

type WriteHead = ServerResponse['writeHead'];
type End = ServerResponse['end'];

/**
 * writeHeadFor adds the session headers of `hook` to a writeHead call (node also calls writeHead
 * implicitly on the first write or end). Cookies passed to writeHead itself, as an object or a raw
 * header list (flat `[name, value, …]` or `[[name, value], …]` pairs, both of which node accepts),
 * are kept beside the session cookie rather than replacing it.
 */
function writeHeadFor(res: ServerResponse, hook: Hook, writeHead: WriteHead, args: unknown[]): ServerResponse {
  const index = typeof args[1] === 'string' ? 2 : 1;
  const given = args[index];
  if (Array.isArray(given)) {
    // Added in the list's own shape: node reads a list of pairs only if every entry is a pair.
    const headers = sessionHeaders(hook.session, hook.target);
    args[index] = Array.isArray(given[0]) ? [...given, ...headers] : [...given, ...headers.flat()];
  } else {
    if (given && typeof given === 'object') {
      const rest: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(given as OutgoingHttpHeaders)) {
        if (name.toLowerCase() === 'set-cookie' && value !== undefined) appendSetCookie(res, value);
        else rest[name] = value;
      }
      args[index] = rest;
    }
    applyHeaders(res, hook.session, hook.target);
  }
  return writeHead.apply(res, args as Parameters<WriteHead>);
}

/**
 * endFor holds back an end call until the session is saved; later calls are ignored until the
 * first completes. A save failure goes to `saveError` (the framework's error path) while the
 * headers are still unsent; once they are sent, it is reported and the response ends.
 */
function endFor(res: ServerResponse, hook: Hook, end: End, args: unknown[]): ServerResponse {
  const saveError = hook.saveError;
  if (saveError === undefined) return end.apply(res, args as Parameters<End>);
  if (hook.ending) return res;
  hook.ending = true;
  hook.session.release().then(
    () => {
      hook.saveError = undefined;
      end.apply(res, args as Parameters<End>);
    },
    (error: Error) => {
      hook.saveError = undefined;
      if (res.headersSent) {
        hook.target.report(error);
        end.apply(res, args as Parameters<End>);
      } else {
        // Nothing was stored, so the error response must not hand out a cookie for it.
        hook.session.markDelivered();
        saveError(error);
      }
    },
  );
  return res;
}

/** hookedPrototypes are the framework prototypes whose writeHead and end consult {@link hooks}. */
const hookedPrototypes = new WeakSet<object>();

/**
 * frameworkPrototype finds the prototype a framework put between `target` and node's `base`
 * (for an Express response, `express.response` below ServerResponse.prototype, which every app's
 * and sub-app's `res` inherits from), or undefined for a plain node object.
 */
export function frameworkPrototype(target: object, base: object): object | undefined {
  for (let proto = Object.getPrototypeOf(target); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const parent = Object.getPrototypeOf(proto);
    if (parent === base) return proto;
    if (parent === null) return undefined;
  }
  return undefined;
}

/**
 * hookPrototype gives a framework prototype a writeHead and an end that act for the hooked
 * responses that inherit them and pass any other straight on. Express sets the prototype of each
 * response, after which every property added to it costs the object a hidden class of its own
 * (see bench/README.md); hooking the shared prototype once adds none.
 */
function hookPrototype(proto: object): void {
  if (hookedPrototypes.has(proto)) return;
  hookedPrototypes.add(proto);
  const writeHead = Reflect.get(proto, 'writeHead') as WriteHead;
  const end = Reflect.get(proto, 'end') as End;
  const methods = {
    writeHead(this: ServerResponse, ...args: unknown[]) {
      const hook = hooks.get(this);
      return hook && !hook.own ? writeHeadFor(this, hook, writeHead, args) : writeHead.apply(this, args as Parameters<WriteHead>);
    },
    end(this: ServerResponse, ...args: unknown[]) {
      const hook = hooks.get(this);
      return hook && !hook.own ? endFor(this, hook, end, args) : end.apply(this, args as Parameters<End>);
    },
  };
  for (const [name, value] of Object.entries(methods)) {
    Object.defineProperty(proto, name, { value, writable: true, configurable: true, enumerable: false });
  }
}

/**
 * attachSession makes the response carry the session's headers however the handler writes it.
 * A response that inherits a framework prototype and has no writeHead or end of its own is served
 * by hooks on that prototype; any other (plain node, or one whose end another middleware already
 * wrapped, possibly around the unhooked method) gets the hooks as its own properties. A response
 * already attached keeps its first session, which is returned.
 */
export function attachSession(res: ServerResponse, session: AnySession, target: HeaderTarget): AnySession {
  const attached = hooks.get(res);
  if (attached !== undefined) return attached.session;
  const proto = frameworkPrototype(res, ServerResponse.prototype);
  const own = proto === undefined || Object.hasOwn(res, 'writeHead') || Object.hasOwn(res, 'end');
  const hook: Hook = { session, target, ending: false, own };
  hooks.set(res, hook);
  if (!own) {
    hookPrototype(proto);
    return session;
  }
  const writeHead = res.writeHead;
  const end = res.end;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    return writeHeadFor(this, hook, writeHead, args);
  } as WriteHead;
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    return endFor(this, hook, end, args);
  } as End;
  return session;
}

/**
 * saveBeforeEnd holds back the end of an attached response until the session is saved, so the
 * next request of the same client always sees this request's writes — also after `res.redirect`.
 * A save failure goes to `onError` (the framework's error path) while the headers are still unsent.
 */
export function saveBeforeEnd(res: ServerResponse, onError: (error: Error) => void): void {
  const hook = hooks.get(res);
  if (hook !== undefined) hook.saveError = onError;
}
