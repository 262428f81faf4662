import { realpathSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import { createManager, type Manager, type ManagerOptions } from 'sessionkit';
import { loadIni } from 'sessionkit/config';
import { escapeHtml, renderFlash } from 'sessionkit/templates';

/** DEMO_PASSWORD is the one password the demo login accepts, for any non-empty username. */
export const DEMO_PASSWORD = 'secret';

/** DEFAULT_CONFIG is the INI file the app reads when none is given: `examples/app.ini`. */
export const DEFAULT_CONFIG = fileURLToPath(new URL('../app.ini', import.meta.url));

// The providers that ship with sessionkit; the app imports the configured one by name, so
// switching PROVIDER in app.ini is all it takes. `memory` and `file` come with `sessionkit` itself.
const BUILT_IN = ['memory', 'file', 'redis', 'memcache', 'postgres', 'mysql', 'mongodb', 'couchbase', 'lmdb'];

const MAX_USERNAME = 64;
const REMEMBER_MS = 30 * 24 * 60 * 60 * 1000;

/** ExampleOptions configure {@link createApp}. */
export interface ExampleOptions {
  /** config is the INI file to read [examples/app.ini]. */
  config?: string;
  /** section is the INI section holding the session keys ["session"]. */
  section?: string;
  /** overrides replace options read from the file, e.g. another provider in a test. */
  overrides?: ManagerOptions;
}

/**
 * createApp builds the example Express app and its session manager from an INI file: a visit
 * counter, a demo login (any username, password {@link DEMO_PASSWORD}) that regenerates the
 * session id and can remember the user for 30 days, a members-only page, logout, and flash messages of all four levels. The caller
 * listens and must `manager.close()` when done.
 */
export async function createApp(options: ExampleOptions = {}): Promise<{ app: express.Express; manager: Manager }> {
  const settings = { ...(await loadIni(options.config ?? DEFAULT_CONFIG, { section: options.section ?? 'session' })), ...options.overrides };
  if (typeof settings.provider === 'string' && BUILT_IN.includes(settings.provider)) {
    await import(`sessionkit/providers/${settings.provider}`);
  }
  const manager = await createManager(settings);

  const app = express();
  app.disable('x-powered-by');
  app.use(manager.middleware());
  app.use(express.urlencoded({ extended: false, limit: '4kb' }));

  app.get('/', (req, res) => {
    const visits = req.session.increment('visits');
    const user = currentUser(req);
    res.send(page(res, 'Home', user, `
      <h1>sessionkit example</h1>
      <p>You have opened this page <strong id="visits">${visits}</strong> ${visits === 1 ? 'time' : 'times'} in this session.</p>
      <p>${user === undefined
        ? 'You are not logged in. <a href="/login">Log in</a> to see the members page.'
        : `Logged in as <strong>${escapeHtml(user)}</strong>. Go to the <a href="/members">members page</a>.`}</p>`));
  });

  app.get('/login', (req, res) => {
    const user = currentUser(req);
    res.send(page(res, 'Log in', user, `
      <h1>Log in</h1>
      <p class="demo">This is a demo: any username works with the password <code>${DEMO_PASSWORD}</code>.</p>
      <form method="post" action="/login">
        <label>Username <input name="username" autocomplete="username" maxlength="${MAX_USERNAME}" required></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
        <label><input name="remember" type="checkbox" value="1"> Remember me for 30 days</label>
        <button type="submit">Log in</button>
      </form>`));
  });

  app.post('/login', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const username = typeof body.username === 'string' ? body.username.trim() : '';
    const password = typeof body.password === 'string' ? body.password : '';
    if (username === '' || username.length > MAX_USERNAME || password !== DEMO_PASSWORD) {
      req.session.flash.error('Wrong username or password');
      res.redirect(303, '/login');
      return;
    }
    // A new id at login, so an id planted before login (session fixation) is worth nothing.
    await req.session.regenerate();
    req.session.bindUser(username);
    req.session.set('user', username);
    // "Remember me": this session alone gets a 30-day cookie and a 30-day idle lifetime.
    if (body.remember === '1') req.session.cookie.maxAge = REMEMBER_MS;
    req.session.flash.success(`Welcome, ${username}!`);
    res.redirect(303, '/members');
  });

  app.get('/members', async (req, res) => {
    const user = currentUser(req);
    if (user === undefined) {
      req.session.flash.warning('Please log in first');
      res.redirect(303, '/login');
      return;
    }
    const signedIn = (await manager.listUserSessions(user)).length;
    res.send(page(res, 'Members', user, `
      <h1>Members only</h1>
      <p>Hello, <strong id="member">${escapeHtml(user)}</strong>. Only logged-in users see this page.</p>
      <p>Your session id changed when you logged in, and it is gone for good once you log out.</p>
      <p>You are logged in <span id="sessions">${signedIn}</span> time${signedIn === 1 ? '' : 's'} (browsers and devices).</p>
      <form method="post" action="/logout-everywhere"><button type="submit">Log out everywhere</button></form>`));
  });

  app.post('/logout-everywhere', async (req, res) => {
    const user = currentUser(req);
    const ended = user === undefined ? 0 : await manager.destroyUserSessions(user);
    // This session was among them; destroying it here too gives the flash a new, anonymous one.
    await req.session.destroy();
    req.session.flash.info(`Logged out of ${ended} session${ended === 1 ? '' : 's'}`);
    res.redirect(303, '/');
  });

  app.post('/logout', async (req, res) => {
    await req.session.destroy();
    req.session.flash.info('You have been logged out');
    res.redirect(303, '/');
  });

  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    console.error(error);
    if (res.headersSent) {
      next(error);
      return;
    }
    res.status(500).type('html').send('<!doctype html><title>Error</title><h1>Something went wrong</h1>');
  });

  return { app, manager };
}

function currentUser(req: Request): string | undefined {
  const user = req.session.getString('user');
  return user === '' ? undefined : user;
}

function page(res: Response, title: string, user: string | undefined, body: string): string {
  const account = user === undefined
    ? '<a href="/login">Log in</a>'
    : `<form method="post" action="/logout"><button type="submit">Log out ${escapeHtml(user)}</button></form>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · sessionkit example</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
  nav { display: flex; gap: 1rem; align-items: center; border-bottom: 1px solid #ddd; padding-bottom: .5rem; }
  nav form { margin-left: auto; }
  .flash { margin: 1rem 0; }
  label { display: block; margin: .5rem 0; }
  .demo { font-size: .9rem; color: #555; }
</style>
</head>
<body>
<nav><a href="/">Home</a><a href="/members">Members</a>${account}</nav>
${renderFlash(res.locals.flash)}
<main>${body}
</main>
</body>
</html>
`;
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got ${JSON.stringify(process.env.PORT)}`);
  const { app, manager } = await createApp();
  const server: Server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  console.log(`sessionkit example listening on http://localhost:${(server.address() as AddressInfo).port}/`);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    console.log(`${signal}: closing`);
    // Finish the requests in flight (a few seconds at most), then close the session store.
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const deadline = setTimeout(() => server.closeAllConnections(), 5000).unref();
    stopped
      .then(() => manager.close())
      .then(
        () => {
          clearTimeout(deadline);
          process.exit(0);
        },
        (error: unknown) => {
          console.error(error);
          process.exit(1);
        },
      );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
