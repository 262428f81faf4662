import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * ScriptChild is a second Node process running an ES module script against the sources, as a
 * second app process sharing a store would: it prints `ready` once set up, reads its orders from
 * stdin, and prints one JSON line with its result before it exits.
 */
export interface ScriptChild {
  child: ChildProcess;
  /** result waits for the child to exit with code 0 and parses the JSON line it printed. */
  result<T>(): Promise<T>;
  /** kill ends the child (resumed first, in case it is stopped) if it is still running. */
  kill(): Promise<void>;
}

/** startScript runs `script` in a child process and resolves once it has printed `ready`. */
export async function startScript(script: string): Promise<ScriptChild> {
  const child = spawn(process.execPath, ['--conditions=sessionkit-source', '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: resolve(import.meta.dirname, '../..'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const running = () => child.exitCode === null && child.signalCode === null;
  while (!output.includes('ready\n')) {
    assert.ok(running(), `the child exited before it was ready: ${output}`);
    await sleep(10);
  }
  return {
    child,
    async result<T>() {
      const [code] = await exited;
      assert.equal(code, 0, output);
      return JSON.parse(output.split('\n').find((line) => line.startsWith('{'))!) as T;
    },
    async kill() {
      if (!running()) return;
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    },
  };
}
