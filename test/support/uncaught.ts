/** uncaught collects the uncaught exceptions of `run`, with mocha's own handler set aside meanwhile. */
export async function uncaught(run: () => Promise<void>): Promise<unknown[]> {
  const mochas = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  const errors: unknown[] = [];
  const collect = (error: unknown) => errors.push(error);
  process.on('uncaughtException', collect);
  try {
    await run();
  } finally {
    process.off('uncaughtException', collect);
    for (const listener of mochas) process.on('uncaughtException', listener);
  }
  return errors;
}
