import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { provider } from 'sessionkit/providers/postgres';
import { describeStore } from 'sessionkit/testing';
import { requireServer } from '../support/servers.ts';

const table = `sessionkit_test_${randomBytes(4).toString('hex')}`;
const config = `postgres://postgres@127.0.0.1:5432/test?table=${table}`;

describe('postgres conformance', function () {
  before(async function () {
    await requireServer(this, 'PostgreSQL', '127.0.0.1', 5432);
  });
  after(async function () {
    const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
    await client.connect().catch(() => undefined);
    await client.query(`DROP TABLE IF EXISTS "${table}"`).catch(() => undefined);
    await client.end().catch(() => undefined);
  });

  describeStore('postgres', { open: (options) => provider.open(config, options), clock: 'fake' });
});
