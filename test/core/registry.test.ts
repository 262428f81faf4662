import { expect } from 'chai';
import { createManager, providers, register, SessionError, type Provider } from 'sessionkit';

const dummy: Provider = { open: async () => ({ get: async () => undefined, set: async () => {}, destroy: async () => {} }) };

describe('registry', function () {
  it('register refuses an empty name, a missing provider and a duplicate name', function () {
    expect(() => register('', dummy)).to.throw(SessionError, /invalid provider name/);
    expect(() => register('test-null', null as unknown as Provider)).to.throw(SessionError, /no open\(\) method/);
    register('test-registry-once', dummy);
    expect(() => register('test-registry-once', dummy)).to.throw(SessionError, /register called twice for provider "test-registry-once"/)
      .with.property('code', 'ERR_SESSION_DUPLICATE_PROVIDER');
  });

  it('providers lists memory and file once sessionkit is imported, sorted', function () {
    const names = providers();
    expect(names).to.include.members(['memory', 'file']);
    expect(names).to.deep.equal([...names].sort());
  });

  it('an unknown provider names the import that registers it and lists the registered ones', async function () {
    const error = await createManager({ provider: 'nosuch' }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(SessionError).with.property('code', 'ERR_SESSION_UNKNOWN_PROVIDER');
    expect((error as Error).message).to.contain('session: unknown provider "nosuch" (forgotten import "sessionkit/providers/nosuch"?)');
    expect((error as Error).message).to.contain('memory');
  });
});
