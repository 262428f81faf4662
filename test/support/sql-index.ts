import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Store } from 'sessionkit';

const HOUR = 3_600_000;

/** TestTables is the tables one suite makes: {@link testTables} names them, the suite's after hook drops them. */
export interface TestTables {
  /** names lists every table named so far, for the after hook to drop each with its index table. */
  names: string[];
  /** newTable names a fresh table of `length` characters (default 24) and adds it to `names`. */
  newTable(length?: number): string;
}

/** testTables starts an empty list of a suite's tables, each named `sessionkit_test_<random>`. */
export function testTables(): TestTables {
  const names: string[] = [];
  const newTable = (length = 24) => {
    const name = `sessionkit_test_${randomBytes(4).toString('hex')}`.padEnd(length, '_');
    names.push(name);
    return name;
  };
  return { names, newTable };
}

/** SqlIndexFixture is what {@link describeSqlIndexShared} needs from a SQL provider's index test. */
export interface SqlIndexFixture {
  /** provider is the provider name as error messages print it. */
  provider: 'postgres' | 'mysql';
  /** address is the server's `host:port` as error messages print it. */
  address: string;
  /** clock is the fixed time the stores are opened with. */
  clock: number;
  /** table is the suite's sessions table. */
  table: string;
  /** store is the suite's store, open on the suite's table. */
  store(): Store;
  /** open opens another store on `table`, or on the suite's table when none is given. */
  open(table?: string): Promise<Store>;
  /** newTable names a fresh table of `length` characters (default 24) that the suite drops, with its index table, afterwards. */
  newTable(length?: number): string;
  /** indexRows counts the rows of the suite's index table. */
  indexRows(): Promise<number>;
  /** indexNames lists the names of the indexes of `table`, primary key included. */
  indexNames(table: string): Promise<string[]>;
  /** primaryKey is the name the server gives the primary key of `table`. */
  primaryKey(table: string): string;
  /** keyHashes lists, in lowercase hex, the key hashes of the suite's index rows for `sid`. */
  keyHashes(sid: string): Promise<string[]>;
  /** createOldTable creates `table` as a sessions table of a release before the index, holding one row. */
  createOldTable(table: string, row: { sid: string; data: string; expiresAt: number }): Promise<void>;
  /** insertDeadIndexRows puts `count` index rows, each under its own key, that expired at `expiresAt` into the suite's index table. */
  insertDeadIndexRows(count: number, expiresAt: number): Promise<void>;
  /** dropIndexTable drops the index table of `table` behind the stores' back. */
  dropIndexTable(table: string): Promise<void>;
}

/**
 * describeSqlIndexShared defines the index tests that read the same on PostgreSQL and MySQL:
 * the index table's layout and the upgrade of an older sessions table, batched gc, clear staying
 * within its own tables, racing processes losing no entry, and a failing statement reported like
 * the store's other failures. Call it inside the provider's server-gated describe.
 */
