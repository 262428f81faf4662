import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Store } from 'sessionkit';
import { provider, parseConfig, type PostgresOptions } from 'sessionkit/providers/postgres';
import { describeManager, describeStore } from 'sessionkit/testing';
import { configRefusal } from '../support/faults.ts';
import { requireServer } from '../support/servers.ts';
import { describeSqlIndexShared, testTables } from '../support/sql-index.ts';
import { describeSqlStoreShared } from '../support/sql-store.ts';

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
    rejectsAfterClose: true,
    open: (options) => provider.open(configOf(storeTable), options),
    clock: 'fake',
    requires: ['compareAndSet', 'touch', 'regenerate', 'count', 'clear', 'gc', 'indexAdd', 'indexRemove', 'indexList'],
  });
  describeManager('postgres', { options: () => ({ provider: 'postgres', providerConfig: configOf(managerTable) }) });
});

const refuses = configRefusal('postgres', parseConfig);

const PASSWORD = 's3cr3t,@:/';
const HOUR = 3_600_000;

describe('postgres parseConfig', function () {
  const defaults = {
    host: 'localhost',
    port: 5432,
    sslmode: 'disable',
    connectTimeoutMs: 5000,
    queryTimeoutMs: 10_000,
    table: { name: 'sessionkit_sessions' },
  } as const;

  const accepted: Array<[string, PostgresOptions]> = [
    [
      'user=postgres password= host=127.0.0.1 port=5432 dbname=test sslmode=disable',
      { ...defaults, host: '127.0.0.1', user: 'postgres', database: 'test' },
    ],
    ['user=jiahuachen dbname=macaron port=5432 sslmode=disable', { ...defaults, user: 'jiahuachen', database: 'macaron' }],
    [
      "user=app password='s3cr3t,@:/ \\'q\\' \\\\' host=db.internal dbname=app",
      { ...defaults, host: 'db.internal', user: 'app', password: "s3cr3t,@:/ 'q' \\", database: 'app' },
    ],
    ['host = 10.0.0.5  port = 6543 dbname = app', { ...defaults, host: '10.0.0.5', port: 6543, database: 'app' }],
    ["password='' dbname=app", { ...defaults, database: 'app' }],
    [
      'host=/var/run/postgresql dbname=app connect_timeout=2 application_name=web table=auth.sessions',
      { ...defaults, host: '/var/run/postgresql', database: 'app', connectTimeoutMs: 2000, applicationName: 'web', table: { schema: 'auth', name: 'sessions' } },
    ],
    ['dbname=app sslmode=require', { ...defaults, database: 'app', sslmode: 'require' }],
    ['dbname=app statement_timeout=2500', { ...defaults, database: 'app', queryTimeoutMs: 2500 }],
    ['dbname=app sslmode=verify-full sslrootcert=/etc/ssl/ca.pem', { ...defaults, database: 'app', sslmode: 'verify-full', sslrootcert: '/etc/ssl/ca.pem' }],
    ['postgres://postgres@127.0.0.1:5432/test', { ...defaults, host: '127.0.0.1', user: 'postgres', database: 'test' }],
    [
      'postgresql://app:s3cr3t%2C%40%3A%2F@db:6543/app?sslmode=verify-ca&table=web_sessions&connect_timeout=3&application_name=web',
      {
        ...defaults,
        host: 'db',
        port: 6543,
        user: 'app',
        password: PASSWORD,
        database: 'app',
        sslmode: 'verify-ca',
        connectTimeoutMs: 3000,
        applicationName: 'web',
        table: { name: 'web_sessions' },
      },
    ],
    ['postgres://[::1]:5433/test', { ...defaults, host: '::1', port: 5433, database: 'test' }],
    ['postgres:///app?host=/var/run/postgresql', { ...defaults, host: '/var/run/postgresql', database: 'app' }],
  ];

  for (const [config, expected] of accepted) {
    it(`parseConfig reads ${JSON.stringify(config)} exactly`, function () {
      assert.deepEqual(parseConfig(config), expected);
    });
  }

  const rejected: Array<[string, RegExp]> = [
    ['', /provider config is empty/],
    ['host=127.0.0.1 hots=db', /"hots"/],
    ['postgres://h/db?pool=5', /"pool"/],
    ['port=abc', /port must be a whole number/],
    ['port=70000', /port must be between 1 and 65535/],
    ['connect_timeout=-1', /connect_timeout must be between 0/],
    ['connect_timeout=5s', /connect_timeout must be a whole number/],
    ['statement_timeout=0', /statement_timeout must be between 1/],
    ['sslmode=prefer', /sslmode must be one of disable, require, verify-ca, verify-full/],
    ['sslrootcert=/ca.pem', /sslrootcert needs sslmode=verify-ca/],
    ['host=a host=b', /host is given twice/],
    ['postgres://h:5432/db?host=other', /host is given twice/],
    ['postgres://h/db/extra', /just the database name/],
    ["host='db", /unterminated quote in the value of host/],
    ['host', /expected key=value after host/],
  ];

  for (const [config, message] of rejected) {
    it(`parseConfig refuses ${JSON.stringify(config)} naming the problem`, function () {
      refuses(config, message);
    });
  }

  const badTables = ['a"b', 'a`b', "x';drop table users;--", 'a;b', 'a b', '1abc', 'a.b.c', '.a', 'a-b', 'x'.repeat(49), ''];
  for (const table of badTables) {
    it(`parseConfig refuses the table name ${JSON.stringify(table)} at parse time`, function () {
      refuses(`dbname=app table='${table.replace(/'/g, "\\'")}'`, /table must be a name or schema\.name/);
    });
  }

  it('parseConfig accepts a schema-qualified table and a name of 48 characters', function () {
    assert.deepEqual(parseConfig('table=Auth_1.S_2').table, { schema: 'Auth_1', name: 'S_2' });
    assert.deepEqual(parseConfig(`table=${'t'.repeat(48)}`).table, { name: 't'.repeat(48) });
  });

  const hidesPassword = configRefusal('postgres', parseConfig, ['s3cr3t', 'morepw', 'trailing']);
  const leaky = [
    `password=${PASSWORD} port=abc`,
    `password=${PASSWORD} bogus=1`,
    `password=s3cr3t host=db trailing word`,
    `password=s3cr3t,@:/ morepw host=db`,
    `postgres://app:${PASSWORD}@db/app`,
    `postgres://app:s3cr3t@db:notaport/app`,
    `postgres://app:s3cr3t@db/app?table=a;b`,
    // An escaped space carries the rest into the bad value; a quote closed early leaves a tail as a key.
    `port=\\ password=s3cr3t`,
    `sslmode=\\ password=s3cr3t`,
    `host=' password='s3cr3t/trailing=1'`,
  ];
  for (const config of leaky) {
    it(`parseConfig never shows the password in its error for ${JSON.stringify(config.replace(/s3cr3t/g, '…'))}`, function () {
      hidesPassword(config);
    });
  }
});

