import { SessionError } from './errors.ts';
import type { Session } from './session.ts';

/**
 * The property view lets the libraries apps put on a session (passport, CSRF guards, connect-flash)
 * use it the way express-session, koa-session and @fastify/session taught them:
 * `session.views = 1`, `delete session.x`, `session.cart.items.push(…)`. A session is a Proxy over
 * its {@link Session}: a name the Session has (a method such as `get` or `regenerate`, or `id`,
 * `cookie`, `flash`) is that member; any other name is a data key, read with `get`, written with
 * `set` and removed with `delete`, so property writes are the same recorded operations as the
 * `set` API and merge the same way with concurrent requests.
 */

type AnySession = Session<Record<string, unknown>>;

/** OBJECT_MEMBERS are names every object has; they keep their usual meaning, called on the view. */
const OBJECT_MEMBERS = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * members maps each property name of the view that is a Session member to that member:
 * the Session's own names, with its leveled flash offered under `flashProperty` (or not at all).
 */
function members(prototype: object, flashProperty: string | false): Map<string, string> {
  const names = new Map<string, string>();
  for (const name of [...Object.getOwnPropertyNames(prototype), ...OBJECT_MEMBERS]) names.set(name, name);
  names.delete('flash');
  if (flashProperty !== false) names.set(flashProperty, 'flash');
  return names;
}

function reserved(name: string, flashProperty: string | false): SessionError {
  const hint =
    name === 'flash'
      ? '; connect-flash and other libraries that keep data in session.flash need the flashProperty option set to another name'
      : `; use session.set(${JSON.stringify(name)}, value) to store data under that name`;
  return new SessionError('ERR_SESSION_INVALID_VALUE', `session: "${name}" is part of the session's API${flashProperty === name ? ' (its leveled flash)' : ''}, not a data key${hint}`);
}

function handler(prototype: object, flashProperty: string | false): ProxyHandler<AnySession> {
  const api = members(prototype, flashProperty);
  return {
    // Members are read as `target[name]`, which is Reflect.get with the target as receiver, in
    // V8's keyed-load fast path rather than its generic one.
    get(target, name) {
      if (typeof name !== 'string') return (target as unknown as Record<symbol, unknown>)[name];
      const member = api.get(name);
      if (member === undefined) return target.get(name);
      if (OBJECT_MEMBERS.has(member)) return Reflect.get(target, member);
      const value = target[member];
      // Methods run on the Session itself: its state lives in private fields the Proxy cannot reach.
      return typeof value === 'function' ? value.bind(target) : value;
    },
    set(target, name, value) {
      if (typeof name !== 'string') return Reflect.set(target, name, value, target);
      const member = api.get(name);
      if (member === undefined) {
        target.set(name, value);
        return true;
      }
      if (Object.getOwnPropertyDescriptor(prototype, member)?.set === undefined) throw reserved(name, flashProperty);
      return Reflect.set(target, member, value, target);
    },
    deleteProperty(target, name) {
      if (typeof name !== 'string') return Reflect.deleteProperty(target, name);
      if (api.has(name)) throw reserved(name, flashProperty);
      target.delete(name);
      return true;
    },
    has(target, name) {
      return typeof name === 'string' ? api.has(name) || target.has(name) : Reflect.has(target, name);
    },
    ownKeys(target) {
      return [...target.keys(), ...Reflect.ownKeys(target)];
    },
    getOwnPropertyDescriptor(target, name) {
      if (typeof name !== 'string' || api.has(name) || !target.has(name)) return Reflect.getOwnPropertyDescriptor(target, name);
      return { value: target.get(name), writable: true, enumerable: true, configurable: true };
    },
    defineProperty(target, name, descriptor) {
      if (typeof name !== 'string') return Reflect.defineProperty(target, name, descriptor);
      if (api.has(name) || !('value' in descriptor)) throw reserved(name, flashProperty);
      target.set(name, descriptor.value);
      return true;
    },
  };
}

const handlers = new Map<string | false, ProxyHandler<AnySession>>();

/**
 * propertyView wraps `session` in the property view, with the leveled flash under
 * `flashProperty` ("flash" by default; `false` leaves `flash` to the data). Handlers are made
 * once per flash name and shared by every session.
 */
export function propertyView<S extends object>(session: S, flashProperty: string | false): S {
  let shared = handlers.get(flashProperty);
  if (shared === undefined) {
    shared = handler(Object.getPrototypeOf(session), flashProperty);
    handlers.set(flashProperty, shared);
  }
  return new Proxy(session as unknown as AnySession, shared) as unknown as S;
}
