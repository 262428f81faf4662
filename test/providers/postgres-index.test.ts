import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Store } from 'sessionkit';
import { provider } from 'sessionkit/providers/postgres';
import { requireServer } from '../support/servers.ts';
import { describeSqlIndexShared } from '../support/sql-index.ts';

const HOUR = 3_600_000;

describe('postgres index against 127.0.0.1:5432', function () {
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
  const config = (name = table) => `user=postgres host=127.0.0.1 port=5432 dbname=test sslmode=disable table=${name}`;
  let admin: pg.Client;
  const clock = Date.now();
  let store: Store;

  before(async function () {
    await requireServer(this, 'PostgreSQL', '127.0.0.1', 5432);
    admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
    await admin.connect();
    store = await provider.open(config(), { maxLifetime: HOUR, now: () => clock });
  });
  after(async function () {
    await store?.close?.();
    if (!admin) return;
    for (const name of tables) await admin.query(`DROP TABLE IF EXISTS "${name}", "${name}_index"`);
    await admin.end();
  });

  async function indexRows(): Promise<number> {
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM "${index}"`);
    return rows[0].n;
  }

  async function indexNames(name: string): Promise<string[]> {
    const { rows } = await admin.query('SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname', [name]);
    return rows.map((row: { indexname: string }) => row.indexname);
  }

  it('open creates the index table beside the sessions table, with its primary key and expiry index', async function () {
    assert.deepEqual(await indexNames(index), [`${index}_exp_idx`, `${index}_pkey`]);
  });

  it('open adds the index table to a sessions table made before the index existed', async function () {
    const old = newTable();
    await admin.query(`CREATE TABLE "${old}" (sid VARCHAR(128) COLLATE "C" PRIMARY KEY, data TEXT NOT NULL, expires_at BIGINT NOT NULL)`);
    await admin.query(`INSERT INTO "${old}" VALUES ('kept', 'old data', $1)`, [clock + HOUR]);
    const upgraded = await provider.open(config(old), { maxLifetime: HOUR, now: () => clock });
    try {
      assert.equal(await upgraded.get('kept'), 'old data');
      await upgraded.indexAdd!('user:old', 'kept', clock + HOUR);
      assert.deepEqual(await upgraded.indexList!('user:old'), ['kept']);
      assert.deepEqual(await indexNames(`${old}_index`), [`${old}_index_exp_idx`, `${old}_index_pkey`]);
    } finally {
      await upgraded.close!();
    }
  });

  it("a row holds the sha256 of the key's UTF-16, so a 512-character key with NUL and emoji fits", async function () {
    const key = `user:\u0000${'🍪'.repeat(300)}`.slice(0, 512);
    await store.indexAdd!(key, 'nul-key', clock + HOUR);
    assert.deepEqual(await store.indexList!(key), ['nul-key']);
    const { rows } = await admin.query(`SELECT encode(key_hash, 'hex') AS hash FROM "${index}" WHERE sid = 'nul-key'`);
    assert.deepEqual(rows, [{ hash: createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('hex') }]);
  });

  it('indexList reads through the primary key and gc through the expiry index, never a scan', async function () {
    await admin.query('SET enable_seqscan = off');
    try {
      const plans: [string, string][] = [
        [`EXPLAIN SELECT sid FROM "${index}" WHERE key_hash = '\\x00' AND expires_at > 1`, `${index}_pkey`],
        [
          `EXPLAIN DELETE FROM "${index}" WHERE (key_hash, sid) IN (SELECT key_hash, sid FROM "${index}" WHERE expires_at <= 1 LIMIT 1000 FOR UPDATE SKIP LOCKED) AND expires_at <= 1`,
          `${index}_exp_idx`,
        ],
      ];
      for (const [sql, expected] of plans) {
        const { rows } = await admin.query(sql);
        const plan = rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
        assert.match(plan, new RegExp(expected), plan);
      }
    } finally {
      await admin.query('RESET enable_seqscan');
    }
  });

  it('gc deletes expired index rows in batches until none is left and keeps live ones', async function () {
    await store.clear!();
    await admin.query(
      `INSERT INTO "${index}" (key_hash, sid, expires_at) SELECT sha256(('user:' || g)::bytea), 'dead-' || g, $1 FROM generate_series(1, 2500) AS g`,
      [clock - 1],
    );
    await store.indexAdd!('user:alive', 'alive', clock + HOUR);
    await store.gc!();
    assert.equal(await indexRows(), 1);
    assert.deepEqual(await store.indexList!('user:alive'), ['alive']);
  });

  describeSqlIndexShared({
    provider: 'postgres',
    address: '127.0.0.1:5432',
    clock,
    store: () => store,
    open: (name = table) => provider.open(config(name), { maxLifetime: HOUR, now: () => clock }),
    newTable,
    indexRows,
    indexNames,
    dropIndexTable: async (name) => {
      await admin.query(`DROP TABLE "${name}_index"`);
    },
  });
});
