import { expect } from 'chai';
import { ALL_SESSIONS, SessionError } from 'sessionkit';
import { openSessions } from '../support/sessions.ts';

describe('manager options of the session lineage', function () {
  it('saveUninitialized stores a first visit and sends its cookie, as beego and macaron do', async function () {
    const s = await openSessions({ saveUninitialized: true });
    const session = await s.load();
    const id = session.id;
    expect(session.cookieDecision()).to.deep.equal({ action: 'set', id, maxAgeMs: 0 });
    await session.release();
    expect(await s.store.inner.get(id)).to.be.a('string');
    const again = await s.load(id);
    expect(again.isNew).to.equal(false);
    expect(again.cookieDecision()).to.deep.equal({ action: 'none' });
    await s.manager.close();
  });

  it('by default a first visit that writes nothing stores nothing and sends no cookie', async function () {
    const s = await openSessions();
    const session = await s.load();
    expect(session.cookieDecision()).to.deep.equal({ action: 'none' });
    await session.release();
    expect(s.store.calls).to.deep.equal([]);
    await s.manager.close();
  });

  it('idGenerator makes the ids of new and regenerated sessions, and an id that fails the id check is refused', async function () {
    let n = 0;
    const s = await openSessions({ idGenerator: () => (++n).toString(16).padStart(32, 'a') });
    const session = await s.load();
    expect(session.id).to.equal('a'.repeat(31) + '1');
    session.x = 1;
    await session.release();
    await session.regenerate();
    expect(session.id).to.equal('a'.repeat(31) + '2');
    await s.manager.close();
    for (const bad of ['short', 'Z'.repeat(32), 'a'.repeat(31), 'a'.repeat(33)]) {
      const refused = await openSessions({ idGenerator: () => bad });
      const error = await refused.load().then(() => undefined, (e: unknown) => e);
      expect(error, bad).to.be.instanceOf(SessionError).with.property('code', 'ERR_SESSION_CONFIG');
      expect((error as Error).message).to.match(/idGenerator returned an id that is not 32 lowercase hex characters/).and.not.include(bad);
      await refused.manager.close();
    }
  });

  it('idGenerator is handed the request, also for the ids regenerate and destroy make later in it', async function () {
    const seen: unknown[] = [];
    let n = 0;
    const s = await openSessions({
      idGenerator: (req) => {
        seen.push(req);
        return (++n).toString(16).padStart(32, 'b');
      },
    });
    const session = await s.load();
    session.x = 1;
    await session.release();
    await session.regenerate();
    await session.destroy();
    expect(seen).to.have.length(3);
    expect(seen[0]).to.be.an('object').with.property('headers');
    expect(seen.every((req) => req === seen[0])).to.equal(true);
    await s.manager.close();
  });

  it('onDestroy hears of destroyAll once, with ALL_SESSIONS', async function () {
    const heard: string[] = [];
    const s = await openSessions({ onDestroy: (sid) => heard.push(sid) });
    const id = await s.created();
    await s.manager.destroy(id);
    await s.manager.destroyAll();
    expect(heard).to.deep.equal([id, ALL_SESSIONS]);
    expect(ALL_SESSIONS).to.equal('*');
    await s.manager.close();
  });

  it('flashProperty must be a property name or false', async function () {
    for (const bad of ['', 'a b', 1, true]) {
      const error = await openSessions({ flashProperty: bad as string }).then(() => undefined, (e: unknown) => e);
      expect(error, String(bad)).to.be.instanceOf(SessionError).with.property('code', 'ERR_SESSION_CONFIG');
    }
  });
});
