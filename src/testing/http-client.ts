import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Reply is what {@link CookieClient.request} returns. */
export interface Reply {
  status: number;
  body: string;
  setCookies: string[];
  headers: Headers;
}

/** CookieClient is a tiny cookie-keeping HTTP client for tests; `cookie` may also be set by hand. */
export class CookieClient {
  cookie: string | undefined;
  constructor(readonly base: string) {}

  async request(path: string, init: RequestInit = {}): Promise<Reply> {
    const headers = new Headers(init.headers);
    if (this.cookie !== undefined) headers.set('cookie', this.cookie);
    const response = await fetch(this.base + path, { ...init, headers, redirect: 'manual' });
    const setCookies = response.headers.getSetCookie();
    for (const line of setCookies) {
      const pair = line.split(';', 1)[0]!;
      this.cookie = /max-age=0/i.test(line) ? undefined : pair;
    }
    return { status: response.status, body: await response.text(), setCookies, headers: response.headers };
  }

  /** get requests `path` and returns the body parsed as JSON. */
  async json(path: string): Promise<unknown> {
    return JSON.parse((await this.request(path)).body);
  }
}

/** listen serves `handler` on an ephemeral loopback port and returns the server and its base URL. */
export async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; base: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, base: `http://127.0.0.1:${port}` };
}

/** close stops `server`, dropping idle keep-alive connections. */
export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
