import { configError, decodeComponent, parseHostListUrl, takeQueryOptions } from '../shared/dsn.ts';

/** DEFAULT_DATABASE is the database used when the URL has no path: `sessionkit`. */
export const DEFAULT_DATABASE = 'sessionkit';
/** DEFAULT_COLLECTION is the collection used without `?collection=`: `sessions`. */
export const DEFAULT_COLLECTION = 'sessions';

/** MongoOptions are the parsed provider config of the mongodb provider. */
export interface MongoOptions {
  /** url is the connection string handed to the driver, sessionkit's own options removed; it may hold a password. */
  url: string;
  /** database holds the session collection; the URL path, default {@link DEFAULT_DATABASE}. */
  database: string;
  /** collection holds one document per session; `?collection=`, default {@link DEFAULT_COLLECTION}. */
  collection: string;
  /** address names the server(s) in messages: the URL's host list, never its credentials. */
  address: string;
}

const OWN_OPTIONS = ['collection'];

/**
 * parseConfig reads a `mongodb://` or `mongodb+srv://` connection string, e.g.
 * `mongodb://user:pass@127.0.0.1:27017/app?collection=sessions&authSource=admin`. The path names the
 * database (default `sessionkit`); `collection` (default `sessions`) is sessionkit's own option and is
 * removed before the URL reaches the driver; every other query option passes through unchanged.
 * It is pure; errors name the bad part and never contain the password.
 */
export function parseConfig(config: string): MongoOptions {
  if (config.trim() === '') throw configError('mongodb', 'provider config must be a mongodb:// url, e.g. mongodb://127.0.0.1:27017/sessionkit');
  const parts = parseHostListUrl('mongodb', config, ['mongodb', 'mongodb+srv']);
  if (parts.path.includes('@')) {
    // An unencoded `/` in a password moves the rest of it into the path: say so without echoing it.
    throw configError('mongodb', 'the url path holds an @; percent-encode any @, / or ? in the password');
  }
  const database = parts.path === '' || parts.path === '/' ? DEFAULT_DATABASE : decodeComponent('mongodb', 'database', parts.path.slice(1));
  if (database.length > 63 || /[/\\. "$*<>:|?\0]/.test(database)) {
    throw configError('mongodb', `database name ${JSON.stringify(database)} is not allowed by mongodb (no / \\ . space " $ and at most 63 bytes)`);
  }
  const { own, passed } = takeQueryOptions('mongodb', parts.query, OWN_OPTIONS);
  const collection = own.get('collection') ?? DEFAULT_COLLECTION;
  if (collection === '' || collection.includes('$') || collection.includes('\0') || collection.startsWith('system.')) {
    throw configError('mongodb', `collection name ${JSON.stringify(collection)} is not allowed by mongodb (non-empty, no $, not system.*)`);
  }
  const userinfo =
    parts.username === '' && parts.password === undefined
      ? ''
      : `${encodeURIComponent(parts.username)}${parts.password === undefined ? '' : `:${encodeURIComponent(parts.password)}`}@`;
  const head = `${parts.scheme}://${userinfo}${parts.hosts}${parts.path}`;
  return {
    url: passed.length > 0 ? `${head}?${passed.join('&')}` : head,
    database,
    collection,
    address: `${parts.scheme}://${parts.hosts}`,
  };
}
