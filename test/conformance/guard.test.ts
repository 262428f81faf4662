import { expect } from 'chai';
import { existsSync, readdirSync } from 'node:fs';

const BUILT_IN = ['memory', 'file', 'redis', 'memcache', 'postgres', 'mysql', 'mongodb', 'couchbase', 'lmdb'];

describe('conformance matrix guard', function () {
  it('every provider folder registers under its folder name and has a conformance row', async function () {
    const folders = readdirSync(new URL('../../providers/', import.meta.url), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    // tsx gives dynamic imports their own module instances, so read the registry the same way.
    for (const name of folders) await import(`sessionkit/providers/${name}`);
    const { providers } = await import('sessionkit');
    // Names starting with test- are registered by the registry's own tests.
    const registered = providers().filter((name) => !name.startsWith('test-'));
    expect(registered).to.include.members(folders);
    for (const name of registered) {
      expect(existsSync(new URL(`./${name}.test.ts`, import.meta.url)), `test/conformance/${name}.test.ts`).to.equal(true);
    }
  });

  it('every built-in provider named in the design exists', function () {
    const folders = readdirSync(new URL('../../providers/', import.meta.url));
    expect(folders).to.include.members(BUILT_IN);
  });
});
