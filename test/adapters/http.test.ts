import type { ServerResponse } from 'node:http';
import { closeServer, listen } from 'sessionkit/testing';
import { describeAdapterFlow, FLOW_ROUTES, type FlowResult } from './flow.ts';

function send(res: ServerResponse, result: FlowResult): void {
  if ('redirect' in result) {
    res.writeHead(302, { location: result.redirect });
    res.end();
  } else {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(result.json));
  }
}

describeAdapterFlow('node:http', async (manager) => {
  const { server, base } = await listen(async (req, res) => {
    try {
      const session = await manager.start(req, res);
      const url = new URL(req.url ?? '/', 'http://localhost');
      const route = FLOW_ROUTES[url.pathname];
      const result = route ? await route({ session, query: url.searchParams, flash: () => session.flash.view() }) : undefined;
      await session.release();
      if (result) send(res, result);
      else res.writeHead(404).end();
    } catch {
      res.writeHead(500).end('internal error');
    }
  });
  return { base, close: () => closeServer(server) };
});
