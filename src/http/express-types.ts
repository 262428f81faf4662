import type { FlashView } from '../flash.ts';
import type { Session } from '../session.ts';

/**
 * SessionData is the shape of your sessions. Declare its keys once and every adapter types
 * `req.session` with them:
 *
 * ```ts
 * declare module 'sessionkit' { interface SessionData { uid: string; visits: number } }
 * ```
 * Left empty, sessions hold any key.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface SessionData {}

/** TypedSession is `Session<SessionData>`, or an untyped Session while SessionData is empty. */
export type TypedSession = keyof SessionData extends never ? Session : Session<SessionData>;

declare global {
  // Express keeps its request and locals types in this global namespace.
  namespace Express {
    interface Request {
      session: TypedSession;
    }
    interface Locals {
      flash: FlashView;
    }
  }
}
