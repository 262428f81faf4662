import { run } from './commands.ts';

// The `sessionkit` command: bin/sessionkit.js runs this file (from source or from dist).
const code = await run(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
// Exit now: a store client may keep sockets or timers alive after close.
process.exit(code);
