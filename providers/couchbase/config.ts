import { configError, givenTwiceError, parseHostListUrl, shownValue, takeQueryOptions, unknownOptionError } from '../shared/dsn.ts';

/** CouchbaseOptions are the parsed provider config of the couchbase provider. */
export interface CouchbaseOptions {
  /** connectionString is what the SDK connects to, e.g. `couchbase://h1,h2?network=external`; it never holds credentials. */
  connectionString: string;
  /** username for RBAC authentication; `undefined` when the config names none. */
  username: string | undefined;
  /** password for RBAC authentication; `undefined` when the config names none. Never printed. */
  password: string | undefined;
  /** bucket holds the sessions; required. */
  bucket: string;
  /** scope inside the bucket; default `_default`. */
  scope: string;
  /** collection inside the scope; default `_default`. */
  collection: string;
  /** prefix goes before each session id to form the document key; default `''` (the raw id, as macaron and beego do). */
  prefix: string;
}

const OWN_URL_OPTIONS = ['bucket', 'scope', 'collection', 'username', 'password', 'prefix'];
const JSON_KEYS = ['save_path', 'pool', 'bucket', 'scope', 'collection', 'username', 'password', 'prefix'];
const BUCKET_NAME = /^[A-Za-z0-9._%-]{1,100}$/;
const SCOPE_NAME = /^[A-Za-z0-9_%-]{1,251}$/;
const PREFIX = /^[\x21-\x7e]{0,100}$/;

interface Draft {
  savePath: string;
  pool?: string;
  bucket?: string;
  scope?: string;
  collection?: string;
  username?: string;
  password?: string;
  prefix?: string;
}

/**
 * parseConfig reads the three forms a couchbase provider config takes:
 * macaron/beego `http://host:8091/,default,sessions` (split on commas, spaces trimmed, as beego's
 * docs write it with a space after each comma), beego JSON
 * `{"save_path":"http://host:8091/","pool":"default","bucket":"sessions"}`, and
 * `couchbase://user:pass@h1,h2?bucket=sessions&scope=app&collection=sessions&prefix=sess:` (also
 * `couchbases://`; `username=`/`password=` may replace the userinfo; other query options pass to the
 * SDK). The legacy `http://host:8091/` address becomes `couchbase://host`; the pool must be
 * `default`, the only pool Couchbase Server has. `bucket` is required; `scope` and `collection`
 * default to `_default`, `prefix` to `''`. It is pure; errors name the key and never the password.
 */
export function parseConfig(config: string): CouchbaseOptions {
  const text = config.trim();
  if (text === '') throw configError('couchbase', 'provider config must name a bucket, e.g. couchbase://127.0.0.1?bucket=sessions');
  let draft: Draft;
  if (text.startsWith('{')) {
    draft = fromJson(text);
  } else if (/^https?:\/\//i.test(text)) {
    const [savePath, pool, bucket, ...rest] = text.split(',').map((part) => part.trim());
    if (rest.length > 0 || bucket === undefined) {
      throw configError('couchbase', `expected save_path,pool,bucket (e.g. http://127.0.0.1:8091/,default,sessions), got ${text.split(',').length} fields`);
    }
    draft = { savePath: savePath!, pool: pool!, bucket };
  } else {
    draft = { savePath: text };
  }
  return finish(draft);
}

function fromJson(text: string): Draft {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's message quotes the input, password included, so it is not kept as the cause.
    throw configError('couchbase', 'provider config starts with { but is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw configError('couchbase', 'JSON provider config must be an object');
  const entries = Object.entries(value as Record<string, unknown>);
  for (const [key, item] of entries) {
    if (!JSON_KEYS.includes(key)) throw unknownOptionError('couchbase', key, JSON_KEYS);
    if (typeof item !== 'string') throw configError('couchbase', `${key} must be a string`);
  }
  const get = (key: string) => (value as Record<string, string | undefined>)[key];
  const savePath = get('save_path');
  if (savePath === undefined) throw configError('couchbase', 'save_path is missing');
  return {
    savePath,
    pool: get('pool'),
    bucket: get('bucket'),
    scope: get('scope'),
    collection: get('collection'),
    username: get('username'),
    password: get('password'),
    prefix: get('prefix'),
  };
}

type OwnKey = 'bucket' | 'scope' | 'collection' | 'username' | 'password' | 'prefix';

function setOnce(draft: Draft, key: OwnKey, value: string): void {
  if (draft[key] !== undefined) throw givenTwiceError('couchbase', key);
  draft[key] = value;
}

function finish(draft: Draft): CouchbaseOptions {
  const url = parseHostListUrl('couchbase', draft.savePath, ['http', 'https', 'couchbase', 'couchbases']);
  if (url.username !== '') setOnce(draft, 'username', url.username);
  if (url.password !== undefined) setOnce(draft, 'password', url.password);
  let connectionString: string;
  if (url.scheme === 'http' || url.scheme === 'https') {
    if (!['', '/', '/pools', '/pools/'].includes(url.path) || url.query !== '') {
      throw configError('couchbase', 'save_path must be a bare http://host:8091/ address');
    }
    const mgmtPort = url.scheme === 'https' ? '18091' : '8091';
    const hosts = url.hosts.split(',').map((host) => {
      const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.trim());
      if (!match) throw configError('couchbase', `save_path host ${JSON.stringify(host)} is not host:port`);
      if (match[2] !== undefined && match[2] !== mgmtPort) {
        throw configError('couchbase', `save_path port ${match[2]} is not the management port ${mgmtPort}; use a couchbase:// url for other ports`);
      }
      return match[1]!;
    });
    connectionString = `${url.scheme === 'https' ? 'couchbases' : 'couchbase'}://${hosts.join(',')}`;
  } else {
    if (url.path !== '' && url.path !== '/') {
      throw configError('couchbase', 'the couchbase:// url takes the bucket as ?bucket=, not as a path (percent-encode any @, / or ? in the password)');
    }
    const { own, passed } = takeQueryOptions('couchbase', url.query, OWN_URL_OPTIONS);
    for (const [key, value] of own) setOnce(draft, key as OwnKey, value);
    connectionString = `${url.scheme}://${url.hosts}${passed.length > 0 ? `?${passed.join('&')}` : ''}`;
  }
  if (draft.pool !== undefined && draft.pool !== 'default') {
    throw configError('couchbase', `pool must be "default", the only pool couchbase server has, got ${shownValue(draft.pool)}`);
  }
  if (draft.bucket === undefined || draft.bucket === '') throw configError('couchbase', 'bucket is missing');
  if (!BUCKET_NAME.test(draft.bucket)) throw configError('couchbase', `bucket ${JSON.stringify(draft.bucket)} is not a valid bucket name`);
  const scope = draft.scope ?? '_default';
  const collection = draft.collection ?? '_default';
  if (!SCOPE_NAME.test(scope)) throw configError('couchbase', `scope ${JSON.stringify(scope)} is not a valid scope name`);
  if (!SCOPE_NAME.test(collection)) throw configError('couchbase', `collection ${JSON.stringify(collection)} is not a valid collection name`);
  const prefix = draft.prefix ?? '';
  if (!PREFIX.test(prefix)) throw configError('couchbase', 'prefix must be at most 100 printable ascii characters without spaces');
  return {
    connectionString,
    username: draft.username,
    password: draft.password,
    bucket: draft.bucket,
    scope,
    collection,
    prefix,
  };
}
