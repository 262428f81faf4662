import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { isSessionError, type Provider } from 'sessionkit';
import { provider as couchbase } from 'sessionkit/providers/couchbase';
import { provider as memcache } from 'sessionkit/providers/memcache';
import { provider as mongodb } from 'sessionkit/providers/mongodb';
import { provider as mysql } from 'sessionkit/providers/mysql';
import { provider as postgres } from 'sessionkit/providers/postgres';
import { provider as redis } from 'sessionkit/providers/redis';
import { failure, StoreGuard } from '../../providers/shared/errors.ts';
import { freePort } from '../support/faults.ts';
import { MARKERS, passwordArb, spills } from '../support/passwords.ts';

/**
 * No password reaches what a logger prints of a store's open or runtime error: its message, its
 * cause chain, `util.inspect(err, { depth: Infinity })` or `JSON.stringify(err)`. Every built-in
 * store builds those errors with failure() (through StoreGuard at run time), so the first
 * properties put a password wherever drivers are known to keep one; the last ones open each
 * server-backed provider with a generated password against a port where nothing listens.
 */

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);
const enc = encodeURIComponent;

/** logged is what console.error and a JSON logger print of `err`. */
const logged = (err: unknown) => `${inspect(err, { depth: Infinity })}\n${JSON.stringify(err)}`;

/** assertHidden fails when `err`, as logged, shows any part of a generated password. */
function assertHidden(err: unknown, password: string): void {
  const text = logged(err);
  assert.ok(!text.includes(password) && !text.includes(enc(password)), text);
  assert.equal(spills(text, MARKERS), undefined, text);
}

/** withProps is an Error with `props` as own properties, the way drivers decorate theirs. */
function withProps(message: string, props: Record<string, unknown>, options?: ErrorOptions): Error {
  return Object.assign(new Error(message, options), props);
}

/** causes are what a driver rejects with, holding `pw` somewhere: where ioredis, pg, mysql2 and others keep their details. */
const causes = (pw: string): fc.Arbitrary<unknown> =>
  fc.constantFrom(
    new Error(`auth failed for ${pw}`),
    new Error(`auth failed for ${enc(pw)}`),
    withProps('WRONGPASS invalid username-password pair', { command: { name: 'hello', args: ['3', 'AUTH', 'default', pw] } }),
    withProps('connect failed', { options: { host: 'db', password: pw }, address: '127.0.0.1', port: 5432 }),
    withProps('query failed', { code: '28P01', detail: `password=${pw}`, sqlMessage: `user app (using ${pw})` }),
    withProps('with a map', { seen: new Map([['password', pw]]), args: [pw] }),
    new Error('outer', { cause: withProps('inner', { args: ['AUTH', pw] }, { cause: new Error(pw) }) }),
    new AggregateError([new Error(pw)], 'several servers failed'),
    { message: `a plain object ${pw}`, password: pw },
    `a string ${pw}`,
  );

describe('store errors hide the password from logs', function () {
  it('failure() keeps the password out of the message, the cause chain, util.inspect and JSON, wherever the cause holds it', function () {
    fc.assert(
      fc.property(passwordArb.chain((pw) => fc.tuple(fc.constant(pw), causes(pw))), ([pw, cause]) => {
        const err = failure('redis', 'cannot connect to 127.0.0.1:6379', cause, [pw]);
        assert.ok(isSessionError(err, 'ERR_SESSION_STORE'));
        assertHidden(err, pw);
      }),
      { numRuns: RUNS },
    );
  });

  it('a store call that fails through StoreGuard.run hides the password and keeps the driver code', async function () {
    await fc.assert(
      fc.asyncProperty(passwordArb, async (pw) => {
        const guard = new StoreGuard('postgres', { secrets: [pw], where: '127.0.0.1:5432' });
        const driver = withProps(`password authentication failed: ${pw}`, { code: '28P01', args: [pw] });
        const err = await guard.run('get', () => Promise.reject(driver)).then(
          () => assert.fail('the call resolved'),
          (error: unknown) => error,
        );
        assert.match((err as Error).message, /^session\/postgres: get on 127\.0\.0\.1:5432 failed: password authentication failed: \*\*\*$/);
        assert.equal(((err as Error).cause as { code?: string }).code, '28P01');
        assertHidden(err, pw);
      }),
      { numRuns: RUNS },
    );
  });

  describe('open against a port where nothing listens', function () {
    this.timeout(60_000);
    let port: number;
    before(async function () {
      port = await freePort();
    });

    const opens: Array<[string, Provider, (pw: string) => string]> = [
      ['redis', redis, (pw) => `redis://app:${enc(pw)}@127.0.0.1:${port}/0?dial_timeout=300ms`],
      ['memcache', memcache, (pw) => `memcache://app:${enc(pw)}@127.0.0.1:${port}?timeout=300ms`],
      ['postgres', postgres, (pw) => `postgres://app:${enc(pw)}@127.0.0.1:${port}/test?connect_timeout=2`],
      ['mysql', mysql, (pw) => `mysql://app:${enc(pw)}@127.0.0.1:${port}/test?timeout=1s`],
      ['mongodb', mongodb, (pw) => `mongodb://app:${enc(pw)}@127.0.0.1:${port}/test?serverSelectionTimeoutMS=300&connectTimeoutMS=300`],
      ['couchbase', couchbase, (pw) => `couchbase://app:${enc(pw)}@127.0.0.1:${port}?bucket=sessions`],
    ];
    for (const [name, provider, config] of opens) {
      it(`${name}: the open error shows no part of the password`, async function () {
        await fc.assert(
          fc.asyncProperty(passwordArb, async (pw) => {
            const err = await provider.open(config(pw), { maxLifetime: 60_000 }).then(
              async (store) => {
                await store.close?.();
                assert.fail('open resolved');
              },
              (error: unknown) => error,
            );
            assert.ok(isSessionError(err, 'ERR_SESSION_STORE'), String(err));
            assertHidden(err, pw);
          }),
          { numRuns: name === 'couchbase' ? 2 : 5 },
        );
      });
    }
  });
});
