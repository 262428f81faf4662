import { expect } from 'chai';
import { createManager, type ManagerOptions, type RejectedId } from 'sessionkit';
import { MemoryStore } from 'sessionkit/providers/memory';
import { fakeClock } from 'sessionkit/testing';
import { fakeRequest } from '../support/requests.ts';

const secret = 'rejected-id-test-secret-0123456789abcdef';

describe('onRejectedId: ids a request presents but cannot use', function () {
  async function setup(options: ManagerOptions = {}) {
    const events: RejectedId[] = [];
    const manager = await createManager({ gcInterval: 0, onRejectedId: (e) => events.push(e), ...options });
    const stored = async () => {
      const session = await manager.load(fakeRequest());
      session.set('x', 1);
      await session.release();
      return session.id;
    };
    return { manager, events, stored };
  }

  it('reports malformed and unknown ids by a keyed hash, never the value, and not a live session', async function () {
    const { manager, events, stored } = await setup();
    const live = await stored();
    await manager.load(fakeRequest(`sid=${live}`));
    expect(events).to.deep.equal([]);
    const forged = 'f'.repeat(32);
    const values = ['../../etc/passwd', forged, forged, 'e'.repeat(32)];
    for (const value of values) await manager.load(fakeRequest(`sid=${value}`));
    expect(events.map((e) => e.reason)).to.deep.equal(['malformed', 'unknown', 'unknown', 'unknown']);
    // Not the value nor a piece of it. (Refusing any 'ffff' failed by chance: four random 16-digit hashes hold one about once in 1,300 runs.)
    for (const [i, { idHash }] of events.entries()) expect(idHash).to.match(/^[0-9a-f]{16}$/).and.satisfy((hash: string) => !values[i]!.includes(hash));
    expect(events[1]!.idHash).to.equal(events[2]!.idHash, 'the same value hashes alike');
    expect(events[1]!.idHash).to.not.equal(events[3]!.idHash);
    await manager.close();
  });

  it('reports a bad signature when cookies are signed', async function () {
    const { manager, events, stored } = await setup({ secret });
    const live = await stored();
    const good = manager.cookieFor(live).split(';')[0]!;
    await manager.load(fakeRequest(good));
    await manager.load(fakeRequest(`${good.slice(0, -1)}x`));
    await manager.load(fakeRequest(`sid=${live}`));
    expect(events.map((e) => e.reason)).to.deep.equal(['bad-signature', 'bad-signature']);
    await manager.close();
  });

  it('reports a stored session past a shortened absolute lifetime as expired', async function () {
    const clock = fakeClock();
    const shared = new MemoryStore({ maxLifetime: 3_600_000, now: clock.now });
    const provider = { open: async () => shared };
    const before = await createManager({ provider, gcInterval: 0, now: clock.now });
    const session = await before.load(fakeRequest());
    session.set('x', 1);
    await session.release();
    const events: RejectedId[] = [];
    const after = await createManager({ provider, gcInterval: 0, now: clock.now, absoluteLifetime: 60, onRejectedId: (e) => events.push(e) });
    await clock.advance(61_000);
    expect((await after.load(fakeRequest(`sid=${session.id}`))).isNew).to.equal(true);
    expect(events.map((e) => e.reason)).to.deep.equal(['expired']);
  });

  it('a throwing hook goes to onError and the request still gets a fresh session', async function () {
    const errors: Error[] = [];
    const manager = await createManager({ gcInterval: 0, onError: (e) => errors.push(e), onRejectedId: () => { throw new Error('hook broke'); } });
    const session = await manager.load(fakeRequest(`sid=${'a'.repeat(32)}`));
    expect(session.isNew).to.equal(true);
    expect(errors.map((e) => e.message)).to.deep.equal(['hook broke']);
    await manager.close();
  });
});
