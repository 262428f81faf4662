import type { IncomingMessage } from 'node:http';
import { LOAD_NOW, type Manager } from '../manager.ts';
import type { AnySession } from './headers.ts';

/**
 * loadNow returns the request's session: the session itself when the store read it in this turn
 * (`Store.getNow`, the memory provider), else a promise of it, or undefined when loading failed
 * and the error went to `fail`. An adapter goes on with a session loaded in this turn by a plain
 * call, and makes a closure only to wait for a promise, in a function of its own: a closure in the
 * hook itself had V8 make a context for every request, used or not.
 */
export function loadNow(manager: Manager, req: IncomingMessage, fail: (error: Error) => void): AnySession | Promise<AnySession> | undefined {
  try {
    return manager[LOAD_NOW](req);
  } catch (error) {
    fail(error as Error);
    return undefined;
  }
}
