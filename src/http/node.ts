import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Session } from '../session.ts';

/** HeaderTarget is what writes the session headers: the Manager. */
export interface HeaderTarget {
  readonly options: { readonly idHeader: string | undefined; readonly cacheControl: string | false };
  cookieFor(id: string | undefined): string;
  report(error: Error): void;
  load(req: IncomingMessage): Promise<Session>;
}

/** AnySession is a Session of any declared shape; the header logic does not read its values. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySession = Session<any>;

/** SessionHeaders are the response headers one session needs, as name → value pairs. */
export type SessionHeaders = [name: string, value: string][];

/**
 * sessionHeaders returns the headers the response must carry for `session` now — the cookie, the
 * id header, Cache-Control — and marks them delivered, so asking again returns none. Every
 * adapter writes these through its own framework API.
 */
export function sessionHeaders(session: AnySession, target: HeaderTarget): SessionHeaders {
  const decision = session.cookieDecision();
  if (decision.action === 'none') return [];
  session.markDelivered();
  const id = decision.action === 'set' ? decision.id : undefined;
  const headers: SessionHeaders = [['set-cookie', target.cookieFor(id)]];
  const { idHeader, cacheControl } = target.options;
  if (idHeader !== undefined && id !== undefined) headers.push([idHeader, id]);
  if (cacheControl !== false) headers.push(['cache-control', cacheControl]);
  return headers;
}

/** appendSetCookie adds `value` to the Set-Cookie header already on `res`, keeping what is there. */
export function appendSetCookie(res: ServerResponse, value: string | number | readonly string[]): void {
  const existing = res.getHeader('set-cookie');
  const before = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  res.setHeader('set-cookie', [...before, ...(Array.isArray(value) ? value : [String(value)])]);
}

/** applyHeaders writes {@link sessionHeaders} onto a node response, adding to any Set-Cookie already there. */
export function applyHeaders(res: ServerResponse, session: AnySession, target: HeaderTarget): void {
  if (res.headersSent) return;
  for (const [name, value] of sessionHeaders(session, target)) {
    if (name === 'set-cookie') appendSetCookie(res, value);
    else res.setHeader(name, value);
  }
}
