// A quick look at the server CPU per request of a few variants, without the whole bench:
//   ORDER=ro,rw,ro,rw node --import tsx bench/cpu-probe.ts <seconds> <variant>...
// Each scenario runs in ORDER after one second of warm-up; the first runs of a fresh server are
// slower while V8 compiles, so repeat the order and read the later lines.
import { cpuMicros, createSessions, load, startServer, stopServer } from './http.ts';

const [secondsArg, ...variants] = process.argv.slice(2);
const duration = Number(secondsArg ?? 3);
for (const v of variants) {
  const server = await startServer(v, 6379);
  try {
    for (const scenario of (process.env.ORDER ?? 'ro,rw').split(',')) {
      const cookies = await createSessions(server.port, 50);
      await load(server.port, `/${scenario}`, cookies, 50, { duration: 1 });
      const before = await cpuMicros(server);
      const result = await load(server.port, `/${scenario}`, cookies, 50, { duration });
      const cpu = ((await cpuMicros(server)) - before) / (result.ok + result.non2xx);
      console.log(`${v} ${scenario}: ${cpu.toFixed(1)} µs/request, ${Math.round(result.rps)} req/s`);
    }
  } finally {
    await stopServer(server);
  }
}