export function describeSqlIndexShared(fixture: SqlIndexFixture): void {
  const { clock } = fixture;

  /** expectIndexTable asserts that the index table of `table` has its primary key and expiry index, and no other. */
  async function expectIndexTable(table: string): Promise<void> {
    const index = `${table}_index`;
    const expected = [fixture.primaryKey(index), `${index}_exp_idx`].sort();
    assert.deepEqual((await fixture.indexNames(index)).sort(), expected);
  }

  it('open creates the index table beside the sessions table, with its primary key and expiry index', async function () {
    await expectIndexTable(fixture.table);
  });

  it('open adds the index table to a sessions table made before the index existed', async function () {
    const old = fixture.newTable();
    await fixture.createOldTable(old, { sid: 'kept', data: 'old data', expiresAt: clock + HOUR });
    const upgraded = await fixture.open(old);
    try {
      assert.equal(await upgraded.get('kept'), 'old data');
      await upgraded.indexAdd!('user:old', 'kept', clock + HOUR);
      assert.deepEqual(await upgraded.indexList!('user:old'), ['kept']);
      await expectIndexTable(old);
    } finally {
      await upgraded.close!();
    }
  });

  it("a row holds the sha256 of the key's UTF-16, so a 512-character key with NUL and emoji fits", async function () {
    const key = `user:\u0000${'🍪'.repeat(300)}`.slice(0, 512);
    await fixture.store().indexAdd!(key, 'nul-key', clock + HOUR);
    assert.deepEqual(await fixture.store().indexList!(key), ['nul-key']);
    assert.deepEqual(await fixture.keyHashes('nul-key'), [createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('hex')]);
  });

  it('gc deletes expired index rows in batches until none is left and keeps live ones', async function () {
    const store = fixture.store();
    await store.clear!();
    await fixture.insertDeadIndexRows(2500, clock - 1);
    await store.indexAdd!('user:alive', 'alive', clock + HOUR);
    assert.equal(await fixture.indexRows(), 2501);
    await store.gc!();
    assert.equal(await fixture.indexRows(), 1);
    assert.deepEqual(await store.indexList!('user:alive'), ['alive']);
  });

  it('keys that differ only in lone surrogates stay apart (UTF-8 would fold both into U+FFFD)', async function () {
    const [high, low] = ['user:\ud800', 'user:\udc00'];
    await fixture.store().indexAdd!(high, 'high', clock + HOUR);
    await fixture.store().indexAdd!(low, 'low', clock + HOUR);
    assert.deepEqual(await fixture.store().indexList!(high), ['high']);
    assert.deepEqual(await fixture.store().indexList!(low), ['low']);
  });

  it('an empty key or one over 512 characters is refused with ERR_SESSION_INVALID_VALUE', async function () {
    const store = fixture.store();
    for (const key of ['', 'k'.repeat(513)]) {
      await assert.rejects(store.indexAdd!(key, 'x', clock + HOUR), { code: 'ERR_SESSION_INVALID_VALUE' });
      await assert.rejects(store.indexList!(key), { code: 'ERR_SESSION_INVALID_VALUE' });
      await assert.rejects(store.indexRemove!(key, 'x'), { code: 'ERR_SESSION_INVALID_VALUE' });
    }
  });

  it("clear empties this store's index and leaves another table's index alone", async function () {
    const neighbour = await fixture.open(fixture.newTable());
    try {
      await fixture.store().indexAdd!('user:shared', 'mine', clock + HOUR);
      await neighbour.indexAdd!('user:shared', 'theirs', clock + HOUR);
      await fixture.store().clear!();
      assert.equal(await fixture.indexRows(), 0);
      assert.deepEqual(await neighbour.indexList!('user:shared'), ['theirs']);
    } finally {
      await neighbour.close!();
    }
  });

  it('two processes adding 100 ids each to one key at once lose none', async function () {
    const second = await fixture.open();
    try {
      const ids = Array.from({ length: 200 }, (_, i) => `racer-${i}`);
      await Promise.all(ids.map((id, i) => (i % 2 ? fixture.store() : second).indexAdd!('user:racing', id, clock + HOUR)));
      assert.deepEqual((await fixture.store().indexList!('user:racing')).sort(), [...ids].sort());
    } finally {
      await second.close!();
    }
  });

  it('a table name of the longest allowed length, 48 characters, leaves room for the index table and its indexes', async function () {
    const name = fixture.newTable(48);
    const long = await fixture.open(name);
    try {
      // PostgreSQL would cut a longer name short with a mere notice; the whole name must be there.
      assert.ok((await fixture.indexNames(`${name}_index`)).includes(`${name}_index_exp_idx`));
      await long.indexAdd!('user:long', 'long', clock + HOUR);
      assert.deepEqual(await long.indexList!('user:long'), ['long']);
      await long.gc!();
    } finally {
      await long.close!();
    }
  });

  it('a failing index statement rejects with ERR_SESSION_STORE naming the call and the address', async function () {
    const broken = fixture.newTable();
    const victim = await fixture.open(broken);
    try {
      await fixture.dropIndexTable(broken);
      await assert.rejects(victim.indexAdd!('user:x', 'x', clock + HOUR), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ERR_SESSION_STORE');
        assert.ok(err.message.startsWith(`session/${fixture.provider}: indexAdd on ${fixture.address} failed`), err.message);
        return true;
      });
    } finally {
      await victim.close!();
    }
    await assert.rejects(victim.indexList!('user:x'), { code: 'ERR_SESSION_CLOSED' });
  });
}
