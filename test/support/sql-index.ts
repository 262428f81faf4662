import assert from 'node:assert/strict';
import type { Store } from 'sessionkit';

const HOUR = 3_600_000;

/** SqlIndexFixture is what {@link describeSqlIndexShared} needs from a SQL provider's index test. */
export interface SqlIndexFixture {
  /** provider is the provider name as error messages print it. */
  provider: 'postgres' | 'mysql';
  /** address is the server's `host:port` as error messages print it. */
  address: string;
  /** clock is the fixed time the stores are opened with. */
  clock: number;
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
  /** dropIndexTable drops the index table of `table` behind the stores' back. */
  dropIndexTable(table: string): Promise<void>;
}

/**
 * describeSqlIndexShared defines the index tests that read the same on PostgreSQL and MySQL:
 * clear stays within its own tables, racing processes lose no entry, and a failing statement is
 * reported like the store's other failures. Call it inside the provider's server-gated describe.
 */
export function describeSqlIndexShared(fixture: SqlIndexFixture): void {
  const { clock } = fixture;

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
