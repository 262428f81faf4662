import type { StoreHarness } from './harness.ts';

const BYTE_FOR_BYTE = 'the record came back changed: a store keeps records byte for byte (no trimming, re-encoding or JSON parsing)';

/**
 * recordTests registers the tests of the three required methods on live records: not found, set
 * and get byte for byte, replace, a 64 KiB record, and destroy (idempotent).
 */
export function recordTests(harness: StoreHarness): void {
  const { sid, later, expectRecord } = harness;

  it('get returns undefined for an id that was never set', async function () {
    await expectRecord(sid(), undefined, 'get returned a record for an id that was never set: get never creates one');
  });

  it('set then get returns the record byte for byte', async function () {
    const id = sid();
    const record = '{"v":1,"d":{"name":"Zoë \\"q\\" 🍪","n":[1,2,3]}}\n\ttabs, commas; semicolons=equals';
    await harness.store.set(id, record, later());
    await expectRecord(id, record, BYTE_FOR_BYTE);
  });

  it('set replaces an existing record', async function () {
    const id = sid();
    await harness.store.set(id, 'first', later());
    await harness.store.set(id, 'second', later());
    await expectRecord(id, 'second', 'set kept the old record: set is an upsert');
  });

  it('set keeps a 64 KiB record intact', async function () {
    const id = sid();
    const record = 'x'.repeat(64 * 1024 - 10) + 'end';
    await harness.store.set(id, record, later());
    await expectRecord(id, record, `${BYTE_FOR_BYTE}; a 64 KiB record must fit`);
  });

  it('destroy removes the record and a second destroy is a no-op', async function () {
    const { store } = harness;
    const id = sid();
    await store.set(id, 'gone soon', later());
    await store.destroy(id);
    await expectRecord(id, undefined, 'destroy left the record readable');
    await store.destroy(id);
    await store.destroy(sid());
  });
}
