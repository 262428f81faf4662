#!/usr/bin/env node
// Launcher of the `sessionkit` command. In a clone (src/ and tsx present) it runs the TypeScript
// source through tsx; in an installed package it runs the compiled dist/src/cli/main.js.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const built = new URL('../dist/src/cli/main.js', import.meta.url);

function hasTsx() {
  try {
    createRequire(import.meta.url).resolve('tsx');
    return true;
  } catch {
    return false;
  }
}

if (existsSync(source) && hasTsx()) {
  const child = spawn(process.execPath, ['--conditions=sessionkit-source', '--import', 'tsx', source, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 2);
  });
} else if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  process.stderr.write('sessionkit: neither tsx (to run the source) nor dist/ (run "npm run build") is available\n');
  process.exit(2);
}
