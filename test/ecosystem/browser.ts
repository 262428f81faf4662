import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer } from 'sessionkit/testing';

/** Page is one response as {@link Browser} saw it. */
export interface Page {
  status: number;
  body: string;
  /** location is the redirect target, if any. */
  location: string | null;
  setCookies: string[];
}

/** RequestOptions are the parts of a request the ecosystem flows vary. */
export interface RequestOptions {
  method?: string;
  /** form is sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  headers?: Record<string, string>;
}

/**
 * Browser keeps every cookie a server sets, the way a browser does for one site: a Set-Cookie
 * replaces the cookie of that name, and Max-Age=0 or an Expires in the past removes it. Unlike
 * CookieClient it holds more than one cookie, since CSRF libraries may set their own.
 */
export class Browser {
  readonly jar = new Map<string, string>();
  constructor(readonly base: string) {}

  /** cookie returns the value of cookie `name`, or undefined. */
  cookie(name: string): string | undefined {
    return this.jar.get(name);
  }

  async request(path: string, options: RequestOptions = {}): Promise<Page> {
    const headers = new Headers(options.headers);
    if (this.jar.size > 0) headers.set('cookie', [...this.jar].map(([name, value]) => `${name}=${value}`).join('; '));
    let body: string | undefined;
    if (options.form !== undefined) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams(options.form).toString();
    }
    const response = await fetch(this.base + path, { method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, redirect: 'manual' });
    const setCookies = response.headers.getSetCookie();
    for (const line of setCookies) this.#store(line);
    return { status: response.status, body: await response.text(), location: response.headers.get('location'), setCookies };
  }

  /** json requests `path` and parses the body, which must be a 200. */
  async json(path: string, options: RequestOptions = {}): Promise<Record<string, unknown>> {
    const page = await this.request(path, options);
    if (page.status !== 200) throw new Error(`${path} answered ${page.status}: ${page.body}`);
    return JSON.parse(page.body) as Record<string, unknown>;
  }

  #store(line: string): void {
    const [pair, ...attributes] = line.split(';');
    const at = pair!.indexOf('=');
    const name = pair!.slice(0, at).trim();
    const value = pair!.slice(at + 1).trim();
    const gone = attributes.some((a) => {
      const [key, v = ''] = a.trim().split('=');
      if (/^max-age$/i.test(key!)) return Number(v) <= 0;
      if (/^expires$/i.test(key!)) return Date.parse(v) <= Date.now();
      return false;
    });
    if (gone) this.jar.delete(name);
    else this.jar.set(name, value);
  }
}

/** RunningApp is an app listening on loopback. */
export interface RunningApp {
  base: string;
  close(): Promise<void>;
}

/** listenOn serves a node request listener (an Express app, Koa's `app.callback()`) on 127.0.0.1. */
export async function listenOn(app: { listen(port: number, host: string, ready: () => void): Server }): Promise<RunningApp> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}
