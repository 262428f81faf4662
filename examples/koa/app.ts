// sessionkit with Koa: koaSession(manager) gives ctx.session and ctx.state.flash.
// Run: node --conditions=sessionkit-source --import tsx examples/koa/app.ts
import Koa from 'koa';
import { realpathSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import { pathToFileURL } from 'node:url';
import { createManager, type Manager } from 'sessionkit';
import { koaSession } from 'sessionkit/koa';
import { escapeHtml, renderFlash } from 'sessionkit/templates';

/**
 * createApp returns an unstarted Koa app with a visit counter, a login form that regenerates the
 * id, and a logout that destroys the session, with flash messages between them. The caller
 * listens and closes the manager.
 */
export async function createApp(): Promise<{ app: Koa; manager: Manager }> {
  const manager = await createManager({ provider: 'memory' });
  const app = new Koa();
  app.use(koaSession(manager));

  app.use(async (ctx) => {
    if (ctx.path === '/login' && ctx.method === 'POST') {
      const name = new URLSearchParams(await text(ctx.req)).get('name')?.trim().slice(0, 64);
      if (!name) {
        ctx.session.flash.error('Please enter a name');
        return ctx.redirect('/');
      }
      await ctx.session.regenerate(); // a new id at login defeats session fixation
      ctx.session.set('user', name);
      ctx.session.flash.success(`Welcome, ${name}!`); // escaped when rendered
      return ctx.redirect('/');
    }
    if (ctx.path === '/logout' && ctx.method === 'POST') {
      await ctx.session.destroy();
      ctx.session.flash.info('You have been logged out');
      return ctx.redirect('/');
    }
    if (ctx.path !== '/') return; // Koa answers 404
    const visits = ctx.session.increment('visits');
    const user = ctx.session.getString('user');
    ctx.type = 'html';
    // Reading ctx.state.flash consumes the messages: they are shown exactly once.
    ctx.body = `<!doctype html><title>sessionkit on Koa</title>${renderFlash(ctx.state.flash)}
<p>Visits in this session: <b>${visits}</b></p>
${user
  ? `<p>Logged in as ${escapeHtml(user)}</p><form method="post" action="/logout"><button>Log out</button></form>`
  : '<form method="post" action="/login"><input name="name" placeholder="name"><button>Log in</button></form>'}`;
  });
  return { app, manager };
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  const { app, manager } = await createApp();
  const port = Number(process.env.PORT ?? 3002);
  const server = app.listen(port, () => console.log(`listening on http://localhost:${port}/`));
  process.once('SIGINT', () => server.close(() => void manager.close()));
}
