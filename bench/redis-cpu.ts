// What a request costs the Redis server, by variant: its CPU time (from /proc, in clock ticks)
// and the reads, writes and commands of its INFO stats, each divided by the requests answered
// meanwhile. Shows how much of the machine a variant's store takes beside its own server's CPU
// (bench/README.md, "What Redis itself costs"). The variants run one after the other, in rounds.
//   node --import tsx bench/redis-cpu.ts <variant>... [ro|rw] [rounds] [seconds]
// 50 connections against the Redis at 127.0.0.1:6379 (its pid from INFO server, so it must run
// on this machine); 2 s of warm-up a variant, then `rounds` (default 4) of `seconds` (default 4)
// each. Commands count as INFO counts them: the commands a script runs are counted too. Needs
// redis-cli on the PATH and the build (npm run build first).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpuMicros, createSessions, load, startServer, stopServer, variantsAndScenario, type Server } from './http.ts';

const args = process.argv.slice(2);
const numbers = args.filter((arg) => /^\d+$/.test(arg)).map(Number);
const [rounds = 4, seconds = 4] = numbers;
const { variants, scenario } = variantsAndScenario(
  args.filter((arg) => !/^\d+$/.test(arg)),
  ['express-sk-redis', 'express-es-redis'],
);
/** TICK_MICROS is one clock tick of /proc/<pid>/stat in µs (USER_HZ is 100 on Linux). */
const TICK_MICROS = 10_000;

/** info reads the numeric fields of one INFO section of the Redis at 6379. */
function info(section: string): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const line of execFileSync('redis-cli', ['-p', '6379', 'INFO', section], { encoding: 'utf8' }).split('\r\n')) {
    const [name, value] = line.split(':');
    if (name !== undefined && value !== undefined) fields[name] = Number(value);
  }
  return fields;
}

const redisPid = info('server').process_id!;

/** redisCpu is the Redis process's CPU time so far (user + system), in µs. */
function redisCpu(): number {
  // The fields after the command name, which may hold spaces: utime and stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${redisPid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MICROS;
}

const COUNTED = ['total_reads_processed', 'total_writes_processed', 'total_commands_processed'] as const;

const servers: Server[] = [];
try {
  for (const variant of variants) servers.push(await startServer(variant, 6379));
  const cookies = await Promise.all(servers.map((server) => createSessions(server.port, 50)));
  for (const [i, server] of servers.entries()) await load(server.port, `/${scenario}`, cookies[i]!, 50, { duration: 2 });
  for (let round = 0; round < rounds; round++) {
    for (const [i, server] of servers.entries()) {
      const [stats, redis, own] = [info('stats'), redisCpu(), await cpuMicros(server)];
      const result = await load(server.port, `/${scenario}`, cookies[i]!, 50, { duration: seconds });
      const [statsAfter, redisAfter, ownAfter] = [info('stats'), redisCpu(), await cpuMicros(server)];
      const n = result.ok;
      const [reads, writes, commands] = COUNTED.map((name) => ((statsAfter[name]! - stats[name]!) / n).toFixed(2));
      const busy = (redisAfter - redis) / (result.seconds * 1e6);
      console.log(
        `${server.variant} ${scenario}: ${Math.round(result.rps)} req/s; a request: server ${((ownAfter - own) / n).toFixed(1)} µs, ` +
          `Redis ${((redisAfter - redis) / n).toFixed(1)} µs, ${reads} reads, ${writes} writes, ${commands} commands; Redis busy ${(busy * 100).toFixed(1)} %`,
      );
    }
  }
} finally {
  for (const server of servers) await stopServer(server);
}
