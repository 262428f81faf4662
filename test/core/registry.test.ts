import { expect } from 'chai';
import { createManager, providers, register, SessionError, type Provider } from 'sessionkit';
import { unknownProviderHint } from '../../src/registry.ts';

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

  it('an unknown provider that is not built in names no module, says how a third-party provider registers, and lists the registered ones', async function () {
    const error = await createManager({ provider: 'sqlite' }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(SessionError).with.property('code', 'ERR_SESSION_UNKNOWN_PROVIDER');
    const message = (error as Error).message;
    expect(message).to.match(/^session: unknown provider "sqlite" \(not a built-in provider; a third-party provider registers itself when its module is imported/);
    expect(message).to.contain('--import <module>');
    expect(message).not.to.contain('sessionkit/providers/sqlite');
    expect(message).to.match(/; registered: .*memory/);
  });

  it('a built-in name that is not registered names the import that registers it', function () {
    expect(unknownProviderHint('redis', ['file', 'memory'])).to.equal('forgotten import "sessionkit/providers/redis"?');
  });

  it('a name close to a provider gets a did-you-mean, with the import when that provider is not registered yet', function () {
    expect(unknownProviderHint('redsi', ['file', 'memory'])).to.equal('did you mean "redis"? import "sessionkit/providers/redis" registers it');
    expect(unknownProviderHint('redsi', ['file', 'memory', 'redis'])).to.equal('did you mean "redis"?');
    expect(unknownProviderHint('postgresql', ['file', 'memory'])).to.match(/^did you mean "postgres"\?/);
    expect(unknownProviderHint('Memory', ['file', 'memory'])).to.equal('did you mean "memory"?');
    expect(unknownProviderHint('example-mpa', ['example-map', 'file', 'memory'])).to.equal('did you mean "example-map"?');
  });

  it('the embedded stores of the Go libraries (ledis, nodb, bolt, badger) name lmdb as the embedded persistent replacement', function () {
    for (const name of ['ledis', 'nodb', 'bolt', 'badger']) {
      const hint = unknownProviderHint(name, ['file', 'memory']);
      expect(hint).to.contain('embedded persistent store here is "lmdb"');
      expect(hint).to.contain('import "sessionkit/providers/lmdb"');
      expect(hint).not.to.contain(`sessionkit/providers/${name}`);
    }
  });

  it("beego's redis_cluster and redis_sentinel point at the redis provider", function () {
    expect(unknownProviderHint('redis_cluster', ['file', 'memory'])).to.match(/is provider "redis" here, with a ;-separated node list/);
  });
});
