import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { isSessionError } from 'sessionkit';
import * as couchbase from 'sessionkit/providers/couchbase';
import * as file from 'sessionkit/providers/file';
import * as lmdb from 'sessionkit/providers/lmdb';
import * as memcache from 'sessionkit/providers/memcache';
import * as memory from 'sessionkit/providers/memory';
import * as mongodb from 'sessionkit/providers/mongodb';
import * as mysql from 'sessionkit/providers/mysql';
import * as postgres from 'sessionkit/providers/postgres';
import * as redis from 'sessionkit/providers/redis';
import { DELIMITERS, MARK, MARKERS, padding, passwordArb, spills } from '../support/passwords.ts';

/**
 * Two properties per provider (checklist row 51). Whatever the config string, `parseConfig`
 * returns options or throws a SessionError `ERR_SESSION_PROVIDER_CONFIG` prefixed
 * `session/<provider>: `, and neither its message nor anything a logger prints of it (the cause
 * chain and its properties) shows a password that was in the input; the inputs are arbitrary text
 * and strings built from each dialect's grammar with random, often hostile, values. And a password
 * written in a dialect's escaping (percent-encoded, quoted, JSON) into an otherwise valid config
 * reads back byte for byte.
 */

/** RUNS per property; PROPERTY_RUNS=5000 searches deeper by hand. */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);

// ---- grammar pieces ----------------------------------------------------------------------------

const word = fc.stringMatching(/^[a-z][a-z0-9_]{0,7}$/);
const hostile = fc.string({ unit: fc.constantFrom(...'aZ09.-_', ...DELIMITERS, '\0', '\n', '\t', 'é'), maxLength: 12 });
const anyText = fc.string({ unit: 'binary', maxLength: 60 });
const number = fc.oneof(fc.integer({ min: -5, max: 70_000 }).map(String), fc.constantFrom('', 'x', '1.5', '-0', '99999999999999999999'));
const duration = fc.oneof(number, fc.constantFrom('500ms', '2s', '1.5m', '2h', '0', 'fast', '1h30m', '-1s'));
const flag = fc.constantFrom('true', 'false', '1', 'off', 'maybe', '');
const value = fc.oneof(word, number, hostile);
const host = fc.oneof(fc.constantFrom('127.0.0.1', 'localhost', 'db.internal', '[::1]', '::1', ''), word, hostile);
const address = fc.oneof(
  fc.tuple(host, fc.oneof(fc.integer({ min: 1, max: 65535 }).map(String), number)).map(([h, p]) => `${h}:${p}`),
  host,
);
const addresses = (separator: string) => fc.array(address, { minLength: 1, maxLength: 3 }).map((list) => list.join(separator));

/** options renders `key=value` pairs of the given keys (plus a stray one) joined by `separator`. */
function options(keys: string[], separator: string, render = (v: string) => v): fc.Arbitrary<string> {
  const pair = fc.tuple(fc.constantFrom(...keys, 'bogus'), fc.oneof(value, duration, flag)).map(([k, v]) => `${k}=${render(v)}`);
  return fc.array(pair, { maxLength: 4 }).map((pairs) => pairs.join(separator));
}

/** query renders a URL query of `keys`, percent-encoding the values. */
const query = (keys: string[]) => options(keys, '&', encodeURIComponent).map((q) => (q === '' ? '' : `?${q}`));

// ---- cases -------------------------------------------------------------------------------------

/**
 * Case is one config string. `secret` is the password in it; `escaped` says it is written in the
 * dialect's escaping (percent-encoded, quoted, JSON), so no part of it may ever show. A raw
 * password may be split by its delimiters into other fields the parser cannot tell from it, so
 * then only the whole and its start (the mark) must stay hidden.
 */
interface Case {
  config: string;
  secret?: string;
  escaped?: boolean;
}

/** withSecret builds cases that put a generated password into `render`'s config string. */
function withSecret(escaped: boolean, render: (password: string) => fc.Arbitrary<string>): fc.Arbitrary<Case> {
  return passwordArb.chain((secret) => render(secret).map((config) => ({ config, secret, escaped })));
}

const plain = (arb: fc.Arbitrary<string>): fc.Arbitrary<Case> => arb.map((config) => ({ config }));
const enc = encodeURIComponent;
/** quoted writes a value in single quotes with `\` escapes, as lib/pq and macaron's key=value allow. */
const quoted = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

interface Subject {
  name: string;
  parse: (config: string) => unknown;
  /** forms are config strings of the provider's dialects with random values. */
  forms: fc.Arbitrary<Case>;
  /** read gives back the password the parsed options hold. */
  read?: (options: never) => string | undefined;
  /** written are valid configs, one per dialect, with the password escaped as that dialect wants. */
  written?: Array<(password: string) => string>;
}

