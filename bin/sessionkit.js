#!/usr/bin/env node
// Launcher of the `sessionkit` command. It always runs the compiled dist/src/cli/main.js, never the
// TypeScript source beside it, so an app that happens to have tsx installed runs the same code as
// any other. A clone builds dist/ when `npm install` runs the prepare script, or with `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/src/cli/main.js', import.meta.url);

if (!existsSync(fileURLToPath(built))) {
  process.stderr.write('sessionkit: dist/ is missing; in a clone of sessionkit, run "npm run build"\n');
  process.exit(2);
}
await import(built.href);
