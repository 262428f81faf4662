import { SessionError } from './errors.ts';

/** Callback is a node-style completion callback: an error, or nothing on success. */
export type Callback = (error?: Error | null) => void;

/**
 * settle lets one async method serve both styles the ecosystem uses: without `callback` it
 * returns `work`; with one it calls it exactly once, error first, and returns undefined. A
 * callback that throws is the application's error and surfaces as an uncaught exception, as it
 * would from any node callback API, rather than as a rejection nobody handles.
 */
export function settle(work: Promise<void>, callback: Callback | undefined): Promise<void> | undefined {
  if (callback === undefined) return work;
  if (typeof callback !== 'function') throw new SessionError('ERR_SESSION_INVALID_VALUE', 'session: the callback must be a function');
  work.then(
    () => invoke(callback, null),
    (error: Error) => invoke(callback, error),
  );
  return undefined;
}

function invoke(callback: Callback, error: Error | null): void {
  try {
    callback(error);
  } catch (thrown) {
    process.nextTick(() => {
      throw thrown;
    });
  }
}
