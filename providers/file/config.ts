import { resolve } from 'node:path';
import { SessionError } from '../../src/errors.ts';

/** FileOptions: `root` is the absolute directory holding the sessions. */
export interface FileOptions {
  root: string;
}

/** DEFAULT_ROOT is macaron's default PROVIDER_CONFIG for the file provider. */
export const DEFAULT_ROOT = 'data/sessions';

/**
 * parseConfig reads the file provider's config: a directory, absolute or relative to the working
 * directory; empty means {@link DEFAULT_ROOT}. A path with a NUL byte is refused.
 */
export function parseConfig(config: string): FileOptions {
  const dir = config.trim() === '' ? DEFAULT_ROOT : config.trim();
  if (dir.includes('\0')) throw new SessionError('ERR_SESSION_PROVIDER_CONFIG', 'session/file: the directory path contains a NUL byte');
  return { root: resolve(dir) };
}
