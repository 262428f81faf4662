import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, CookieClient } from 'sessionkit/testing';
import { createApp as createFastifyApp } from '../../examples/fastify/app.ts';
import { createApp as createHttpApp } from '../../examples/http/server.ts';
import { createApp as createKoaApp } from '../../examples/koa/app.ts';
import type { RunningApp } from './flow.ts';

async function listening(server: Server, close: () => Promise<void>): Promise<RunningApp> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, close };
}

const EXAMPLES: Record<string, () => Promise<RunningApp>> = {
  'examples/http': async () => {
    const { server, manager } = await createHttpApp();
    return listening(server, async () => {
      await closeServer(server);
      await manager.close();
    });
  },
  'examples/koa': async () => {
    const { app, manager } = await createKoaApp();
    const server = createServer(app.callback());
    return listening(server, async () => {
      await closeServer(server);
      await manager.close();
    });
  },
  'examples/fastify': async () => {
    const { app } = await createFastifyApp();
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    return { base, close: () => app.close() };
  },
};

for (const [name, start] of Object.entries(EXAMPLES)) {
  describe(name, function () {
    let app: RunningApp;
    before(async function () {
      app = await start();
    });
    after(async function () {
      await app.close();
    });

    it('counts visits, logs in with a new id and a welcome shown once, and logs out', async function () {
      const client = new CookieClient(app.base);
      expect((await client.request('/')).body).to.include('Visits in this session: <b>1</b>');
      const before = client.cookie;
      const form = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=ada' };
      const login = await client.request('/login', form);
      expect([302, 303]).to.include(login.status);
      expect(client.cookie).to.not.equal(before);
      const home = (await client.request('/')).body;
      expect(home).to.include('Welcome, ada!');
      expect(home).to.include('Logged in as ada');
      expect(home).to.include('Visits in this session: <b>2</b>');
      expect((await client.request('/')).body).to.not.include('Welcome');
      const logout = await client.request('/logout', { method: 'POST' });
      expect([302, 303]).to.include(logout.status);
      const after = (await client.request('/')).body;
      expect(after).to.include('You have been logged out');
      expect(after).to.include('Visits in this session: <b>1</b>');
    });
  });
}
