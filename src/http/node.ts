import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Session } from '../session.ts';
import { exposeFlash } from './shared.ts';

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

function appendSetCookie(res: ServerResponse, value: string | number | readonly string[]): void {
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

/**
 * attached holds the responses whose writeHead already carries a session's headers, so a second
 * attach (start() behind the middleware) adds no second cookie. It is a WeakSet rather than a mark
 * on the response, which would be one more property added to an Express response (see
 * {@link connectMiddleware}).
 */
const attached = new WeakSet<ServerResponse>();

/**
 * attachSession makes the response carry the session's headers however the handler writes it:
 * `writeHead` (which node also calls implicitly on the first write or `end`) adds them just before
 * the headers go out. Cookies passed to writeHead itself, as an object or a raw header list (flat
 * `[name, value, …]` or `[[name, value], …]` pairs, both of which node accepts), are kept beside
 * the session cookie rather than replacing it. A response already attached keeps its first session.
 */
export function attachSession(res: ServerResponse, session: AnySession, target: HeaderTarget): void {
  if (attached.has(res)) return;
  attached.add(res);
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    const index = typeof args[1] === 'string' ? 2 : 1;
    const given = args[index];
    if (Array.isArray(given)) {
      // Added in the list's own shape: node reads a list of pairs only if every entry is a pair.
      const headers = sessionHeaders(session, target);
      args[index] = Array.isArray(given[0]) ? [...given, ...headers] : [...given, ...headers.flat()];
    } else {
      if (given && typeof given === 'object') {
        const rest: OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(given as OutgoingHttpHeaders)) {
          if (name.toLowerCase() === 'set-cookie' && value !== undefined) appendSetCookie(this, value);
          else rest[name] = value;
        }
        args[index] = rest;
      }
      applyHeaders(this, session, target);
    }
    return writeHead.apply(this, args as Parameters<ServerResponse['writeHead']>);
  } as ServerResponse['writeHead'];
}

/**
 * saveBeforeEnd holds back `res.end` until the session is saved, so the next request of the same
 * client always sees this request's writes — also after `res.redirect`. A save failure goes to
 * `onError` (the framework's error path) while the headers are still unsent; later calls to end
 * are ignored until the first one completes.
 */
export function saveBeforeEnd(res: ServerResponse, session: AnySession, onError: (error: Error) => void, target: HeaderTarget): void {
  const end = res.end;
  let ending = false;
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    if (ending) return this;
    ending = true;
    session.release().then(
      () => {
        res.end = end;
        end.apply(res, args as Parameters<ServerResponse['end']>);
      },
      (error: Error) => {
        res.end = end;
        if (res.headersSent) {
          target.report(error);
          end.apply(res, args as Parameters<ServerResponse['end']>);
        } else {
          // Nothing was stored, so the error response must not hand out a cookie for it.
          session.markDelivered();
          onError(error);
        }
      },
    );
    return this;
  } as ServerResponse['end'];
}

/** ConnectMiddleware is a connect/Express middleware function. */
export type ConnectMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/**
 * connectMiddleware loads the session into `req.session`, exposes the flash view as
 * `res.locals.flash` (read lazily: only a request that renders it consumes the messages), and
 * saves the session before the response ends. Store errors go to `next(err)`. A request that
 * already has a session (the middleware mounted twice) keeps it.
 *
 * It adds as few properties to `req` and `res` as it can (`session`, `writeHead`, `end`): Express
 * sets their prototype per request, after which every added property gives the object a hidden
 * class of its own, a cost that showed in throughput (see bench/README.md).
 */
export function connectMiddleware(target: HeaderTarget): ConnectMiddleware {
  return (req, res, next) => {
    const withSession = req as IncomingMessage & { session?: Session };
    if (withSession.session !== undefined) return next();
    target.load(req).then((session) => {
      withSession.session = session;
      attachSession(res, session, target);
      const withLocals = res as ServerResponse & { locals?: Record<string, unknown> };
      exposeFlash((withLocals.locals ??= {}), session);
      saveBeforeEnd(res, session, next, target);
      next();
    }, next);
  };
}
