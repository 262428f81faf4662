// What a server allocates per request, by site: V8's sampling heap profiler (a sample every 128
// bytes, freed objects kept), so the bytes a function and its caller allocate, however short-lived.
// Allocation sets how often the young generation is collected (bench/README.md).
//   node --import tsx bench/alloc-sites.ts <variant> [<baseline variant>] [ro|rw]
// Each variant runs with bench/alloc-sampler.mjs preloaded: 4 s of load, then 3 s sampled (the
// profiler slows the server; the figures are bytes, which it does not change). Prints the top
// sites as "function file:line < caller", in bytes a request; with a baseline, the functions whose
// allocation differs most (by function alone, so that bytes do not move between callers with
// inlining; a function inlined whole may still show under its caller, as node's writeHead under
// write_ in bare Express). Uses the build (npm run build first).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSessions, load, startServer, stopServer, variantsAndScenario } from './http.ts';

const { variants, scenario } = variantsAndScenario(process.argv.slice(2), ['express-sk-memory', 'express-bare']);
const SAMPLER = fileURLToPath(new URL('./alloc-sampler.mjs', import.meta.url));

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/** sites runs `variant` under the sampler and returns bytes a request by site: a function, with its caller when `withCaller`. */
async function sites(variant: string, withCaller: boolean): Promise<Map<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-alloc-'));
  const file = join(dir, 'profile.json');
  const server = await startServer(variant, 6379, {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${SAMPLER}`.trim(),
    SESSIONKIT_ALLOC_PROFILE: file,
  });
  try {
    const cookies = await createSessions(server.port, 50);
    await load(server.port, `/${scenario}`, cookies, 50, { duration: 4 });
    server.child.kill('SIGUSR2');
    const result = await load(server.port, `/${scenario}`, cookies, 50, { duration: 3 });
    await stopServer(server);
    const requests = result.ok + result.non2xx;
    const bySite = new Map<string, number>();
    const name = (node: ProfileNode) => `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.split('/').at(-1)}:${node.callFrame.lineNumber + 1}`;
    const walk = (node: ProfileNode, caller: string | undefined) => {
      const site = withCaller && caller !== undefined ? `${name(node)} < ${caller}` : name(node);
      if (node.selfSize > 0) bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize / requests);
      for (const child of node.children) walk(child, name(node));
    };
    walk((JSON.parse(readFileSync(file, 'utf8')) as { head: ProfileNode }).head, undefined);
    return bySite;
  } finally {
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  }
}

const measured: Map<string, number>[] = [];
for (const variant of variants) measured.push(await sites(variant, variants.length === 1));
const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
for (const [i, variant] of variants.entries()) console.log(`${variant} ${scenario}: about ${Math.round(total(measured[i]!))} bytes allocated a request`);
const [first, baseline] = measured as [Map<string, number>, Map<string, number> | undefined];
const all = [...new Set([...first.keys(), ...(baseline?.keys() ?? [])])];
const delta = (site: string) => (first.get(site) ?? 0) - (baseline?.get(site) ?? 0);
all.sort((a, b) => Math.abs(delta(b)) - Math.abs(delta(a)));
console.log(baseline ? `\nsites that differ most (${variants[0]} − ${variants[1]}, bytes a request):` : '\ntop sites (bytes a request):');
for (const site of all.slice(0, 30)) console.log(`${delta(site) >= 0 && baseline ? '+' : ''}${Math.round(delta(site)).toString().padStart(6)}  ${site}`);
