import { ATTRIBUTE, TOKEN } from '../cookie.ts';
import { SessionError } from '../errors.ts';
import { checkStore, type ExpressSessionStore } from './store-calls.ts';

/**
 * LegacyOptions describe the express-session deployment an app switches from, so its logged-in
 * users stay logged in (the `legacy` option of `createManager` and of the express-session drop-in).
 */
export interface LegacyOptions {
  /** store is the express-session store the old app used, e.g. its `new RedisStore({ client })`. */
  store: ExpressSessionStore;
  /**
   * secret is the old app's `secret` (or its list). It only verifies old cookies and never signs,
   * so express-session's short secrets are accepted here.
   */
  secret: string | readonly string[];
  /** name is the old cookie's name ["connect.sid", express-session's default]. */
  name?: string;
  /** path is the old cookie's Path, for the cookie that clears it ["/"]. */
  path?: string;
  /** domain is the old cookie's Domain, for the cookie that clears it [unset]. */
  domain?: string;
}

/** ResolvedLegacy is {@link LegacyOptions} checked, with defaults applied. */
export interface ResolvedLegacy {
  store: ExpressSessionStore;
  secrets: readonly string[];
  name: string;
  path: string;
  domain: string | undefined;
  /** moves holds the old ids this manager moved lately, by old id, so concurrent requests with one old cookie share one new session. */
  moves: Map<string, LegacyMove>;
}

/** LegacyMove is one old session being moved, or moved lately: the new id it got (undefined: nothing to move). */
export interface LegacyMove {
  newId: Promise<string | undefined>;
  /** until is the epoch ms after which a request with the old cookie no longer joins the new session. */
  until: number;
}

/** DEFAULT_LEGACY_NAME is express-session's cookie name. */
export const DEFAULT_LEGACY_NAME = 'connect.sid';

function invalid(message: string): SessionError {
  return new SessionError('ERR_SESSION_CONFIG', `session: ${message}`);
}

/** resolveLegacy checks the `legacy` option; undefined stays undefined. Secrets never appear in messages. */
export function resolveLegacy(options: LegacyOptions | undefined): ResolvedLegacy | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) throw invalid('legacy must be an object: { store, secret, name }');
  const store = checkStore(options.store, 'legacy.store');
  const secrets = typeof options.secret === 'string' ? [options.secret] : Array.isArray(options.secret) ? [...options.secret] : [];
  if (secrets.length === 0 || secrets.some((secret) => typeof secret !== 'string' || secret === '')) {
    throw invalid("legacy.secret must be the old app's secret: a non-empty string or a list of them");
  }
  const name = options.name ?? DEFAULT_LEGACY_NAME;
  if (typeof name !== 'string' || !TOKEN.test(name)) throw invalid(`legacy.name ${JSON.stringify(name)} is not a valid cookie name`);
  const path = options.path ?? '/';
  if (typeof path !== 'string' || !ATTRIBUTE.test(path) || !path.startsWith('/')) throw invalid(`legacy.path ${JSON.stringify(path)} must start with / and hold no ; or spaces`);
  const domain = options.domain === '' ? undefined : options.domain;
  if (domain !== undefined && (typeof domain !== 'string' || !/^[A-Za-z0-9.-]+$/.test(domain))) throw invalid(`legacy.domain ${JSON.stringify(domain)} is not a host name`);
  return { store, secrets, name, path, domain, moves: new Map() };
}
