import assert from 'node:assert/strict';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { SessionError } from '../../errors.ts';
// The package root, so the built-in memory and file providers are registered as for any user.
import { createManager, type Manager } from '../../index.ts';
import type { RejectedId } from '../../options.ts';
import type { Store } from '../../provider.ts';
import type { Session } from '../../session.ts';
import { closeServer, CookieClient, listen } from '../http-client.ts';
import type { ManagerSuiteOptions } from './index.ts';

type RouteHandler = (req: IncomingMessage, res: ServerResponse, error?: unknown) => Promise<void>;

type Route = (session: Session, url: URL, res: ServerResponse) => Promise<unknown> | unknown;

/** ROUTES are the suite's endpoints: each acts on the request's session and returns the JSON body. */
const ROUTES: Record<string, Route> = {
  '/noop': () => ({ ok: true }),
  '/set': (s, url) => {
    for (const [k, v] of url.searchParams) s.set(k, v);
    return { id: s.id };
  },
  '/setjson': (s, url) => {
    for (const [k, v] of url.searchParams) s.set(k, JSON.parse(v));
    return { id: s.id };
  },
  '/delete': (s, url) => {
    for (const key of url.searchParams.getAll('key')) s.delete(key);
    return { ok: true };
  },
  '/flush': (s) => {
    s.flush();
    return { ok: true };
  },
  '/get': (s) => Object.fromEntries(s.keys().map((k) => [k, s.get(k)])),
  '/inc': (s) => ({ n: s.increment('n') }),
  '/regenerate': async (s) => {
    await s.regenerate();
    return { id: s.id };
  },
  '/destroy': async (s) => {
    await s.destroy();
    return { ok: true };
  },
  '/destroy-anyway': async (s) => {
    try {
      await s.destroy();
      return { failed: false, keys: s.keys() };
    } catch {
      return { failed: true, keys: s.keys() };
    }
  },
  '/logout': async (s) => {
    await s.destroy();
    s.flash.info('logged out');
    return { ok: true };
  },
  '/flash': (s, _url, res) => {
    s.flash.success('saved');
    s.flash.error('careful');
    res.statusCode = 302;
    res.setHeader('location', '/view');
    return undefined;
  },
  '/view': (s) => s.flash.view(),
  '/login': async (s, url) => {
    await s.regenerate();
    s.bindUser(url.searchParams.get('user')!);
    s.set('user', url.searchParams.get('user'));
    return { id: s.id };
  },
};