const redisForms = fc.oneof(
  // beego CSV: addr,poolsize,password,dbnum[,idle|master,…]; a password without a comma is unambiguous.
  passwordArb.chain((secret) =>
    fc
      .tuple(fc.oneof(addresses(';'), address), number, fc.array(fc.oneof(number, duration, word), { maxLength: 4 }))
      .map(([addr, pool, rest]) => ({ config: [addr, pool, secret, ...rest].join(','), secret, escaped: !secret.includes(',') })),
  ),
  // macaron key=value, the password quoted or raw.
  fc.boolean().chain((escaped) =>
    withSecret(escaped, (pw) =>
      fc
        .tuple(address, options(['db', 'pool_size', 'idle_timeout', 'prefix', 'tls', 'ha_mode', 'master_name', 'sentinel_addrs'], ','))
        .map(([addr, rest]) => [`addr=${addr}`, `password=${escaped ? quoted(pw) : pw}`, rest].filter(Boolean).join(',')),
    ),
  ),
  // URLs: redis, rediss, redis+cluster, redis+sentinel.
  fc.boolean().chain((escaped) =>
    withSecret(escaped, (pw) =>
      fc
        .tuple(
          fc.constantFrom('redis', 'rediss', 'redis+cluster', 'redis+sentinel', 'rediss+cluster'),
          fc.constantFrom('', 'app'),
          fc.oneof(address, addresses(',')),
          fc.constantFrom('', '/0', '/3', '/mymaster', '/mymaster/2', '/x'),
          query(['prefix', 'db', 'read_timeout', 'dial_timeout', 'max_retries', 'tls_skip_verify', 'master_name', 'sentinel_password']),
        )
        .map(([scheme, user, hosts, path, q]) => `${scheme}://${user}:${escaped ? enc(pw) : pw}@${hosts}${path}${q}`),
    ),
  ),
  // beego JSON, the password JSON-escaped or pasted in raw.
  fc.boolean().chain((escaped) =>
    withSecret(escaped, (pw) =>
      fc
        .record({ save_path: fc.oneof(address, addresses(';')), db_num: fc.oneof(number, fc.integer()), poolsize: number, idle_timeout: duration }, { requiredKeys: ['save_path'] })
        .map((fields) => (escaped ? JSON.stringify({ ...fields, password: pw }) : `{"save_path":${JSON.stringify(fields.save_path)},"password":"${pw}"}`)),
    ),
  ),
);

const memcacheForms = fc.oneof(
  plain(fc.oneof(addresses(';'), addresses(','))),
  // user:password@ in the plain server list, where it does not belong: refused without an echo.
  withSecret(true, (pw) => fc.tuple(fc.constantFrom('app', ''), fc.oneof(addresses(';'), addresses(','))).map(([user, hosts]) => `${user}:${pw}@${hosts}`)),
  fc.boolean().chain((escaped) =>
    withSecret(escaped, (pw) =>
      fc
        .tuple(fc.constantFrom('memcache', 'memcached'), fc.constantFrom('', 'app'), addresses(','), fc.constantFrom('', '/', '/db0'), query(['prefix', 'timeout', 'retries']))
        .map(([scheme, user, hosts, path, q]) => `${scheme}://${user}:${escaped ? enc(pw) : pw}@${hosts}${path}${q}`),
    ),
  ),
);

const postgresKeys = ['host', 'port', 'user', 'dbname', 'sslmode', 'sslrootcert', 'connect_timeout', 'application_name', 'table'];
const postgresForms = fc.oneof(
  // lib/pq key=value, the password quoted or raw.
  fc.boolean().chain((escaped) =>
    withSecret(escaped, (pw) =>
      fc
        .tuple(options(postgresKeys, ' '), options(postgresKeys, ' ', quoted), fc.constantFrom(' ', '  ', '\t'))
        .map(([before, after, space]) => [before, `password=${escaped ? quoted(pw) : pw}`, after].filter(Boolean).join(space)),
    ),
  ),
  fc.boolean().chain((escaped) =>
    withSecret(escaped, (pw) =>
      fc
        .tuple(fc.constantFrom('postgres', 'postgresql'), fc.constantFrom('app', ''), address, fc.constantFrom('/app', '/', '', '/a/b', '/%zz'), query(postgresKeys))
        .map(([scheme, user, addr, path, q]) => `${scheme}://${user}:${escaped ? enc(pw) : pw}@${addr}${path}${q}`),
    ),
  ),
);

