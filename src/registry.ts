import { SessionError } from './errors.ts';
import type { Provider } from './provider.ts';
import { closest } from './suggest.ts';

const registered = new Map<string, Provider>();

/**
 * register makes `provider` available under `name`, as Go's `sql.Register` does. Provider modules
 * call it as their last statement, so importing `sessionkit/providers/<name>` enables the name.
 * It throws on an empty or malformed name, a missing provider, or a name already taken.
 */
export function register(name: string, provider: Provider): void {
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9_-]*$/.test(name)) {
    throw new SessionError('ERR_SESSION_INVALID_PROVIDER', `session: register: invalid provider name ${JSON.stringify(name)}`);
  }
  if (provider === null || typeof provider !== 'object' || typeof provider.open !== 'function') {
    throw new SessionError('ERR_SESSION_INVALID_PROVIDER', `session: register: provider "${name}" has no open() method`);
  }
  if (registered.has(name)) {
    throw new SessionError('ERR_SESSION_DUPLICATE_PROVIDER', `session: register called twice for provider "${name}"`);
  }
  registered.set(name, provider);
}

/** providers returns the registered provider names, sorted. */
export function providers(): string[] {
  return [...registered.keys()].sort();
}

/** BUILT_IN_PROVIDERS are the names shipped as `sessionkit/providers/<name>`; importing the module registers the name. */
export const BUILT_IN_PROVIDERS: readonly string[] = ['memory', 'file', 'redis', 'memcache', 'postgres', 'mysql', 'mongodb', 'couchbase', 'lmdb'];

/** EMBEDDED_GO_STORES are the Go libraries' stores kept in one local file or directory, as lmdb is here. */
const EMBEDDED_GO_STORES: readonly string[] = ['ledis', 'nodb', 'bolt', 'boltdb', 'badger'];
/** REDIS_VARIANTS are beego's provider names for what the redis provider reads from its config string. */
const REDIS_VARIANTS: readonly string[] = ['redis_cluster', 'redis_sentinel'];

/**
 * lookupProvider returns the provider registered under `name`. An unknown name fails with what
 * most likely fixes it: the import that registers a built-in name (a forgotten side-effect import
 * is the usual cause), the close name it may be a typo of, the built-in that replaces a Go
 * library's provider, or how a third-party provider gets registered.
 */
export function lookupProvider(name: string): Provider {
  const provider = registered.get(name);
  if (provider) return provider;
  const known = providers();
  throw new SessionError('ERR_SESSION_UNKNOWN_PROVIDER', `session: unknown provider ${JSON.stringify(name)} (${unknownProviderHint(name, known)}); registered: ${known.join(', ') || 'none'}`);
}

function importHint(name: string): string {
  return `import "sessionkit/providers/${name}" registers it`;
}

/**
 * unknownProviderHint tells what most likely fixes an unknown provider `name`, given the names
 * registered now; it names a module only when that module exists (a built-in name).
 */
export function unknownProviderHint(name: string, registeredNames: readonly string[]): string {
  if (BUILT_IN_PROVIDERS.includes(name)) return `forgotten import "sessionkit/providers/${name}"?`;
  if (EMBEDDED_GO_STORES.includes(name)) {
    return `${name} is an embedded store of the Go session libraries; the embedded persistent store here is "lmdb" (a file path as its config): ${importHint('lmdb')}`;
  }
  if (REDIS_VARIANTS.includes(name)) {
    return `beego's ${name} is provider "redis" here, with a ;-separated node list as its config: ${importHint('redis')}`;
  }
  const near = closest(name, new Set([...registeredNames, ...BUILT_IN_PROVIDERS]));
  if (near !== undefined) return `did you mean ${JSON.stringify(near)}?${registeredNames.includes(near) ? '' : ` ${importHint(near)}`}`;
  return 'not a built-in provider; a third-party provider registers itself when its module is imported: import it before createManager, or pass --import <module> to the sessionkit command';
}
