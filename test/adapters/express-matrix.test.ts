import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import pg from 'pg';
import 'sessionkit/providers/postgres';
import 'sessionkit/providers/redis';
import { describeManager, type ManagerSuiteOptions } from 'sessionkit/testing';
import { requireServer } from '../support/servers.ts';

/** mount runs the Manager flow inside Express, the way an application mounts sessionkit. */
const mount: ManagerSuiteOptions['mount'] = (session, routes) => express().use(session).use(routes);

describe('Manager flow through Express: concurrent requests, races and user sessions', function () {
  describeManager('express + memory', { mount, options: () => ({ provider: 'memory' }) });

  describe('file', function () {
    let root: string;
    before(async function () {
      root = await mkdtemp(join(tmpdir(), 'sessionkit-express-'));
    });
    after(async function () {
      await rm(root, { recursive: true, force: true });
    });
    describeManager('express + file', { mount, options: () => ({ provider: 'file', providerConfig: root }) });
  });

  describe('redis', function () {
    before(async function () {
      await requireServer(this, 'redis', '127.0.0.1', 6379);
    });
    const prefix = `sessionkit_test:express:${randomBytes(4).toString('hex')}:`;
    describeManager('express + redis', { mount, options: () => ({ provider: 'redis', providerConfig: `redis://127.0.0.1:6379/0?prefix=${prefix}` }) });
  });

  describe('postgres', function () {
    const table = `sessionkit_test_${randomBytes(4).toString('hex')}`;
    before(async function () {
      await requireServer(this, 'PostgreSQL', '127.0.0.1', 5432);
    });
    after(async function () {
      const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
      await client.connect();
      await client.query(`DROP TABLE IF EXISTS "${table}", "${table}_index"`);
      await client.end();
    });
    describeManager('express + postgres', { mount, options: () => ({ provider: 'postgres', providerConfig: `postgres://postgres@127.0.0.1:5432/test?table=${table}` }) });
  });
});
