import assert from 'node:assert/strict';
import { SessionError } from '../../errors.ts';
import { CookieClient } from '../http-client.ts';
import type { ManagerHarness } from './harness.ts';
import { skipWithout } from '../skip.ts';

/**
 * userSessionTests registers the `user sessions` suite: listUserSessions and destroyUserSessions
 * follow login, regenerate and destroy, a racing write cannot revive a logged-out session, and bad
 * user ids are refused. The whole suite skips when the store has no index (Store.indexList).
 */
export function userSessionTests(harness: ManagerHarness): void {
  describe('user sessions', function () {
    before(function () {
      skipWithout(this, harness.manager.store.indexList, 'indexList');
    });
    /** login stores a session for a new client, then logs it in as `user` (regenerate, then bindUser). */
    const login = async (user: string) => {
      const client = new CookieClient(harness.base);
      await client.request('/set?before=login');
      const { id } = (await client.json(`/login?user=${encodeURIComponent(user)}`)) as { id: string };
      return { client, id };
    };
    /** userId is a fresh user id with a space and a non-ASCII letter, which the index must keep exactly. */
    const userId = () => `user-${Math.random().toString(36).slice(2)} é`;

    it('listUserSessions lists exactly the live sessions bound to that user', async function () {
      const { manager } = harness;
      const [alice, bob] = [userId(), userId()];
      const a1 = await login(alice);
      const a2 = await login(alice);
      await login(bob);
      assert.deepEqual((await manager.listUserSessions(alice)).sort(), [a1.id, a2.id].sort());
      assert.equal((await manager.listUserSessions(bob)).length, 1);
      assert.deepEqual(await manager.listUserSessions(userId()), []);
    });

    it('the listing follows regenerate and destroy', async function () {
      const { manager } = harness;
      const user = userId();
      const a = await login(user);
      const b = await login(user);
      const { id: moved } = (await a.client.json('/regenerate')) as { id: string };
      assert.deepEqual((await manager.listUserSessions(user)).sort(), [moved, b.id].sort());
      await b.client.request('/destroy');
      assert.deepEqual(await manager.listUserSessions(user), [moved]);
      await manager.destroy(moved);
      assert.deepEqual(await manager.listUserSessions(user), []);
    });

    it('destroyUserSessions logs the user out everywhere and leaves other users alone', async function () {
      const { manager } = harness;
      const [user, other] = [userId(), userId()];
      const sessions = [await login(user), await login(user), await login(user)];
      const bystander = await login(other);
      assert.equal(await manager.destroyUserSessions(user), 3);
      for (const { client } of sessions) assert.deepEqual(await client.json('/get'), {});
      assert.deepEqual(await manager.listUserSessions(user), []);
      assert.equal(((await bystander.client.json('/get')) as { user: string }).user, other);
      assert.equal(await manager.destroyUserSessions(user), 0);
    });

    it('a write racing with destroyUserSessions does not bring the session back', async function () {
      const { manager } = harness;
      const user = userId();
      const { client } = await login(user);
      const gate = harness.newGate();
      const writer = client.request('/gated/set?late=1');
      await gate.waitFor(1);
      await manager.destroyUserSessions(user);
      gate.open();
      await writer;
      assert.deepEqual(await manager.listUserSessions(user), []);
      assert.equal(((await client.json('/get')) as { user?: string }).user, undefined);
    });

    it('bad user ids are refused with a SessionError', async function () {
      const { manager } = harness;
      await assert.rejects(manager.listUserSessions(''), SessionError);
      await assert.rejects(manager.listUserSessions('x'.repeat(501)), SessionError);
      await assert.rejects(manager.destroyUserSessions(42 as unknown as string), SessionError);
    });
  });
}