describe('postgres open without a server', function () {
  it('open against a closed port fails within seconds naming provider and address but not the password', async function () {
    this.timeout(8000);
    const started = Date.now();
    await assert.rejects(provider.open(`host=127.0.0.1 port=1 user=postgres password='${PASSWORD}' dbname=test`, { maxLifetime: HOUR }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_SESSION_STORE');
      assert.match(err.message, /^session\/postgres: connect to 127\.0\.0\.1:1 failed/);
      assert.ok(!err.message.includes('s3cr3t'), err.message);
      return true;
    });
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });

  it('open with a bad config fails before loading pg or connecting', async function () {
    await assert.rejects(provider.open('dbname=app table=x;y', { maxLifetime: HOUR }), { code: 'ERR_SESSION_PROVIDER_CONFIG' });
  });
});

describe('postgres against 127.0.0.1:5432', function () {
  this.timeout(20_000);
  // Every table made here is dropped afterwards, with its index table.
  const { names: tables, newTable } = testTables();
  const table = newTable();
  const config = (name = table) => `user=postgres host=127.0.0.1 port=5432 dbname=test sslmode=disable application_name=${name} table=${name}`;
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

  async function indexNames(name: string): Promise<string[]> {
    const { rows } = await admin.query('SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname', [name]);
    return rows.map((row: { indexname: string }) => row.indexname);
  }

  describeSqlStoreShared({
    provider: 'postgres',
    port: 5432,
    clock,
    table,
    store: () => store,
    open: ({ table: name = table, now } = {}) => provider.open(config(name), { maxLifetime: HOUR, now }),
    openThrough: (port) =>
      provider.open(`host=127.0.0.1 port=${port} user=postgres password='${PASSWORD}' dbname=test connect_timeout=2 table=${table}`, {
        maxLifetime: HOUR,
        now: () => clock,
      }),
    newTable: () => newTable(),
    nastyIds: ['%_*?$1', '`x`'],
    rowCount: async () => {
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM "${table}"`);
      return rows[0].n;
    },
    indexNames,
    primaryKey: (name) => `${name}_pkey`,
    insertRow: async ({ sid, data, expiresAt }) => {
      await admin.query(`INSERT INTO "${table}" (sid, data, expires_at) VALUES ($1, $2, $3)`, [sid, data, expiresAt]);
    },
    insertDeadRows: async (count, expiresAt) => {
      await admin.query(
        `INSERT INTO "${table}" (sid, data, expires_at) SELECT 'dead-' || g, 'x', $1 FROM generate_series(1, $2::int) AS g`,
        [expiresAt, count],
      );
    },
    // The suite's store is the target: its connections carry the table's name as application_name.
    openKillTarget: async () => ({
      store,
      kill: async () => {
        const { rows } = await admin.query('SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1', [table]);
        return rows.length;
      },
      close: async () => {},
    }),
    secret: PASSWORD,
  });

  it('gc and count can use the expiry index', async function () {
    await admin.query('SET enable_seqscan = off');
    try {
      const plans = [
        `EXPLAIN DELETE FROM "${table}" WHERE sid IN (SELECT sid FROM "${table}" WHERE expires_at <= 1 LIMIT 1000 FOR UPDATE SKIP LOCKED) AND expires_at <= 1`,
        `EXPLAIN SELECT count(*) FROM "${table}" WHERE expires_at > 1`,
      ];
      for (const sql of plans) {
        const { rows } = await admin.query(sql);
        const plan = rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
        assert.match(plan, new RegExp(`${table}_expires_at_idx`), plan);
      }
    } finally {
      await admin.query('RESET enable_seqscan');
    }
  });

  describe('index', function () {
    const index = `${table}_index`;

    async function indexRows(): Promise<number> {
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM "${index}"`);
      return rows[0].n;
    }

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

    describeSqlIndexShared({
      provider: 'postgres',
      address: '127.0.0.1:5432',
      clock,
      table,
      store: () => store,
      open: (name = table) => provider.open(config(name), { maxLifetime: HOUR, now: () => clock }),
      newTable,
      indexRows,
      indexNames,
      primaryKey: (name) => `${name}_pkey`,
      keyHashes: async (sid) => {
        const { rows } = await admin.query(`SELECT encode(key_hash, 'hex') AS hash FROM "${index}" WHERE sid = $1`, [sid]);
        return rows.map((row: { hash: string }) => row.hash);
      },
      createOldTable: async (name, { sid, data, expiresAt }) => {
        await admin.query(`CREATE TABLE "${name}" (sid VARCHAR(128) COLLATE "C" PRIMARY KEY, data TEXT NOT NULL, expires_at BIGINT NOT NULL)`);
        await admin.query(`INSERT INTO "${name}" VALUES ($1, $2, $3)`, [sid, data, expiresAt]);
      },
      insertDeadIndexRows: async (count, expiresAt) => {
        await admin.query(
          `INSERT INTO "${index}" (key_hash, sid, expires_at) SELECT sha256(('user:' || g)::bytea), 'dead-' || g, $1 FROM generate_series(1, $2::int) AS g`,
          [expiresAt, count],
        );
      },
      dropIndexTable: async (name) => {
        await admin.query(`DROP TABLE "${name}_index"`);
      },
    });
  });
});
