import type express from 'express';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createClient, type RedisClientType } from 'redis';
import { closeServer } from 'sessionkit/testing';
import { requireServer } from '../support/servers.ts';

/** SECRET is a signing secret both express-session and sessionkit accept. */
export const SECRET = randomBytes(32).toString('hex');

/** Running is an app served on loopback. */
export interface Running {
  base: string;
  close(): Promise<void>;
}

/** serve listens with `app` on 127.0.0.1 and an ephemeral port. */
export async function serve(app: express.Express): Promise<Running> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}

/** Reply is one response as a {@link Jar} saw it. */
export interface Reply {
  status: number;
  body: string;
  setCookies: string[];
}

/**
 * Jar is a client that keeps cookies by name as a browser does for one site: a Set-Cookie
 * replaces the cookie of its name, and `Max-Age=0` or an `Expires` in the past removes it.
 */
export class Jar {
  readonly cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  /** header is the Cookie header this jar sends, or undefined when it holds none. */
  get header(): string | undefined {
    return this.cookies.size === 0 ? undefined : [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  /** copy is another jar of the same site holding the same cookies, for a second tab or a replay. */
  copy(): Jar {
    const jar = new Jar(this.base);
    for (const [name, value] of this.cookies) jar.cookies.set(name, value);
    return jar;
  }

  async request(path: string, method = 'GET'): Promise<Reply> {
    const header = this.header;
    const response = await fetch(this.base + path, { method, headers: header === undefined ? {} : { cookie: header }, redirect: 'manual' });
    const setCookies = response.headers.getSetCookie();
    for (const line of setCookies) this.#keep(line);
    return { status: response.status, body: await response.text(), setCookies };
  }

  /** json requests `path`, expects a 200 and returns the parsed body. */
  async json(path: string, method = 'GET'): Promise<Record<string, unknown>> {
    const reply = await this.request(path, method);
    if (reply.status !== 200) throw new Error(`${method} ${path} answered ${reply.status}: ${reply.body}`);
    return JSON.parse(reply.body) as Record<string, unknown>;
  }

  #keep(line: string): void {
    const [pair, ...attributes] = line.split(';');
    const at = pair!.indexOf('=');
    const name = pair!.slice(0, at).trim();
    const gone = attributes.some((attribute) => {
      const [key, value = ''] = attribute.split('=').map((part) => part.trim());
      return (key!.toLowerCase() === 'max-age' && Number(value) <= 0) || (key!.toLowerCase() === 'expires' && Date.parse(value) <= Date.now());
    });
    if (gone) this.cookies.delete(name);
    else this.cookies.set(name, pair!.slice(at + 1).trim());
  }
}

/** cookieAttribute returns the value of `attribute` in a Set-Cookie line (case-insensitive), '' for a flag, undefined when absent. */
export function cookieAttribute(line: string, attribute: string): string | undefined {
  for (const part of line.split(';').slice(1)) {
    const [key, value = ''] = part.split('=').map((piece) => piece.trim());
    if (key!.toLowerCase() === attribute.toLowerCase()) return value;
  }
  return undefined;
}

/** lifetimeOf is how long a Set-Cookie line keeps its cookie, in seconds, from Max-Age or Expires; undefined for a browser-session cookie. */
export function lifetimeOf(line: string): number | undefined {
  const maxAge = cookieAttribute(line, 'max-age');
  if (maxAge !== undefined) return Number(maxAge);
  const expires = cookieAttribute(line, 'expires');
  return expires === undefined ? undefined : (Date.parse(expires) - Date.now()) / 1000;
}

/**
 * useRedis gives the current suite a node-redis client (the client connect-redis takes) and a key
 * prefix of its own, gated on the server being up, and removes that prefix's keys afterwards.
 */
export function useRedis(label: string): { client: RedisClientType; prefix: string } {
  const client: RedisClientType = createClient({ url: 'redis://127.0.0.1:6379' });
  const prefix = `sessionkit_test:${label}:${randomBytes(4).toString('hex')}:`;
  before(async function () {
    await requireServer(this, 'redis', '127.0.0.1', 6379);
    await client.connect();
  });
  after(async function () {
    if (!client.isOpen) return;
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length > 0) await client.del(keys);
    await client.close();
  });
  return { client, prefix };
}

/**
 * usePostgres gives the current suite a pool on the test database, gated on the server being up,
 * and drops the tables whose names start with the returned `table` (its own) afterwards.
 */
export function usePostgres(label: string): { pool: pg.Pool; table: string } {
  const pool = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 4 });
  const table = `sessionkit_test_${label}_${randomBytes(4).toString('hex')}`;
  before(async function () {
    await requireServer(this, 'PostgreSQL', '127.0.0.1', 5432);
  });
  after(async function () {
    const { rows } = await pool.query<{ tablename: string }>('SELECT tablename FROM pg_tables WHERE tablename LIKE $1', [`${table}%`]).catch(() => ({ rows: [] }));
    for (const { tablename } of rows) await pool.query(`DROP TABLE IF EXISTS "${tablename}"`).catch(() => undefined);
    await pool.end();
  });
  return { pool, table };
}
