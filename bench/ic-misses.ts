// Property lookups that miss V8's inline caches, per request, by site: where a server pays for
// objects whose hidden class it has not seen before (Express gives every request and response
// hidden classes of their own, so each property read on them that the stub cache has not seen for
// that class goes to the runtime, about 1.5–2 k instructions; bench/README.md).
//   node --import tsx bench/ic-misses.ts <variant> [<other variant>] [ro|rw]
// Runs each variant under `node --log-ic` (4,000 requests of warm-up, then 2,000), counts the
// misses logged over the last 2,000 by function and property name, and divides by the requests
// among them. With two variants, prints the sites whose count per request differs. Uses the build.
// KEEP_LOG=1 keeps the V8 log and prints where it is.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createSessions, load, variantsAndScenario } from './http.ts';

const { variants, scenario } = variantsAndScenario(process.argv.slice(2), ['express-bare', 'express-sk-memory']);
const app = fileURLToPath(new URL('./servers/app.ts', import.meta.url));

/** Each request closes its response once: this site counts the requests among the logged misses. */
const PER_REQUEST = /^emitCloseNT .* StoreIC destroyed$/;

/** misses runs `variant` under --log-ic and returns the misses per request by site. */
async function misses(variant: string): Promise<Map<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-ic-'));
  const log = join(dir, 'v8.log');
  const child = spawn(process.execPath, ['--log-ic', `--logfile=${log}`, '--no-logfile-per-isolate', '--import', 'tsx', app, variant], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) resolve((JSON.parse(line) as { port: number }).port);
    });
  });
  const cookies = await createSessions(port, 10);
  await load(port, `/${scenario}`, cookies, 10, { amount: 4000 });
  child.send('mark');
  await load(port, `/${scenario}`, cookies, 10, { amount: 2000 });
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  const text = readFileSync(log, 'utf8');
  if (process.env.KEEP_LOG === undefined) rmSync(dir, { recursive: true });
  else console.error(`log kept: ${log}`);
  return countSites(text);
}

/**
 * countSites reads a V8 log: code objects by address (to name the function of each miss), the
 * `mark` the server logs after the warm-up, and the IC events after it.
 */
function countSites(text: string): Map<string, number> {
  const code: { start: number; end: number; name: string }[] = [];
  const counts = new Map<string, number>();
  let marked = false;
  for (const line of text.split('\n')) {
    const fields = line.split(',');
    if (fields[0] === 'code-creation') {
      const start = Number.parseInt(fields[4]!, 16);
      code.push({ start, end: start + Number(fields[5]), name: fields.slice(6).join(',') });
    } else if (line.includes('sessionkit-ic-mark')) {
      marked = true;
    } else if (marked && /^(Keyed)?(Load|Store)(Global)?IC$/.test(fields[0]!)) {
      const pc = Number.parseInt(fields[1]!, 16);
      // The latest code object made at that address is the one that ran.
      let owner: (typeof code)[number] | undefined;
      for (let i = code.length - 1; i >= 0 && owner === undefined; i--) if (code[i]!.start <= pc && pc < code[i]!.end) owner = code[i];
      const site = `${owner?.name.split(',')[0]?.trim() || '?'} ${fields[0]} ${fields[8]!.replace(/ hash [0-9a-f]+/, '')}`;
      counts.set(site, (counts.get(site) ?? 0) + 1);
    }
  }
  const requests = [...counts].find(([site]) => PER_REQUEST.test(site))?.[1] ?? 1;
  return new Map([...counts].map(([site, n]) => [site, n / requests]));
}

const results: Map<string, number>[] = [];
for (const variant of variants) results.push(await misses(variant));
const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
variants.forEach((variant, i) => console.log(`${variant} ${scenario}: ${total(results[i]!).toFixed(1)} inline-cache misses a request`));
const [first, second] = results;
const rows = second === undefined
  ? [...first!].map(([site, n]) => [site, n] as const)
  : [...new Set([...first!.keys(), ...second.keys()])].map((site) => [site, (second.get(site) ?? 0) - (first!.get(site) ?? 0)] as const);
for (const [site, n] of rows.filter(([, n]) => Math.abs(n) >= 0.3).sort((a, b) => b[1] - a[1])) console.log(`${n >= 0 && second ? '+' : ''}${n.toFixed(2)}  ${site}`);
