import type { IncomingMessage } from 'node:http';
import { decode, freshState } from '../codec.ts';
import type { Manager } from '../manager.ts';
import { Session } from '../session.ts';

/**
 * newSession makes the Session of `id` for a request whose client does not hold that id yet (a
 * regenerated or a moved session), so its cookie goes out with the response: from `record` as
 * stored, or empty without one. It throws `ERR_SESSION_CORRUPT_RECORD` for a record the codec
 * cannot read. `staleIds` are ids whose records the session removes when it is saved.
 */
export function newSession(manager: Manager, req: IncomingMessage, id: string, record?: string, staleIds: string[] = []): Session {
  const state = record === undefined ? freshState(manager.options.now()) : decode(record);
  return new Session(manager, { id, record, state, clientId: undefined, clientHadCookie: true, resign: false, staleIds, detached: false, request: req });
}
