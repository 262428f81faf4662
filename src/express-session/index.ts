// The package root, which registers the built-in memory and file providers.
import '../index.ts';
import { session } from './middleware.ts';
import { Store } from './store-base.ts';

/**
 * `sessionkit/express-session`: a drop-in for express-session (`import session from
 * 'sessionkit/express-session'`), express-session stores as sessionkit providers
 * (`storeProvider`), and the base class store factories ask for (`session.Store`).
 */

export { session, type SessionMiddleware } from './middleware.ts';
export type { CookieOptions, ProviderStore, SessionOptions } from './options.ts';
export { storeProvider } from './store-provider.ts';
export type { ExpressSessionStore, StoredSession } from './store-calls.ts';
export type { LegacyOptions } from './legacy-options.ts';
export { LEGACY_GRACE_MS } from './legacy.ts';
export { Store, type StoreConstructor } from './store-base.ts';

/** The default export is {@link session} with `session.Store`, as express-session's module is. */
export default Object.assign(session, { Store });
