import { SessionError } from '../errors.ts';
import { LOAD_NOW, type Manager } from '../manager.ts';

/**
 * requireManager checks, when an adapter is set up, that it was given a Manager, so a mistake
 * fails at startup with a SessionError naming the call, not as a TypeError on every request.
 * The usual one is `createManager` without `await`: its Promise gets a hint of its own, as does
 * a Manager of a second installed copy of sessionkit, whose adapter-facing symbols differ.
 */
export function requireManager(value: unknown, adapter: string, call: string): asserts value is Manager {
  if (typeof value === 'object' && value !== null && typeof (value as Manager)[LOAD_NOW] === 'function') return;
  throw new SessionError('ERR_SESSION_CONFIG', `session/${adapter}: ${call} needs a manager from createManager, got ${describe(value)}`);
}

/** describe names what an adapter was given instead of a Manager, with a hint for the two usual mistakes. */
function describe(value: unknown): string {
  const has = (name: string) => typeof (value as Record<string, unknown> | null | undefined)?.[name] === 'function';
  if (has('then')) return 'a Promise; createManager is async: await it first';
  if (has('load')) return 'a manager of another copy of sessionkit; import createManager and the adapter from one installed copy';
  return value === null ? 'null' : typeof value;
}
