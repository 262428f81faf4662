// sessionkit with Fastify: app.register(fastifySession, { manager }) gives request.session.
// Run: node --conditions=sessionkit-source --import tsx examples/fastify/app.ts
import Fastify, { type FastifyInstance } from 'fastify';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { createManager, type Manager } from 'sessionkit';
import { fastifySession } from 'sessionkit/fastify';
import { escapeHtml, renderFlash } from 'sessionkit/templates';

/**
 * createApp returns an unstarted Fastify app with a visit counter, a login form that regenerates
 * the id, and a logout that destroys the session, with flash messages between them. The caller
 * listens; closing the app closes the manager.
 */
export async function createApp(): Promise<{ app: FastifyInstance; manager: Manager }> {
  const manager = await createManager({ provider: 'memory' });
  const app = Fastify({ logger: false });
  app.addHook('onClose', () => manager.close());
  await app.register(fastifySession, { manager });
  // Fastify parses JSON only; an HTML form posts urlencoded.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.post<{ Body: { name?: string } }>('/login', async (request, reply) => {
    const name = request.body?.name?.trim().slice(0, 64);
    if (!name) {
      request.session.flash.error('Please enter a name');
      return reply.redirect('/', 303);
    }
    await request.session.regenerate(); // a new id at login defeats session fixation
    request.session.set('user', name);
    request.session.flash.success(`Welcome, ${name}!`); // escaped when rendered
    return reply.redirect('/', 303);
  });

  app.post('/logout', async (request, reply) => {
    await request.session.destroy();
    request.session.flash.info('You have been logged out');
    return reply.redirect('/', 303);
  });

  app.get('/', async (request, reply) => {
    const visits = request.session.increment('visits');
    const user = request.session.getString('user');
    // With @fastify/view, templates get the same view as `flash` (reply.locals.flash).
    const flash = renderFlash(request.session.flash.view());
    return reply.type('text/html').send(`<!doctype html><title>sessionkit on Fastify</title>${flash}
<p>Visits in this session: <b>${visits}</b></p>
${user
  ? `<p>Logged in as ${escapeHtml(user)}</p><form method="post" action="/logout"><button>Log out</button></form>`
  : '<form method="post" action="/login"><input name="name" placeholder="name"><button>Log in</button></form>'}`);
  });
  return { app, manager };
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  const { app } = await createApp();
  const port = Number(process.env.PORT ?? 3003);
  await app.listen({ port });
  console.log(`listening on http://localhost:${port}/`);
  process.once('SIGINT', () => void app.close());
}
