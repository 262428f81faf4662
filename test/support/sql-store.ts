import assert from 'node:assert/strict';
import type { Store } from 'sessionkit';
import { expectOutageRecovery, startProxy } from './faults.ts';

const HOUR = 3_600_000;

/** KillTarget is a store whose server connections the kill test ends, from {@link SqlStoreFixture.openKillTarget}. */
export interface KillTarget {
  /** store is the store whose connections {@link KillTarget.kill} ends. */
  store: Store;
  /** kill has the server end every connection of `store` and resolves to how many it ended. */
  kill(): Promise<number>;
  /** close closes `store` if it was opened just for the test; a no-op for the suite's own store. */
  close(): Promise<void>;
}

/** SqlStoreFixture is what {@link describeSqlStoreShared} needs from a SQL provider's server test. */
export interface SqlStoreFixture {
  /** provider is the provider name as error messages print it. */
  provider: 'postgres' | 'mysql';
  /** port is the server's port on 127.0.0.1, where the outage test's proxy forwards to. */
  port: number;
  /** clock is the fixed time the suite's store is opened with. */
  clock: number;
  /** table is the suite's sessions table. */
  table: string;
  /** store is the suite's store, open on the suite's table. */
  store(): Store;
  /** open opens another store on `table` (default the suite's table), with clock `now` (default the real clock). */
  open(options?: { table?: string; now?: () => number }): Promise<Store>;
  /** openThrough opens a store on the suite's table through a proxy on `port`, with a 2 s connect timeout and the suite's clock. */
  openThrough(port: number): Promise<Store>;
  /** newTable names a fresh table that the suite drops, with its index table, afterwards. */
  newTable(): string;
  /** nastyIds are the ids, beyond the ones every dialect shares, full of this dialect's own SQL metacharacters. */
  nastyIds: string[];
  /** rowCount counts the rows of the suite's sessions table. */
  rowCount(): Promise<number>;
  /** indexNames lists the names of the indexes of `table`, primary key included. */
  indexNames(table: string): Promise<string[]>;
  /** primaryKey is the name the server gives the primary key of `table`. */
  primaryKey(table: string): string;
  /** insertRow puts one row into the suite's table behind the stores' back. */
  insertRow(row: { sid: string; data: string; expiresAt: number }): Promise<void>;
  /** insertDeadRows puts `count` rows, each under its own id, that expired at `expiresAt` into the suite's table. */
  insertDeadRows(count: number, expiresAt: number): Promise<void>;
  /** openKillTarget picks the store whose connections the kill test ends. */
  openKillTarget(): Promise<KillTarget>;
  /** secret, when given, is a password the outage errors must never show. */
  secret?: string;
}

/**
 * describeSqlStoreShared defines the store tests that read the same on PostgreSQL and MySQL:
 * SQL metacharacters kept as data, exact record comparison, expiry by the application clock,
 * regenerate over an expired leftover, batched gc, racing table creation, and recovery from a
 * killed connection or a server outage. Call it inside the provider's server-gated describe.
 */
