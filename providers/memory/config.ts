import { SessionError } from '../../src/errors.ts';

/** MemoryOptions: the memory provider takes no options; its config string must be empty. */
export type MemoryOptions = Record<string, never>;

/** parseConfig accepts only an empty config string: the memory store has nothing to configure. */
export function parseConfig(config: string): MemoryOptions {
  if (config.trim() !== '') {
    throw new SessionError('ERR_SESSION_PROVIDER_CONFIG', 'session/memory: takes no provider config; leave PROVIDER_CONFIG empty');
  }
  return {};
}
