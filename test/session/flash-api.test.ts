import { expect } from 'chai';
import { openSessions, type Sessions } from '../support/sessions.ts';

describe('keyed and unkeyed flash (iris, flamego)', function () {
  let s: Sessions;
  beforeEach(async function () {
    s = await openSessions();
  });
  afterEach(async function () {
    await s.manager.close();
  });

  /** next stores what `write` flashes and returns the session of the next request. */
  async function next(write: (session: Awaited<ReturnType<Sessions['load']>>) => void) {
    const session = await s.load();
    write(session);
    await session.release();
    return s.load(session.id);
  }

  it("setFlash(value) without a key is the session's one unkeyed flash, of any JSON type (flamego's SetFlash)", async function () {
    for (const value of ['This is a flash message', { Success: 'It worked!' }, [1, 2], 0, false]) {
      const reader = await next((session) => session.setFlash(value));
      expect(reader.hasFlash()).to.equal(true);
      expect(reader.peekFlash()).to.deep.equal(value);
      expect(reader.getFlash()).to.deep.equal(value);
      await reader.release();
      expect((await s.load(reader.id)).hasFlash(), 'gone after the request that read it').to.equal(false);
    }
  });

  it('getFlashes returns every keyed flash and removes them; the unkeyed flash stays for getFlash()', async function () {
    const reader = await next((session) => {
      session.setFlash('success', 'data saved');
      session.setFlash('form', { email: 'x' });
      session.setFlash('unkeyed');
    });
    expect(reader.getFlashes()).to.deep.equal({ success: 'data saved', form: { email: 'x' } });
    expect(reader.getFlashes(), 'still readable in this request').to.deep.equal({ success: 'data saved', form: { email: 'x' } });
    await reader.release();
    const after = await s.load(reader.id);
    expect(after.hasFlash('success')).to.equal(false);
    expect(after.getFlash()).to.equal('unkeyed');
  });

  it('deleteFlash and clearFlashes remove flashes unread, leveled ones too', async function () {
    const reader = await next((session) => {
      session.setFlash('a', 1);
      session.setFlash('b', 2);
      session.flash.info('leveled');
    });
    reader.deleteFlash('a');
    expect(reader.hasFlash('a')).to.equal(false);
    expect(reader.hasFlash('b')).to.equal(true);
    reader.clearFlashes();
    expect(reader.hasFlash()).to.equal(false);
    await reader.release();
    const after = await s.load(reader.id);
    expect(after.hasFlash()).to.equal(false);
    expect(after.flash.view().messages).to.deep.equal([]);
  });

  it('getFlashString gives a flash as text, and the fallback when there is none (GetFlashString, GetFlashStringDefault)', async function () {
    const reader = await next((session) => {
      session.setFlash('n', 5);
      session.setFlash('o', { a: 1 });
    });
    expect(reader.getFlashString('n')).to.equal('5');
    expect(reader.getFlashString('o', 'none')).to.equal('none');
    expect(reader.getFlashString('missing')).to.equal('');
    expect(reader.getFlashString('missing', 'none')).to.equal('none');
  });

  it('flashes wait for a request that reads them: a request that renders nothing and reads no key leaves them all', async function () {
    const id = (await next((session) => {
      session.flash.success('saved');
      session.setFlash('form', 'x');
    })).id;
    const json = await s.load(id);
    expect(json.has('anything')).to.equal(false);
    await json.release();
    const page = await s.load(id);
    expect(page.flash.view().successMsg).to.equal('saved');
    expect(page.getFlash('form')).to.equal('x');
  });
});
