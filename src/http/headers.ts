import type { ServerResponse } from 'node:http';
import type { Manager } from '../manager.ts';
import { CARRIED, RELEASE_IF_NEEDED, SELF, type Session } from '../session.ts';
import { takeExtraCookies } from './extra-cookies.ts';

/** AnySession is a Session of any declared shape; the header logic does not read its values. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySession = Session<any>;

/** HeaderValue is a header value as node and the frameworks hold it. */
export type HeaderValue = string | number | readonly string[];

/**
 * HeaderWriter is how {@link writeSessionHeaders} reaches one framework's response: read a header
 * already set, set one, and add a Set-Cookie beside those already there. Each adapter writes one.
 */
export interface HeaderWriter {
  get(name: string): HeaderValue | undefined;
  set(name: string, value: string): void;
  appendCookie(value: string): void;
}

/** SessionHeaders are the headers a session adds to a response, as name → value pairs. */
export type SessionHeaders = [name: string, value: string][];

/** VARIES_BY_COOKIE matches a Vary value that already names Cookie, or `*`. */
const VARIES_BY_COOKIE = /(^|,)\s*(cookie|\*)\s*(,|$)/i;

/**
 * sessionHeaders returns the headers a response must carry for `session` now and marks the
 * cookie delivered, so asking again returns none of it:
 * - the cookie (and the id header) when the client lacks the current id, must get it re-signed or
 *   rolled, or must drop it after a destroy;
 * - `Cache-Control` (the manager's `cacheControl`, "no-store" by default) and `Vary: Cookie` when
 *   the response is the client's own: it sets the cookie, or the request carried a live session.
 *   On a response that sets the cookie the manager's value replaces the handler's, since a shared
 *   cache must never hand one client's cookie to another; otherwise a handler's own Cache-Control
 *   is kept. `current` reads the headers already set, to keep theirs and not repeat `Vary`.
 */
export function sessionHeaders(session: AnySession, manager: Manager, current: (name: string) => HeaderValue | undefined = () => undefined): SessionHeaders {
  const headers: SessionHeaders = [];
  emitHeaders(session, manager, {
    get: current,
    set: (name, value) => void headers.push([name, value]),
    appendCookie: (value) => void headers.push(['set-cookie', value]),
  });
  return headers;
}

/** writeSessionHeaders writes {@link sessionHeaders} through an adapter's {@link HeaderWriter}. */
export function writeSessionHeaders(session: AnySession, manager: Manager, writer: HeaderWriter): void {
  emitHeaders(session, manager, writer);
}

/**
 * emitHeaders decides the headers of {@link sessionHeaders} and hands each to `to` as it goes,
 * reading those already set through it too, so a response's own writer takes them without a list
 * made in between (one of the allocations bench/README.md "Where the added time goes" counts).
 * Each header is read before it is written.
 */
function emitHeaders(session: AnySession, manager: Manager, to: HeaderWriter): void {
  // The Session itself, not its property view: every call through the view is a Proxy trap and a bound method.
  const self = session[SELF];
  const decision = self.cookieDecision();
  // Extra cookies (an old session cookie to clear) go first, so the session cookie wins where the names meet.
  const extra = takeExtraCookies(session, decision.action === 'set');
  for (const value of extra) to.appendCookie(value);
  if (decision.action !== 'none') {
    self.markDelivered();
    const id = decision.action === 'set' ? decision.id : undefined;
    to.appendCookie(manager.cookieFor(id, decision.action === 'set' ? decision.maxAgeMs : undefined));
    const { idHeader } = manager.options;
    if (idHeader !== undefined && id !== undefined) to.set(idHeader, id);
  } else if (!self[CARRIED] && extra.length === 0) {
    return;
  }
  const { cacheControl } = manager.options;
  if (cacheControl !== false && (decision.action !== 'none' || to.get('cache-control') === undefined)) to.set('cache-control', cacheControl);
  const vary = to.get('vary');
  if (vary === undefined || vary === '') to.set('vary', 'Cookie');
  else if (!VARIES_BY_COOKIE.test(String(vary))) to.set('vary', `${String(vary)}, Cookie`);
}

/**
 * finishSession is the rule every adapter keeps at the end of a request: save first, then write
 * the headers (through `writer`; none when the headers already went out). A save may change the id
 * (a taken new id, a regenerate followed) or fail, and a failed save must not hand out a cookie
 * for a session that was never stored. When there is nothing to save, or the save was made in this
 * turn, it writes the headers at once and returns undefined, so the request waits for no promise.
 */
export function finishSession(session: AnySession, manager: Manager, writer: HeaderWriter | undefined): Promise<void> | undefined {
  const saving = session[SELF][RELEASE_IF_NEEDED]();
  if (saving !== undefined) return saving.then(() => writeIfOpen(session, manager, writer));
  writeIfOpen(session, manager, writer);
  return undefined;
}

/** writeIfOpen writes the session headers unless they went out already (there is no writer then). */
function writeIfOpen(session: AnySession, manager: Manager, writer: HeaderWriter | undefined): void {
  if (writer !== undefined) writeSessionHeaders(session, manager, writer);
}

/** appendSetCookie adds `value` to the Set-Cookie header already on `res`, keeping what is there. */
export function appendSetCookie(res: ServerResponse, value: HeaderValue): void {
  const existing = res.getHeader('set-cookie');
  const before = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  res.setHeader('set-cookie', [...before, ...(Array.isArray(value) ? value : [String(value)])]);
}

/** NodeWriter is the {@link HeaderWriter} of a node response. */
class NodeWriter implements HeaderWriter {
  readonly #res: ServerResponse;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  get(name: string): HeaderValue | undefined {
    return this.#res.getHeader(name);
  }

  set(name: string, value: string): void {
    this.#res.setHeader(name, value);
  }

  appendCookie(value: string): void {
    appendSetCookie(this.#res, value);
  }
}

/** nodeWriter is the {@link HeaderWriter} of a node response. */
export function nodeWriter(res: ServerResponse): HeaderWriter {
  return new NodeWriter(res);
}

/** applyHeaders writes {@link sessionHeaders} onto a node response that has not sent its headers yet. */
export function applyHeaders(res: ServerResponse, session: AnySession, manager: Manager): void {
  if (!res.headersSent) writeSessionHeaders(session, manager, nodeWriter(res));
}