/** Gate holds requests under `/gated/` after they loaded their session, until the test opens it; then they run the route after `/gated`. */
export class Gate {
  /** arrived counts the requests waiting at the gate. */
  arrived = 0;
  #open!: () => void;
  /** opened resolves when {@link Gate.open} is called. */
  readonly opened = new Promise<void>((resolve) => (this.#open = resolve));
  /** open lets every waiting request, and every later one, through. */
  open(): void {
    this.#open();
  }
  /** waitFor resolves once `count` requests have arrived, polling every 5 ms. */
  async waitFor(count: number): Promise<void> {
    while (this.arrived < count) await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** REQUEST_METHODS are the Store methods a request may call; the suite watches them to prove that some requests call none. */
const REQUEST_METHODS = ['get', 'set', 'destroy', 'compareAndSet', 'touch', 'regenerate', 'count', 'clear', 'indexAdd', 'indexRemove', 'indexList'] as const;

/** fakeRequest is the part of a request the Manager reads, for values no HTTP client can send (NUL, CR, LF). */
export const fakeRequest = (cookie?: string) => ({ headers: cookie === undefined ? {} : { cookie } }) as IncomingMessage;

/** idOf reads the session id out of a client's cookie; undefined when there is no cookie. */
export const idOf = (cookie: string | undefined) => cookie?.slice(cookie.indexOf('=') + 1).split('.', 1)[0];

/**
 * ManagerHarness is what the suite's tests share: the manager under test behind a loopback
 * node:http server that answers the suite's routes, the gate, what the manager reported, and
 * helpers that patch the manager or its store. `manager` and `base` exist only after
 * {@link ManagerHarness.start} (run in mocha's `before`), so tests read them inside their bodies,
 * never when they register. The helpers are arrow properties, so a test may destructure them.
 */
export class ManagerHarness {
  /** suite is the options describeManager was given. */
  readonly suite: ManagerSuiteOptions;
  /** concurrency is the number of parallel requests in the lost-update tests [50]. */
  readonly concurrency: number;
  /** atomic is the suite's `atomic` [true]: whether the tests of concurrent writes expect compareAndSet. */
  readonly atomic: boolean;
  /** manager is the Manager under test, created by {@link ManagerHarness.start}. */
  manager!: Manager;
  /** base is the loopback server's URL (`http://127.0.0.1:<port>`), set by {@link ManagerHarness.start}. */
  base!: string;
  /** reported collects what the manager sends to onError; a test empties it before it looks. */
  readonly reported: Error[] = [];
  /** rejected collects what the manager sends to onRejectedId; a test empties it before it looks. */
  readonly rejected: RejectedId[] = [];
  #server: Server | undefined;
  #gate = new Gate();

  constructor(suite: ManagerSuiteOptions) {
    this.suite = suite;
    this.concurrency = suite.concurrency ?? 50;
    this.atomic = suite.atomic ?? true;
  }

  /** start creates the manager from the suite's options and serves it, mounted by `suite.mount` when given. */
  async start(): Promise<void> {
    const options = await this.suite.options();
    this.manager = await createManager({
      ...options,
      onError: (error) => {
        this.reported.push(error);
        options.onError?.(error);
      },
      onRejectedId: (event) => {
        this.rejected.push(event);
        options.onRejectedId?.(event);
      },
    });
    const middleware = this.manager.middleware();
    const routes = this.#routes;
    const listener = this.suite.mount
      ? this.suite.mount(middleware, (req, res, next) => void routes(req, res).catch(next))
      : (req: IncomingMessage, res: ServerResponse) => middleware(req, res, (error?: unknown) => void routes(req, res, error));
    ({ server: this.#server, base: this.base } = await listen(listener));
  }

  /** stop closes the server and the manager; either may be missing when start failed. */
  async stop(): Promise<void> {
    if (this.#server) await closeServer(this.#server);
    await this.manager?.close();
  }

  /** newGate replaces the gate with a closed one and returns it; every test that uses `/gated/` starts with it. */
  newGate(): Gate {
    return (this.#gate = new Gate());
  }

  /** cookieOf is the Cookie header that presents `id` (signed when the manager signs). */
  readonly cookieOf = (id: string) => this.manager.cookieFor(id).split(';', 1)[0]!;

  /** clientWith is a client of the server that sends `cookie`, or no cookie when it is undefined. */
  readonly clientWith = (cookie: string | undefined) => {
    const client = new CookieClient(this.base);
    client.cookie = cookie;
    return client;
  };

  /** storeCallsDuring runs `run` and returns the names of the store methods it called, in order. */
  readonly storeCallsDuring = async (run: () => Promise<unknown>): Promise<string[]> => {
    const { manager } = this;
    const store = manager.store as unknown as Record<string, unknown>;
    const calls: string[] = [];
    const names = REQUEST_METHODS.filter((name) => typeof store[name] === 'function');
    const own = new Map(names.map((name) => [name, Object.getOwnPropertyDescriptor(store, name)]));
    for (const name of names) {
      const original = store[name] as (...args: unknown[]) => unknown;
      store[name] = (...args: unknown[]) => {
        calls.push(name);
        return original.apply(manager.store, args);
      };
    }
    try {
      await run();
    } finally {
      for (const [name, descriptor] of own) {
        if (descriptor) Object.defineProperty(store, name, descriptor);
        else delete store[name];
      }
    }
    return calls;
  };

  /** failingOnce makes the next call of the store's `method` reject, then restores it. */
  readonly failingOnce = (method: keyof Store): void => {
    const store = this.manager.store as unknown as Record<string, unknown>;
    const descriptor = Object.getOwnPropertyDescriptor(store, method);
    store[method] = async () => {
      if (descriptor) Object.defineProperty(store, method, descriptor);
      else delete store[method];
      throw new Error(`injected ${method} failure`);
    };
  };

  /** withIds makes the manager's next new ids `ids`, then fresh random ones again; call the returned function to undo it. */
  readonly withIds = (ids: string[]): (() => void) => {
    const { manager } = this;
    const original = manager.newId.bind(manager);
    manager.newId = () => ids.shift() ?? original();
    return () => void Reflect.deleteProperty(manager, 'newId');
  };

  /**
   * requireCompareAndSet fails a test that needs an atomic store when the store has no
   * compareAndSet, saying what is missing and how a store that means it declares so.
   */
  readonly requireCompareAndSet = (): void => {
    if (typeof this.manager.store.compareAndSet === 'function') return;
    assert.fail(
      'your store has no compareAndSet, so a concurrent request can undo this write or destroy (last writer wins); add compareAndSet, or, if last writer wins is what the store offers, pass atomic: false to describeManager',
    );
  };

  /** countIfSupported is the manager's session count, or undefined when the store cannot count. */
  readonly countIfSupported = async (): Promise<number | undefined> => {
    try {
      return await this.manager.count();
    } catch (error) {
      if (error instanceof SessionError && error.code === 'ERR_SESSION_UNSUPPORTED') return undefined;
      throw error;
    }
  };

  /** #routes answers the suite's requests once the session middleware has run. */
  readonly #routes: RouteHandler = async (req, res, error) => {
    if (error) {
      res.statusCode = 500;
      res.end(String((error as Error).message));
      return;
    }
    const session = (req as IncomingMessage & { session: Session }).session;
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/gated/')) {
      // Loaded now; act only once the test opens the gate.
      const gate = this.#gate;
      gate.arrived++;
      await gate.opened;
      url.pathname = url.pathname.slice('/gated'.length);
    }
    const route = ROUTES[url.pathname];
    try {
      const body = route ? await route(session, url, res) : undefined;
      if (!route) res.statusCode = 404;
      res.setHeader('content-type', 'application/json');
      res.end(body === undefined ? '' : JSON.stringify(body));
    } catch (failure) {
      res.statusCode = 500;
      res.end(String((failure as Error).message));
    }
  };
}
