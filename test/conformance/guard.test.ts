import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const BUILT_IN = ['memory', 'file', 'redis', 'memcache', 'postgres', 'mysql', 'mongodb', 'couchbase', 'lmdb'];
const PROVIDERS = new URL('../../providers/', import.meta.url);

/** providerFolders lists the folders of providers/ that hold a provider: every one but shared/, the helpers they share. */
function providerFolders(): string[] {
  return readdirSync(PROVIDERS, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'shared')
    .map((d) => d.name);
}

describe('conformance matrix guard', function () {
  it('every provider folder registers under its folder name and has a conformance row', async function () {
    const folders = providerFolders();
    // tsx gives dynamic imports their own module instances, so read the registry the same way.
    for (const name of folders) await import(`sessionkit/providers/${name}`);
    const { providers } = await import('sessionkit');
    // Names starting with test- are registered by the registry's own tests.
    const registered = providers().filter((name) => !name.startsWith('test-'));
    expect(registered).to.include.members(folders);
    // A provider's tests live in test/providers/<name>.test.ts, its conformance row among them.
    for (const name of registered) {
      const file = new URL(`../providers/${name}.test.ts`, import.meta.url);
      expect(existsSync(file), `test/providers/${name}.test.ts`).to.equal(true);
      expect(readFileSync(file, 'utf8'), `test/providers/${name}.test.ts runs describeStore`).to.include('describeStore(');
    }
  });

  it('every built-in provider named in the design exists', function () {
    expect(providerFolders()).to.include.members(BUILT_IN);
  });

  it('providers/shared is not a provider: it has no index module, so sessionkit/providers/shared does not resolve', async function () {
    expect(existsSync(new URL('shared/index.ts', PROVIDERS))).to.equal(false);
    let failure: unknown;
    const specifier = 'sessionkit/providers/shared';
    await import(specifier).catch((error: unknown) => (failure = error));
    expect((failure as NodeJS.ErrnoException | undefined)?.code).to.equal('ERR_MODULE_NOT_FOUND');
  });
});