const mysqlParams = ['timeout', 'readTimeout', 'tls', 'table', 'charset', 'parseTime', 'loc', 'maxAllowedPacket', 'multiStatements'];
const mysqlForms = fc.oneof(
  // go-sql-driver DSN: the credentials end at the last @ before the protocol, so any password is unambiguous.
  withSecret(true, (pw) =>
    fc
      .tuple(word, fc.constantFrom('tcp', 'tcp6', 'unix', ''), fc.constantFrom('127.0.0.1:3306', 'db', '[::1]:3307', '/run/mysqld.sock', ''), word, options(mysqlParams, '&'))
      .map(([user, protocol, addr, db, params]) => `${user}:${pw}@${protocol}${protocol ? `(${addr})` : ''}/${db}${params ? `?${params}` : ''}`),
  ),
  // The same DSN with hostile parts around the password.
  plain(fc.tuple(value, value, value, options(mysqlParams, '&')).map(([user, target, db, params]) => `${user}@${target}/${db}?${params}`)),
  fc.boolean().chain((escaped) =>
    withSecret(escaped, (pw) =>
      fc
        .tuple(fc.constantFrom('app', ''), address, fc.constantFrom('/app', '/', '/a/b', '/%zz'), query(mysqlParams))
        .map(([user, addr, path, q]) => `mysql://${user}:${escaped ? enc(pw) : pw}@${addr}${path}${q}`),
    ),
  ),
);

const mongodbForms = fc.boolean().chain((escaped) =>
  withSecret(escaped, (pw) =>
    fc
      .tuple(fc.constantFrom('mongodb', 'mongodb+srv', 'mongo'), fc.constantFrom('admin', ''), addresses(','), fc.constantFrom('', '/', '/app', '/a.b', '/%zz'), query(['collection', 'authSource', 'replicaSet']))
      .map(([scheme, user, hosts, path, q]) => `${scheme}://${user}:${escaped ? enc(pw) : pw}@${hosts}${path}${q}`),
  ),
);

const couchbaseForms = fc.oneof(
  // macaron / beego: http://[user:pass@]host:8091/,pool,bucket
  fc.boolean().chain((escaped) =>
    withSecret(escaped, (pw) =>
      fc
        .tuple(fc.constantFrom('http', 'https'), addresses(','), fc.constantFrom('/', '', '/pools'), fc.constantFrom('default', 'mypool', ''), value)
        .map(([scheme, hosts, path, pool, bucket]) => `${scheme}://app:${escaped ? enc(pw) : pw}@${hosts}${path},${pool},${bucket}`),
    ),
  ),
  fc.boolean().chain((escaped) =>
    withSecret(escaped, (pw) =>
      fc
        .record({ save_path: fc.oneof(fc.constant('http://127.0.0.1:8091/'), address), bucket: value, pool: value, scope: value, prefix: value, username: word }, { requiredKeys: [] })
        .map((fields) => (escaped ? JSON.stringify({ ...fields, password: pw }) : `{"save_path":"couchbase://h","bucket":"b","password":"${pw}"}`)),
    ),
  ),
  fc.boolean().chain((escaped) =>
    withSecret(escaped, (pw) =>
      fc
        .tuple(fc.constantFrom('couchbase', 'couchbases', 'redis'), addresses(','), fc.constantFrom('', '/', '/sessions'), query(['bucket', 'scope', 'collection', 'prefix', 'network']), fc.boolean())
        .map(([scheme, hosts, path, q, inQuery]) => {
          const secret = escaped ? enc(pw) : pw;
          if (!inQuery) return `${scheme}://app:${secret}@${hosts}${path}${q}`;
          return `${scheme}://${hosts}${path}${q}${q ? '&' : '?'}username=app&password=${secret}`;
        }),
    ),
  ),
);

const pathLike = fc.oneof(
  fc.constantFrom('', '  ', 'data/sessions', '/var/lib/app', '../../etc', 'C:\\x', 'a\0b', '\0'),
  hostile,
  fc.array(fc.oneof(word, fc.constantFrom('..', '.', '')), { maxLength: 4 }).map((parts) => parts.join('/')),
);

const lmdbForms = plain(
  fc.oneof(
    pathLike,
    pathLike.map((path) => `data_dir=${path}`),
    options(['data_dir', 'path', 'map_size'], ','),
  ),
);

/** mongoPassword reads the password back out of the driver url, where parseConfig re-encodes it. */
function mongoPassword(options: mongodb.MongoOptions): string | undefined {
  const match = /^[^:]+:\/\/[^:@/]*:([^@]*)@/.exec(options.url);
  return match ? decodeURIComponent(match[1]!) : undefined;
}

