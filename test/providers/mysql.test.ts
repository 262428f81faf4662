import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { Store } from 'sessionkit';
import { provider, parseConfig, type MysqlOptions } from 'sessionkit/providers/mysql';
import { describeManager, describeStore } from 'sessionkit/testing';
import { configRefusal } from '../support/faults.ts';
import { requireServer } from '../support/servers.ts';
import { describeSqlIndexShared, testTables } from '../support/sql-index.ts';
import { describeSqlStoreShared } from '../support/sql-store.ts';

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
    rejectsAfterClose: true,
    open: (options) => provider.open(configOf(storeTable), options),
    clock: 'fake',
    requires: ['compareAndSet', 'touch', 'regenerate', 'count', 'clear', 'gc', 'indexAdd', 'indexRemove', 'indexList'],
  });
  describeManager('mysql', { options: () => ({ provider: 'mysql', providerConfig: configOf(managerTable) }) });
});

const refuses = configRefusal('mysql', parseConfig);

const PASSWORD = 's3cr3t,@:/';
const HOUR = 3_600_000;

describe('mysql parseConfig', function () {
  const defaults = { tls: 'false', connectTimeoutMs: 5000, queryTimeoutMs: 10_000, table: { name: 'sessionkit_sessions' } } as const;
  const local = { host: '127.0.0.1', port: 3306 } as const;

  const accepted: Array<[string, MysqlOptions]> = [
    ['root:@tcp(127.0.0.1:3306)/test?charset=utf8', { ...defaults, ...local, user: 'root', database: 'test' }],
    ['root:@tcp(localhost:3306)/macaron?charset=utf8', { ...defaults, host: 'localhost', port: 3306, user: 'root', database: 'macaron' }],
    ['root@tcp(db.internal)/app', { ...defaults, host: 'db.internal', port: 3306, user: 'root', database: 'app' }],
    ['/app', { ...defaults, ...local, database: 'app' }],
    ['app:pw@/app', { ...defaults, ...local, user: 'app', password: 'pw', database: 'app' }],
    ['app:pw@tcp6([::1]:3307)/app', { ...defaults, host: '::1', port: 3307, user: 'app', password: 'pw', database: 'app' }],
    ['user:pass@unix(/run/mysqld/mysqld.sock)/db', { ...defaults, socketPath: '/run/mysqld/mysqld.sock', user: 'user', password: 'pass', database: 'db' }],
    ['user@unix()/db', { ...defaults, socketPath: '/tmp/mysql.sock', user: 'user', database: 'db' }],
    [
      `app:${PASSWORD}@tcp(db:3307)/app?parseTime=true&loc=Local&timeout=2s&readTimeout=1500ms&table=web_sessions`,
      { ...defaults, host: 'db', port: 3307, user: 'app', password: PASSWORD, database: 'app', connectTimeoutMs: 2000, queryTimeoutMs: 1500, table: { name: 'web_sessions' } },
    ],
    [`app:p@ss)w(rd:x@unix(/tmp/my sql.sock)/my%20db`, { ...defaults, socketPath: '/tmp/my sql.sock', user: 'app', password: 'p@ss)w(rd:x', database: 'my db' }],
    [
      'root:@tcp(127.0.0.1:3306)/test?charset=utf8mb4,utf8&collation=utf8mb4_general_ci&allowNativePasswords=true&multiStatements=false&maxAllowedPacket=0&writeTimeout=30s&loc=Asia%2FShanghai',
      { ...defaults, ...local, user: 'root', database: 'test' },
    ],
    ['root:@tcp(127.0.0.1:3306)/test?tls=skip-verify', { ...defaults, ...local, user: 'root', database: 'test', tls: 'skip-verify' }],
    ['root:@tcp(127.0.0.1:3306)/test?TLS=true&Table=t1', { ...defaults, ...local, user: 'root', database: 'test', tls: 'true', table: { name: 't1' } }],
    ['mysql://root@127.0.0.1:3306/test', { ...defaults, ...local, user: 'root', database: 'test' }],
    [
      'mysql://app:s3cr3t%2C%40%3A%2F@db/app?table=sess&timeout=3s',
      { ...defaults, host: 'db', port: 3306, user: 'app', password: PASSWORD, database: 'app', connectTimeoutMs: 3000, table: { name: 'sess' } },
    ],
  ];

  for (const [config, expected] of accepted) {
    it(`parseConfig reads ${JSON.stringify(config)} exactly`, function () {
      assert.deepEqual(parseConfig(config), expected);
    });
  }

  const rejected: Array<[string, RegExp]> = [
    ['', /provider config is empty/],
    ['root@tcp(127.0.0.1:3306)', /no "\/" found/],
    ['root@tcp(127.0.0.1:3306)/', /database name is missing/],
    ['root@tcp(127.0.0.1:3306/test', /protocol\(address\)/],
    ['root@udp(127.0.0.1:3306)/test', /unsupported protocol "udp"/],
    ['root@tcp(127.0.0.1:abc)/test', /address must be host:port/],
    ['root@tcp(127.0.0.1:99999)/test', /address port must be between 1 and 65535/],
    ['root@tcp(h)/test?sql_mode=ANSI', /unsupported option "sql_mode"/],
    ['root@tcp(h)/test?parseTime=maybe', /parseTime must be true or false/],
    ['root@tcp(h)/test?timeout=soon', /timeout must be a duration/],
    ['root@tcp(h)/test?readTimeout=-1s', /readTimeout must be a duration/],
    ['root@tcp(h)/test?maxAllowedPacket=big', /maxAllowedPacket must be a whole number/],
    ['root@tcp(h)/test?tls=preferred', /tls must be true, false or skip-verify/],
    ['root@tcp(h)/test?table=a&table=b', /table is given twice/],
    ['root@tcp(h)/test?table', /expected key=value/],
    ['root@tcp(h)/test?table=auth.sessions', /table must be a name of letters/],
    ['mysql://h/db/extra', /just the database name/],
    ['mysql://h/db?pool=4', /unsupported option "pool"/],
  ];

  for (const [config, message] of rejected) {
    it(`parseConfig refuses ${JSON.stringify(config)} naming the problem`, function () {
      refuses(config, message);
    });
  }

  const badTables = ['a"b', 'a`b', "x';drop table users;--", 'a;b', 'a%20b', '1abc', 'a-b', 'x'.repeat(49)];
  for (const table of badTables) {
    it(`parseConfig refuses the table name ${JSON.stringify(table)} at parse time`, function () {
      refuses(`root@tcp(h)/test?table=${table}`, /table must be a name/);
    });
  }

  const hidesPassword = configRefusal('mysql', parseConfig, ['s3cr', '3t@', '3tmore']);
  const leaky = [
    `app:${PASSWORD}@tcp(db:abc)/app`,
    `app:${PASSWORD}@tcp(db)/app?bogus=1`,
    `app:${PASSWORD}@tcp(db)/app?timeout=never`,
    `app:${PASSWORD}@tcp(db)/`,
    'app:s3cr/3t@tcp(db)',
    'app:s3cr/3tmore',
    `mysql://app:${PASSWORD}@db/app`,
    'mysql://app:s3cr3t@db:notaport/app',
  ];
  for (const config of leaky) {
    it(`parseConfig never shows the password in its error for ${JSON.stringify(config.replace(/s3cr/g, '…'))}`, function () {
      hidesPassword(config);
    });
  }
});

