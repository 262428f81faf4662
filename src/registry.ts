import { SessionError } from './errors.ts';
import type { Provider } from './provider.ts';

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

/**
 * lookupProvider returns the provider registered under `name`. An unknown name fails with the
 * import that would register it, since a forgotten side-effect import is the usual cause.
 */
export function lookupProvider(name: string): Provider {
  const provider = registered.get(name);
  if (provider) return provider;
  const known = providers().join(', ') || 'none';
  throw new SessionError(
    'ERR_SESSION_UNKNOWN_PROVIDER',
    `session: unknown provider ${JSON.stringify(name)} (forgotten import "sessionkit/providers/${name}"?); registered: ${known}`,
  );
}
