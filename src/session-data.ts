import type { Session } from './session.ts';

/**
 * SessionData is the shape of your sessions. Declare its keys once and every adapter types
 * `req.session` with them, for the `get`/`set` API and for plain properties alike:
 *
 * ```ts
 * declare module 'sessionkit' { interface SessionData { uid: string; visits: number } }
 * ```
 * Left empty, sessions hold any key (read as `unknown` through properties).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface SessionData {}

/**
 * TypedSession is the session every adapter hands out: `Session<SessionData>` whose declared keys
 * are also optional properties, or an untyped Session while SessionData is empty.
 */
export type TypedSession = keyof SessionData extends never ? Session : Session<SessionData> & Partial<SessionData>;
