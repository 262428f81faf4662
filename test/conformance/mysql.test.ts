import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { provider } from 'sessionkit/providers/mysql';
import { describeManager, describeStore } from 'sessionkit/testing';
import { requireServer } from '../support/servers.ts';

const tableName = () => `sessionkit_test_${randomBytes(4).toString('hex')}`;
const configOf = (table: string) => `root:@tcp(127.0.0.1:3306)/test?charset=utf8&parseTime=true&table=${table}`;
// The store suite and the Manager flow each get their own table, dropped with its index table.
const [storeTable, managerTable] = [tableName(), tableName()];

describe('mysql conformance', function () {
  before(async function () {
    await requireServer(this, 'MySQL', '127.0.0.1', 3306);
  });
  after(async function () {
    const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' }).catch(() => undefined);
    for (const table of [storeTable, managerTable]) {
      await connection?.query(`DROP TABLE IF EXISTS \`${table}\`, \`${table}_index\``).catch(() => undefined);
    }
    await connection?.end().catch(() => undefined);
  });

  describeStore('mysql', {
    open: (options) => provider.open(configOf(storeTable), options),
    clock: 'fake',
    requires: ['compareAndSet', 'touch', 'regenerate', 'count', 'clear', 'gc', 'indexAdd', 'indexRemove', 'indexList'],
  });
  describeManager('mysql', { options: () => ({ provider: 'mysql', providerConfig: configOf(managerTable) }) });
});