export function describeSqlStoreShared(fixture: SqlStoreFixture): void {
  const { clock, table } = fixture;

  it('ids and records full of SQL metacharacters round-trip as data and leave the table intact', async function () {
    const store = fixture.store();
    const nasty = [`a'b`, `"; DROP TABLE ${table};--`, '\\', `'); DELETE FROM ${table}; --`, ...fixture.nastyIds];
    for (const [i, sid] of nasty.entries()) {
      await store.set(sid, `${nasty[(i + 1) % nasty.length]} \\' "`, clock + HOUR);
    }
    for (const [i, sid] of nasty.entries()) {
      assert.equal(await store.get(sid), `${nasty[(i + 1) % nasty.length]} \\' "`);
    }
    assert.equal(await store.compareAndSet!(nasty[0]!, `${nasty[1]} \\' "`, "it's", clock + HOUR), true);
    await store.regenerate!(nasty[1]!, `${nasty[1]}'moved`);
    assert.equal(await store.get(`${nasty[1]}'moved`), `${nasty[2]} \\' "`);
    assert.equal(await fixture.rowCount(), nasty.length);
    await store.clear!();
  });

  it('compareAndSet compares records exactly, trailing spaces and case included', async function () {
    const store = fixture.store();
    await store.set('trailing', 'v1', clock + HOUR);
    assert.equal(await store.compareAndSet!('trailing', 'v1 ', 'v2', clock + HOUR), false);
    assert.equal(await store.compareAndSet!('trailing', 'V1', 'v2', clock + HOUR), false);
    assert.equal(await store.get('trailing'), 'v1');
    assert.equal(await store.compareAndSet!('trailing', 'v1', 'v1', clock + HOUR), true);
  });

  it('expiry follows the application clock, not the database clock', async function () {
    const skewed = Date.now() - 10 * 365 * 24 * HOUR;
    const past = await fixture.open({ now: () => skewed });
    try {
      await past.set('skew', 'alive by the app clock', skewed + 1000);
      assert.equal(await past.get('skew'), 'alive by the app clock');
      assert.equal(await fixture.store().get('skew'), undefined);
    } finally {
      await past.close!();
    }
  });

  it('regenerate replaces an expired leftover row at the new id but refuses a live one', async function () {
    const store = fixture.store();
    await store.set('old-id', 'data', clock + HOUR);
    await fixture.insertRow({ sid: 'stale-id', data: 'stale', expiresAt: clock - 1 });
    await store.regenerate!('old-id', 'stale-id');
    assert.equal(await store.get('stale-id'), 'data');
    await store.set('other', 'other', clock + HOUR);
    await assert.rejects(store.regenerate!('stale-id', 'other'), { code: 'ERR_SESSION_ID_TAKEN' });
    assert.equal(await store.get('stale-id'), 'data');
    assert.equal(await store.get('other'), 'other');
  });

  it('gc deletes expired rows in batches until none is left and keeps live ones', async function () {
    const store = fixture.store();
    await store.clear!();
    await fixture.insertDeadRows(2500, clock - 1);
    await store.set('alive', 'alive', clock + HOUR);
    await store.gc!();
    assert.equal(await fixture.rowCount(), 1);
    assert.equal(await store.get('alive'), 'alive');
  });

  it('two processes opening a fresh table at once both succeed and create it once', async function () {
    const fresh = fixture.newTable();
    const stores = await Promise.all(Array.from({ length: 4 }, () => fixture.open({ table: fresh })));
    try {
      await stores[0]!.set('shared', 'one table', Date.now() + HOUR);
      assert.equal(await stores[3]!.get('shared'), 'one table');
      const expected = [fixture.primaryKey(fresh), `${fresh}_expires_at_idx`].sort();
      assert.deepEqual((await fixture.indexNames(fresh)).sort(), expected);
    } finally {
      await Promise.all(stores.map((s) => s.close!()));
    }
  });

  it('a connection killed by the server is replaced: the next calls succeed without reopening', async function () {
    const target = await fixture.openKillTarget();
    try {
      await target.store.set('survivor', 'still here', clock + HOUR);
      assert.ok((await target.kill()) >= 1, 'the store had a connection to kill');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(await target.store.get('survivor'), 'still here');
      await target.store.set('survivor', 'written after the kill', clock + HOUR);
      assert.equal(await target.store.get('survivor'), 'written after the kill');
    } finally {
      await target.close();
    }
  });

  it('a server that goes away makes calls reject with a store error naming the address, and calls succeed again once it returns', async function () {
    const proxy = await startProxy(fixture.port);
    const outage = await fixture.openThrough(proxy.port);
    try {
      const failure = new RegExp(`^session/${fixture.provider}: (get|set) on 127\\.0\\.0\\.1:${proxy.port} failed`);
      await expectOutageRecovery(proxy, { store: outage, witness: fixture.store(), failure, secret: fixture.secret });
    } finally {
      await outage.close!();
      await proxy.stop();
    }
  });

  it('calls after close reject with ERR_SESSION_CLOSED', async function () {
    const extra = await fixture.open();
    await extra.close!();
    await assert.rejects(extra.get('x'), { code: 'ERR_SESSION_CLOSED' });
  });
}
