import { SessionError } from '../../src/errors.ts';

/**
 * loadOptional imports a provider's client library (`ioredis`, `pg`, …) lazily, inside `open()`,
 * so an application pays only for the providers it uses. A missing package fails with
 * `session/<provider>: cannot load "<pkg>"; install it`.
 */
export async function loadOptional<T>(provider: string, pkg: string): Promise<T> {
  try {
    return (await import(pkg)) as T;
  } catch (cause) {
    throw new SessionError('ERR_SESSION_MISSING_DEPENDENCY', `session/${provider}: cannot load "${pkg}"; install it (npm install ${pkg})`, { cause });
  }
}