const subjects: Subject[] = [
  { name: 'memory', parse: memory.parseConfig, forms: plain(fc.oneof(fc.constantFrom('', ' ', '\t\n'), value)) },
  { name: 'file', parse: file.parseConfig, forms: plain(pathLike) },
  { name: 'lmdb', parse: lmdb.parseConfig, forms: lmdbForms },
  {
    name: 'redis',
    parse: redis.parseConfig,
    forms: redisForms,
    read: (o: redis.RedisOptions) => o.password,
    written: [
      (pw) => `redis://:${enc(pw)}@127.0.0.1:6379/0`,
      (pw) => `redis+sentinel://app:${enc(pw)}@h1,h2:26380/mymaster/1?prefix=s:`,
      (pw) => JSON.stringify({ save_path: '127.0.0.1:6379', password: pw }),
      (pw) => `addr=127.0.0.1:6379,password=${quoted(pw)},db=0`,
    ],
  },
  {
    name: 'memcache',
    parse: memcache.parseConfig,
    forms: memcacheForms,
    read: (o: memcache.MemcacheOptions) => o.password,
    written: [(pw) => `memcache://app:${enc(pw)}@h1:11211,h2?prefix=app:`],
  },
  {
    name: 'postgres',
    parse: postgres.parseConfig,
    forms: postgresForms,
    read: (o: postgres.PostgresOptions) => o.password,
    written: [(pw) => `host=db user=app password=${quoted(pw)} dbname=app`, (pw) => `postgres://app:${enc(pw)}@db:5432/app?sslmode=disable`],
  },
  {
    name: 'mysql',
    parse: mysql.parseConfig,
    forms: mysqlForms,
    read: (o: mysql.MysqlOptions) => o.password,
    // go-sql-driver ends the credentials at the last @ before the protocol: no escaping needed.
    written: [(pw) => `app:${pw}@tcp(db:3306)/app?parseTime=true`, (pw) => `mysql://app:${enc(pw)}@db/app?timeout=2s`],
  },
  {
    name: 'mongodb',
    parse: mongodb.parseConfig,
    forms: mongodbForms,
    read: mongoPassword,
    written: [(pw) => `mongodb://admin:${enc(pw)}@db1:27017,db2/app?collection=s&authSource=admin`],
  },
  {
    name: 'couchbase',
    parse: couchbase.parseConfig,
    forms: couchbaseForms,
    read: (o: couchbase.CouchbaseOptions) => o.password,
    written: [
      (pw) => `http://app:${enc(pw)}@cb1:8091/,default,sessions`,
      (pw) => JSON.stringify({ save_path: 'couchbase://cb1', bucket: 'b', username: 'app', password: pw }),
      (pw) => `couchbase://app:${enc(pw)}@cb1,cb2?bucket=b`,
      (pw) => `couchbases://cb1?bucket=b&username=app&password=${enc(pw)}`,
    ],
  },
];

/** checkCase runs one config through `subject` and asserts it parses or fails cleanly, showing no password. */
function checkCase(subject: Subject, { config, secret, escaped }: Case): void {
  const shown = JSON.stringify(config);
  try {
    subject.parse(config);
  } catch (err) {
    assert.ok(isSessionError(err, 'ERR_SESSION_PROVIDER_CONFIG'), `${shown} threw ${String(err)}`);
    assert.ok(err.message.startsWith(`session/${subject.name}: `), `${shown} → ${err.message}`);
    if (secret === undefined) return;
    // What console.error or a JSON logger would print: the message, the stack, the cause chain and its properties.
    const logged = `${inspect(err, { depth: Infinity })}\n${JSON.stringify(err)}`;
    assert.ok(!logged.includes(secret) && !logged.includes(enc(secret)), `${shown} → ${logged}`);
    assert.equal(spills(logged, escaped ? MARKERS : [MARK]), undefined, `${shown} → ${logged}`);
  }
}

describe('parseConfig properties (checklist row 51)', function () {
  for (const subject of subjects) {
    it(`${subject.name} parseConfig parses or throws ERR_SESSION_PROVIDER_CONFIG on any input, and never shows a password`, function () {
      fc.assert(
        fc.property(fc.oneof(plain(anyText), subject.forms), (input) => checkCase(subject, input)),
        { numRuns: RUNS },
      );
    });
  }

  for (const { name, parse, read, written } of subjects) {
    if (!read || !written) continue;
    it(`${name} parseConfig reads back any password written in a dialect's escaping, byte for byte`, function () {
      fc.assert(
        fc.property(padding, passwordArb, fc.string({ unit: 'grapheme', maxLength: 12 }), padding, fc.constantFrom(...written), (before, start, tail, after, render) => {
          const password = before + start + tail + after;
          assert.equal(read(parse(render(password)) as never), password, render(password));
        }),
        { numRuns: RUNS },
      );
    });
  }
});
