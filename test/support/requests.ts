import type { IncomingMessage } from 'node:http';

/** fakeRequest builds the part of an IncomingMessage the Manager reads: its headers. */
export function fakeRequest(cookie?: string, headers: Record<string, string> = {}): IncomingMessage {
  return { headers: { ...(cookie === undefined ? {} : { cookie }), ...headers } } as unknown as IncomingMessage;
}