describe('mysql open without a server', function () {
  it('open against a closed port fails within seconds naming provider and address but not the password', async function () {
    this.timeout(8000);
    const started = Date.now();
    await assert.rejects(provider.open(`root:${PASSWORD}@tcp(127.0.0.1:1)/test`, { maxLifetime: HOUR }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_SESSION_STORE');
      assert.match(err.message, /^session\/mysql: connect to 127\.0\.0\.1:1 failed/);
      assert.ok(!err.message.includes('s3cr3t'), err.message);
      return true;
    });
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });

  it('open with a wrong password names the user but never the password', async function () {
    this.timeout(8000);
    await requireServer(this, 'MySQL', '127.0.0.1', 3306);
    await assert.rejects(provider.open(`sessionkit_nobody:${PASSWORD}@tcp(127.0.0.1:3306)/test`, { maxLifetime: HOUR }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_SESSION_STORE');
      assert.match(err.message, /^session\/mysql: connect to 127\.0\.0\.1:3306 failed: access denied/i);
      assert.ok(!err.message.includes('s3cr3t'), err.message);
      return true;
    });
  });
});

describe('mysql against 127.0.0.1:3306', function () {
  this.timeout(20_000);
  // Every table made here is dropped afterwards, with its index table.
  const { names: tables, newTable } = testTables();
  const table = newTable();
  const config = (name = table) => `root:@tcp(127.0.0.1:3306)/test?charset=utf8&parseTime=true&table=${name}`;
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

  async function rowCount(name = table): Promise<number> {
    return Number((await query(`SELECT COUNT(*) AS n FROM \`${name}\``))[0]!.n);
  }

  /** processIds lists the ids of the server's connections, only those using database `db` when given. */
  async function processIds(db?: string): Promise<number[]> {
    const rows = await query(`SELECT ID FROM information_schema.PROCESSLIST${db ? ' WHERE DB = ?' : ''}`, db ? [db] : []);
    return rows.map((row) => Number(row.ID));
  }

  async function indexNames(name: string): Promise<string[]> {
    const rows = await query(`SHOW INDEX FROM \`${name}\``);
    return [...new Set(rows.map((row) => row.Key_name as string))].sort();
  }

  describeSqlStoreShared({
    provider: 'mysql',
    port: 3306,
    clock,
    table,
    store: () => store,
    open: ({ table: name = table, now } = {}) => provider.open(config(name), { maxLifetime: HOUR, now }),
    openThrough: (port) => provider.open(`root:@tcp(127.0.0.1:${port})/test?timeout=2s&table=${table}`, { maxLifetime: HOUR, now: () => clock }),
    newTable: () => newTable(),
    nastyIds: ['%_*?', '`x`', "\\'; SELECT 1; -- "],
    rowCount: () => rowCount(),
    indexNames,
    primaryKey: () => 'PRIMARY',
    insertRow: async ({ sid, data, expiresAt }) => {
      await admin.execute(`INSERT INTO \`${table}\` (sid, data, expires_at) VALUES (?, ?, ?)`, [sid, data, expiresAt]);
    },
    insertDeadRows: async (count, expiresAt) => {
      const values = Array.from({ length: count }, (_, i) => `('dead-${i}', 'x', ${expiresAt})`).join(',');
      await admin.query(`INSERT INTO \`${table}\` (sid, data, expires_at) VALUES ${values}`);
    },
    openKillTarget: async () => {
      // The connections to kill are the ones that appear once the target has opened and written.
      const known = new Set(await processIds());
      const victim = await provider.open(config(), { maxLifetime: HOUR, now: () => clock });
      const kill = async () => {
        const mine = (await processIds('test')).filter((id) => !known.has(id));
        for (const id of mine) await admin.query(`KILL ${id}`);
        return mine.length;
      };
      return { store: victim, kill, close: () => victim.close!() };
    },
  });

  it('ids that differ only in case or trailing spaces are different sessions', async function () {
    await store.set('abc', 'lower', clock + HOUR);
    await store.set('ABC', 'upper', clock + HOUR);
    await store.set('abc ', 'space', clock + HOUR);
    assert.deepEqual([await store.get('abc'), await store.get('ABC'), await store.get('abc ')], ['lower', 'upper', 'space']);
  });

  it('records larger than 64 KiB and 4-byte characters fit, even with charset=utf8 in the DSN', async function () {
    const record = '🍪'.repeat(50_000) + 'x'.repeat(100_000);
    await store.set('big', record, clock + HOUR);
    assert.equal(await store.get('big'), record);
  });

  it('a record over the MEDIUMTEXT limit is refused naming the limit, and the stored record is unchanged', async function () {
    await store.set('huge', 'small', clock + HOUR);
    await assert.rejects(store.set('huge', 'x'.repeat(16 * 1024 * 1024), clock + HOUR), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_SESSION_TOO_LARGE');
      assert.match(err.message, /^session\/mysql: set failed: a record of 16777216 bytes exceeds the 16777215-byte/);
      return true;
    });
    assert.equal(await store.get('huge'), 'small');
  });

  it('an id longer than the column is an error, never silently truncated', async function () {
    const long = 'a'.repeat(129);
    await assert.rejects(store.set(long, 'x', clock + HOUR), { code: 'ERR_SESSION_STORE' });
    assert.equal(await store.get(long.slice(0, 128)), undefined);
  });

  it('compareAndSet with expected undefined lets exactly one of 20 concurrent creators win', async function () {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.compareAndSet!('race', undefined, `creator-${i}`, clock + HOUR)));
    assert.equal(results.filter(Boolean).length, 1);
    assert.equal(await store.get('race'), `creator-${results.indexOf(true)}`);
  });

  it('gc and count can use the expiry index', async function () {
    for (const sql of [`EXPLAIN DELETE FROM \`${table}\` WHERE expires_at <= 1 LIMIT 1000`, `EXPLAIN SELECT COUNT(*) FROM \`${table}\` WHERE expires_at > 1`]) {
      const [rows] = await admin.query<mysql.RowDataPacket[]>(sql);
      assert.match(String(rows[0]!.possible_keys), new RegExp(`${table}_expires_at_idx`), JSON.stringify(rows));
    }
  });

  describe('index', function () {
    const index = `${table}_index`;

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

    describeSqlIndexShared({
      provider: 'mysql',
      address: '127.0.0.1:3306',
      clock,
      table,
      store: () => store,
      open: (name = table) => provider.open(config(name), { maxLifetime: HOUR, now: () => clock }),
      newTable,
      indexRows: () => rowCount(index),
      indexNames,
      primaryKey: () => 'PRIMARY',
      keyHashes: async (sid) => {
        const rows = await query(`SELECT LOWER(HEX(key_hash)) AS hash FROM \`${index}\` WHERE sid = ?`, [sid]);
        return rows.map((row) => row.hash as string);
      },
      createOldTable: async (name, { sid, data, expiresAt }) => {
        await admin.query(`CREATE TABLE \`${name}\` (sid VARBINARY(128) NOT NULL PRIMARY KEY, data MEDIUMTEXT NOT NULL, expires_at BIGINT NOT NULL)`);
        await admin.query(`INSERT INTO \`${name}\` VALUES (?, ?, ?)`, [sid, data, expiresAt]);
      },
      insertDeadIndexRows: async (count, expiresAt) => {
        const values = Array.from({ length: count }, (_, i) => `(UNHEX(SHA2('user:${i}', 256)), 'dead-${i}', ${expiresAt})`).join(',');
        await admin.query(`INSERT INTO \`${index}\` (key_hash, sid, expires_at) VALUES ${values}`);
      },
      dropIndexTable: async (name) => {
        await admin.query(`DROP TABLE \`${name}_index\``);
      },
    });
  });
});
