import type { IncomingMessage } from 'node:http';
import { LOAD_NOW, type Manager } from '../manager.ts';
import type { AnySession } from './headers.ts';

/**
 * withSession calls `use` with the request's session: in this turn when the store reads
 * synchronously (`Store.getNow`, the memory provider), else once it has loaded. A failure to load
 * goes to `fail`; `use` itself runs outside of that, so what it throws is its caller's.
 */
export function withSession(manager: Manager, req: IncomingMessage, use: (session: AnySession) => void, fail: (error: Error) => void): void {
  let loaded: AnySession | Promise<AnySession>;
  try {
    loaded = manager[LOAD_NOW](req);
  } catch (error) {
    return fail(error as Error);
  }
  if (loaded instanceof Promise) loaded.then(use, fail);
  else use(loaded);
}
