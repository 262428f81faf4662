import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { Store } from 'sessionkit';
import { provider } from 'sessionkit/providers/mysql';
import { requireServer } from '../support/servers.ts';
import { describeSqlIndexShared } from '../support/sql-index.ts';

const HOUR = 3_600_000;

describe('mysql index against 127.0.0.1:3306', function () {
  this.timeout(20_000);
  // Every table made here is dropped afterwards, with its index table.
  const tables: string[] = [];
  const newTable = (length = 24) => {
    const name = `sessionkit_test_${randomBytes(4).toString('hex')}`.padEnd(length, '_');
    tables.push(name);
    return name;
  };
  const table = newTable();
  const index = `${table}_index`;
  const config = (name = table) => `root:@tcp(127.0.0.1:3306)/test?table=${name}`;
  let admin: mysql.Connection;
  const clock = Date.now();
  let store: Store;

  before(async function () {
    await requireServer(this, 'MySQL', '127.0.0.1', 3306);
    admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });
    store = await provider.open(config(), { maxLifetime: HOUR, now: () => clock });
  });
  after(async function () {
    await store?.close?.();
    if (!admin) return;
    for (const name of tables) await admin.query(`DROP TABLE IF EXISTS \`${name}\`, \`${name}_index\``);
    await admin.end();
  });

  async function query(sql: string, params: unknown[] = []): Promise<mysql.RowDataPacket[]> {
    const [rows] = await admin.query<mysql.RowDataPacket[]>(sql, params);
    return rows;
  }

  async function indexRows(): Promise<number> {
    return Number((await query(`SELECT COUNT(*) AS n FROM \`${index}\``))[0]!.n);
  }

  async function indexNames(name: string): Promise<string[]> {
    const rows = await query(`SHOW INDEX FROM \`${name}\``);
    return [...new Set(rows.map((row) => row.Key_name as string))].sort();
  }

  it('open creates the index table beside the sessions table, with its primary key and expiry index', async function () {
    assert.deepEqual(await indexNames(index), ['PRIMARY', `${index}_exp_idx`]);
  });

  it('open adds the index table to a sessions table made before the index existed', async function () {
    const old = newTable();
    await admin.query(`CREATE TABLE \`${old}\` (sid VARBINARY(128) NOT NULL PRIMARY KEY, data MEDIUMTEXT NOT NULL, expires_at BIGINT NOT NULL)`);
    await admin.query(`INSERT INTO \`${old}\` VALUES ('kept', 'old data', ?)`, [clock + HOUR]);
    const upgraded = await provider.open(config(old), { maxLifetime: HOUR, now: () => clock });
    try {
      assert.equal(await upgraded.get('kept'), 'old data');
      await upgraded.indexAdd!('user:old', 'kept', clock + HOUR);
      assert.deepEqual(await upgraded.indexList!('user:old'), ['kept']);
      assert.deepEqual(await indexNames(`${old}_index`), ['PRIMARY', `${old}_index_exp_idx`]);
    } finally {
      await upgraded.close!();
    }
  });

  it("a row holds the sha256 of the key's UTF-16, so a 512-character key with NUL and emoji fits", async function () {
    const key = `user:\u0000${'🍪'.repeat(300)}`.slice(0, 512);
    await store.indexAdd!(key, 'nul-key', clock + HOUR);
    assert.deepEqual(await store.indexList!(key), ['nul-key']);
    const rows = await query(`SELECT LOWER(HEX(key_hash)) AS hash FROM \`${index}\` WHERE sid = 'nul-key'`);
    assert.deepEqual(rows.map((row) => row.hash), [createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('hex')]);
  });

  it('indexList reads through the primary key and gc through the expiry index, never a scan', async function () {
    const plans: [string, string][] = [
      [`EXPLAIN SELECT sid FROM \`${index}\` WHERE key_hash = UNHEX(SHA2('user:x', 256)) AND expires_at > 1`, 'PRIMARY'],
      [`EXPLAIN DELETE FROM \`${index}\` WHERE expires_at <= 1 LIMIT 1000`, `${index}_exp_idx`],
    ];
    for (const [sql, expected] of plans) {
      const rows = await query(sql);
      assert.match(String(rows[0]!.possible_keys), new RegExp(expected), JSON.stringify(rows));
    }
  });

  it('gc deletes expired index rows in batches until none is left and keeps live ones', async function () {
    await store.clear!();
    const values = Array.from({ length: 2500 }, (_, i) => `(UNHEX(SHA2('user:${i}', 256)), 'dead-${i}', ${clock - 1})`).join(',');
    await admin.query(`INSERT INTO \`${index}\` (key_hash, sid, expires_at) VALUES ${values}`);
    await store.indexAdd!('user:alive', 'alive', clock + HOUR);
    await store.gc!();
    assert.equal(await indexRows(), 1);
    assert.deepEqual(await store.indexList!('user:alive'), ['alive']);
  });

  describeSqlIndexShared({
    provider: 'mysql',
    address: '127.0.0.1:3306',
    clock,
    store: () => store,
    open: (name = table) => provider.open(config(name), { maxLifetime: HOUR, now: () => clock }),
    newTable,
    indexRows,
    indexNames,
    dropIndexTable: async (name) => {
      await admin.query(`DROP TABLE \`${name}_index\``);
    },
  });
});
