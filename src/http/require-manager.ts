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
  const has = (name: string) => typeof (value as Record<string, unknown> | null | undefined)?.[name] === 'function';
  const got = has('then')
    ? 'a Promise; createManager is async: await it first'
    : has('load')
      ? 'a manager of another copy of sessionkit; import createManager and the adapter from one installed copy'
      : value === null
        ? 'null'
        : typeof value;
  throw new SessionError('ERR_SESSION_CONFIG', `session/${adapter}: ${call} needs a manager from createManager, got ${got}`);
}
