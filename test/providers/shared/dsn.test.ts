import assert from 'node:assert/strict';
import { isSessionError } from 'sessionkit';
import * as couchbase from 'sessionkit/providers/couchbase';
import * as lmdb from 'sessionkit/providers/lmdb';
import * as memcache from 'sessionkit/providers/memcache';
import * as mysql from 'sessionkit/providers/mysql';
import * as postgres from 'sessionkit/providers/postgres';
import * as redis from 'sessionkit/providers/redis';

/** refusal returns the error `parse` throws for `config`; a config that parses fails the test. */
function refusal(parse: (config: string) => unknown, config: string): Error {
  try {
    parse(config);
  } catch (error) {
    assert.ok(isSessionError(error, 'ERR_SESSION_PROVIDER_CONFIG'), String(error));
    return error;
  }
  assert.fail(`${JSON.stringify(config)} was accepted`);
}

describe('provider config strings: unknown options', function () {
  const near: Array<[string, (config: string) => unknown, string, string]> = [
    ['postgres', postgres.parseConfig, 'host=db sslmod=disable', 'sslmode'],
    ['postgres', postgres.parseConfig, 'postgres://db/app?aplication_name=x', 'application_name'],
    ['mysql', mysql.parseConfig, 'root@tcp(db)/app?readTimout=2s', 'readTimeout'],
    ['redis', redis.parseConfig, 'addr=127.0.0.1:6379,prefx=app:', 'prefix'],
    ['redis', redis.parseConfig, 'redis://127.0.0.1:6379?dial_timout=1s', 'dial_timeout'],
    ['memcache', memcache.parseConfig, 'memcache://h:11211?timout=2s', 'timeout'],
    ['couchbase', couchbase.parseConfig, '{"save_path":"couchbase://h","buckt":"b"}', 'bucket'],
    ['lmdb', lmdb.parseConfig, 'data_dri=./app.db', 'data_dir'],
  ];
  for (const [provider, parse, config, meant] of near) {
    it(`${provider}: an unknown option close to a known one gets a "did you mean" (${JSON.stringify(config)} → ${meant})`, function () {
      const error = refusal(parse, config);
      assert.match(error.message, new RegExp(`^session/${provider}: unsupported option "[^"]+" \\(did you mean "${meant}"\\? allowed: `));
    });
  }

  it('an unknown option close to no known one gets the list of allowed options only', function () {
    const error = refusal(postgres.parseConfig, 'host=db colour=blue');
    assert.match(error.message, /unsupported option "colour" \(allowed: host, port, /);
    assert.doesNotMatch(error.message, /did you mean/);
  });
});
