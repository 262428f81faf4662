import { SessionError } from '../errors.ts';
import { LOAD_NOW, type Manager } from '../manager.ts';

/**
 * requireManager checks, when an adapter is set up, that it was given a Manager, so a mistake
 * fails at startup with a SessionError naming the call, not as a TypeError on every request.
 * The usual one is `createManager` without `await`: its Promise gets a hint of its own.
 */
export function requireManager(value: unknown, adapter: string, call: string): asserts value is Manager {
  if (typeof value === 'object' && value !== null && typeof (value as Manager)[LOAD_NOW] === 'function') return;
  const thenable = typeof (value as PromiseLike<unknown> | null | undefined)?.then === 'function';
  const got = thenable ? 'a Promise; createManager is async: await it first' : value === null ? 'null' : typeof value;
  throw new SessionError('ERR_SESSION_CONFIG', `session/${adapter}: ${call} needs a manager from createManager, got ${got}`);
}
