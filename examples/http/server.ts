// sessionkit on plain node:http: manager.start() at the top of the handler, session.release()
// before the response is written. Run: node --conditions=sessionkit-source --import tsx examples/http/server.ts
import { realpathSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { createManager, type Manager } from 'sessionkit';
import { escapeHtml, renderFlash } from 'sessionkit/templates';

/**
 * createApp returns an unstarted server with a visit counter, a login that regenerates the id,
 * and a logout that destroys the session, with flash messages between them. The caller listens
 * and closes the manager.
 */
export async function createApp(): Promise<{ server: Server; manager: Manager }> {
  const manager = await createManager({ provider: 'memory' });
  const server = createServer(async (req, res) => {
    try {
      // start loads the session and arranges for its cookie to go out with the headers.
      const session = await manager.start(req, res);
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/login' && req.method === 'POST') {
        await session.regenerate(); // a new id at login defeats session fixation
        session.set('user', 'ada');
        session.flash.success('Welcome, ada!');
        await session.release();
        return redirect(res, '/');
      }
      if (url.pathname === '/logout' && req.method === 'POST') {
        await session.destroy();
        session.flash.info('You have been logged out');
        await session.release();
        return redirect(res, '/');
      }
      if (url.pathname !== '/') {
        res.writeHead(404).end('not found');
        return;
      }
      const visits = session.increment('visits');
      const user = session.getString('user');
      const flash = renderFlash(session.flash.view());
      // Save first: the next request of this client must see this one's writes.
      await session.release();
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>sessionkit on node:http</title>${flash}
<p>Visits in this session: <b>${visits}</b></p>
<p>${user ? `Logged in as ${escapeHtml(user)}` : 'Not logged in'}</p>
<form method="post" action="${user ? '/logout' : '/login'}"><button>${user ? 'Log out' : 'Log in as ada'}</button></form>`);
    } catch (error) {
      console.error(error);
      if (!res.headersSent) res.writeHead(500);
      res.end('internal error');
    }
  });
  return { server, manager };
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { location });
  res.end();
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  const { server, manager } = await createApp();
  const port = Number(process.env.PORT ?? 3001);
  server.listen(port, () => console.log(`listening on http://localhost:${port}/`));
  process.once('SIGINT', () => server.close(() => void manager.close()));
}
