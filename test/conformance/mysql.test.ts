import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { provider } from 'sessionkit/providers/mysql';
import { describeStore } from 'sessionkit/testing';
import { requireServer } from '../support/servers.ts';

const table = `sessionkit_test_${randomBytes(4).toString('hex')}`;
const config = `root:@tcp(127.0.0.1:3306)/test?charset=utf8&parseTime=true&table=${table}`;

describe('mysql conformance', function () {
  before(async function () {
    await requireServer(this, 'MySQL', '127.0.0.1', 3306);
  });
  after(async function () {
    const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' }).catch(() => undefined);
    await connection?.query(`DROP TABLE IF EXISTS \`${table}\``).catch(() => undefined);
    await connection?.end().catch(() => undefined);
  });

  describeStore('mysql', { open: (options) => provider.open(config, options), clock: 'fake' });
});
