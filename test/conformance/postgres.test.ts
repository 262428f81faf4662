import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { provider } from 'sessionkit/providers/postgres';
import { describeManager, describeStore } from 'sessionkit/testing';
import { requireServer } from '../support/servers.ts';

const tableName = () => `sessionkit_test_${randomBytes(4).toString('hex')}`;
const configOf = (table: string) => `postgres://postgres@127.0.0.1:5432/test?table=${table}`;
// The store suite and the Manager flow each get their own table, dropped with its index table.
const [storeTable, managerTable] = [tableName(), tableName()];

describe('postgres conformance', function () {
  before(async function () {
    await requireServer(this, 'PostgreSQL', '127.0.0.1', 5432);
  });
  after(async function () {
    const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
    await client.connect().catch(() => undefined);
    for (const table of [storeTable, managerTable]) {
      await client.query(`DROP TABLE IF EXISTS "${table}", "${table}_index"`).catch(() => undefined);
    }
    await client.end().catch(() => undefined);
  });

  describeStore('postgres', {
    open: (options) => provider.open(configOf(storeTable), options),
    clock: 'fake',
    requires: ['compareAndSet', 'touch', 'regenerate', 'count', 'clear', 'gc', 'indexAdd', 'indexRemove', 'indexList'],
  });
  describeManager('postgres', { options: () => ({ provider: 'postgres', providerConfig: configOf(managerTable) }) });
});
