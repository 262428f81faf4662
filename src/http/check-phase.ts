/**
 * Responses that have nothing to wait for end in the check phase of the loop's turn (hold-end.ts,
 * endFor; Fastify's onSend; Koa's middleware), all from one setImmediate a turn rather than one a
 * response: an Immediate is an object and a list of its arguments, and node's loop runs the
 * microtasks between two of them. The build before against this one (bench/ab.ts, rounds of 5 s a
 * side, median of the rounds' ratios; the two `rw` series with either build started first),
 * requests/s: Express memory `rw` 1.09 and 1.07, `ro` 1.08; Express Redis `ro` 1.04; Fastify `rw`
 * 1.02; node:http `ro` 1.025. A response ending after a save it waited for (Express Redis `rw`)
 * still ends in the save's callback: queued here too it came out 0.96 and 0.97 in two series.
 */

type Task = (a: unknown, b: unknown) => void;

/** queue holds the tasks of this turn's check phase, flat: task, a, b, task, a, b, … */
let queue: unknown[] = [];

/**
 * inCheckPhase calls `task(a, b)` in this turn's check phase, after the tasks asked for before it.
 * A task that throws does not keep the others from running. Its error is thrown after them, an
 * uncaught exception as it was when each task had an Immediate of its own; when several threw, the
 * others follow, each from a `process.nextTick` of its own.
 */
export function inCheckPhase<A, B>(task: (a: A, b: B) => void, a: A, b: B): void {
  if (queue.length === 0) setImmediate(runQueue);
  queue.push(task, a, b);
}

/** runQueue runs the tasks queued so far; those they queue in turn wait for the next check phase. */
function runQueue(): void {
  const tasks = queue;
  queue = [];
  let failures: unknown[] | undefined;
  for (let i = 0; i < tasks.length; i += 3) {
    try {
      (tasks[i] as Task)(tasks[i + 1], tasks[i + 2]);
    } catch (error) {
      (failures ??= []).push(error);
    }
  }
  if (failures === undefined) return;
  for (const error of failures.slice(1)) process.nextTick(rethrow, error);
  throw failures[0];
}

/** rethrow throws `error`, from the nextTick {@link runQueue} gives each failure after the first. */
function rethrow(error: unknown): never {
  throw error;
}
