/**
 * A session may need a response to carry a cookie besides its own: when the sessions of an
 * express-session deployment are moved over (`legacy`), the old cookie is cleared. The cookies
 * wait here, beside the session, until the first response headers of its request take them.
 */

/** ExtraCookie is a Set-Cookie value waiting for a response of its session's request. */
export interface ExtraCookie {
  value: string;
  /** shadowed: the session cookie has the same name, path and domain, so when it is set this one is left out. */
  shadowed: boolean;
}

const waiting = new WeakMap<object, ExtraCookie[]>();

const NONE: readonly string[] = [];

/** addExtraCookie makes the next response headers of `session`'s request carry `cookie`; `session` is the object the adapter holds (its property view). */
export function addExtraCookie(session: object, cookie: ExtraCookie): void {
  const list = waiting.get(session);
  if (list === undefined) waiting.set(session, [cookie]);
  else list.push(cookie);
}

/**
 * takeExtraCookies returns the Set-Cookie values waiting for `session`, once: a later call returns
 * none. `sessionCookieSet` tells whether the response also sets the session cookie, which makes a
 * cookie of the same name, path and domain needless.
 */
export function takeExtraCookies(session: object, sessionCookieSet: boolean): readonly string[] {
  const list = waiting.get(session);
  if (list === undefined) return NONE;
  waiting.delete(session);
  return list.filter((cookie) => !(cookie.shadowed && sessionCookieSet)).map((cookie) => cookie.value);
}
