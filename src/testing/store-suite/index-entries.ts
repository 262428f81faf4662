import assert from 'node:assert/strict';
import type { StoreHarness } from './harness.ts';
import { skipWithout } from '../skip.ts';

/**
 * indexTests registers the `index` suite, skipped unless the store has indexAdd, indexRemove and
 * indexList together: ids filed under a key are listed until their entry expires, removed one by
 * one, kept apart for keys of any characters, and are not sessions.
 */
export function indexTests(harness: StoreHarness): void {
  const { sid, later, clock, expire } = harness;
  const sorted = (ids: string[]) => [...ids].sort();
  const indexKey = (label: string) => `user:${label}:${sid()}`;
  const expectListed = async (key: string, expected: string[], hint: string) => {
    const listed = sorted(await harness.store.indexList!(key));
    assert.deepEqual(listed, sorted(expected), `${hint} (listed ${JSON.stringify(listed)})`);
  };

  describe('index', function () {
    before(function () {
      const { store } = harness;
      skipWithout(this, store.indexAdd && store.indexRemove && store.indexList, 'index (indexAdd, indexRemove, indexList)');
    });

    it('indexList returns the ids filed under a key, and nothing for an unknown key', async function () {
      const { store } = harness;
      const [key, other] = [indexKey('a'), indexKey('b')];
      const ids = [sid(), sid(), sid()];
      for (const id of ids) await store.indexAdd!(key, id, later());
      await store.indexAdd!(other, sid(), later());
      await expectListed(key, ids, 'indexList must return exactly the ids filed under that key');
      await expectListed(indexKey('unknown'), [], 'indexList of a key never used must be empty');
    });

    it('indexRemove takes one id out, and removing a missing one is a no-op', async function () {
      const { store } = harness;
      const key = indexKey('remove');
      const [a, b] = [sid(), sid()];
      await store.indexAdd!(key, a, later());
      await store.indexAdd!(key, b, later());
      await store.indexRemove!(key, a);
      await store.indexRemove!(key, a);
      await store.indexRemove!(indexKey('never'), a);
      await expectListed(key, [b], 'indexRemove must take out that one id');
      await store.indexRemove!(key, b);
      await expectListed(key, [], 'indexRemove of the last id must leave the key empty');
    });

    it('an entry is left out once its expiresAt passes, before any gc', async function () {
      const { store } = harness;
      const key = indexKey('expiry');
      const [short, long] = [sid(), sid()];
      await store.indexAdd!(key, short, clock.now() + harness.shortTtl);
      await store.indexAdd!(key, long, later());
      await expire();
      await expectListed(key, [long], harness.expiryHint('indexList listed an entry whose expiresAt has passed: entries expire on read, like sessions'));
    });

    if (clock.fake) {
      it('an entry is listed until its expiresAt and left out from the instant now reaches it', async function () {
        const key = indexKey('boundary');
        const id = sid();
        const expiresAt = clock.now() + 2000;
        await harness.store.indexAdd!(key, id, expiresAt);
        await clock.advance(expiresAt - 1 - clock.now());
        await expectListed(key, [id], harness.expiryHint('indexList lost an entry 1 ms before its expiresAt: an entry is live while expiresAt > now'));
        await clock.advance(1);
        await expectListed(key, [], harness.expiryHint('indexList listed an entry at now == expiresAt: an entry is expired from the instant now >= expiresAt'));
      });
    }

    it('adding an id again replaces its expiry and lists it once', async function () {
      const { store } = harness;
      const key = indexKey('again');
      const id = sid();
      await store.indexAdd!(key, id, clock.now() + harness.shortTtl);
      await store.indexAdd!(key, id, later());
      await expire();
      await expectListed(key, [id], 'indexAdd of a filed id must replace its expiry, and list it once');
    });

    it('keys of any characters and up to 512 characters stay apart', async function () {
      const { store } = harness;
      const suffix = sid();
      const keys = ['user:Zoë 🍪', 'user:a b,c;d=e', 'user:{tag}', 'user:../../etc/passwd', 'user:a/b\\c', 'user:%2e%2e', `user:${'k'.repeat(480)}`].map(
        (k) => `${k}:${suffix}`.slice(-512),
      );
      const filed = new Map(keys.map((k) => [k, sid()]));
      for (const [key, id] of filed) await store.indexAdd!(key, id, later());
      for (const [key, id] of filed) await expectListed(key, [id], `key ${JSON.stringify(key.slice(0, 40))} got mixed with another: hash or escape keys, never split or trim them`);
    });

    it('lists every one of 50 ids filed under one key', async function () {
      const key = indexKey('many');
      const ids = Array.from({ length: 50 }, harness.sid);
      await Promise.all(ids.map((id) => harness.store.indexAdd!(key, id, later())));
      await expectListed(key, ids, 'concurrent indexAdd calls under one key lost entries: each add must not overwrite the others');
    });

    it('index entries are not sessions: count leaves them out and clear removes them', async function () {
      const { store } = harness;
      const key = indexKey('clear');
      const id = sid();
      const before = store.count ? await store.count() : undefined;
      await store.indexAdd!(key, id, later());
      if (store.count) assert.equal(await store.count(), before, 'count included an index entry: index entries are not sessions');
      assert.equal(await store.get(id), undefined, 'get read an index entry as a session');
      if (!store.clear) return;
      await store.clear();
      await expectListed(key, [], 'clear must remove the index too');
    });
  });
}
