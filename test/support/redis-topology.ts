import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort, redisServer, type RedisServer } from './faults.ts';

/**
 * Private Redis topologies for failover tests: a six-node cluster (three masters, three replicas)
 * and a sentinel setup (a master, a replica, three sentinels), each on free loopback ports under
 * its own directory, run as child processes and stopped by their pids. Failure detection is set
 * to two seconds, so a killed master's replica takes over within a few seconds.
 */

/**
 * NODE_TIMEOUT_MS is the cluster's node timeout and the sentinels' down-after time. One second
 * made a busy two-core machine miss pings now and then, and a just-promoted master was failed
 * over again.
 */
export const NODE_TIMEOUT_MS = 2000;

/** MASTER_NAME is the name the private sentinels monitor. */
export const MASTER_NAME = 'failover';

/** WAIT_MS bounds how long a topology may take to form, fail over or take a node back. */
const WAIT_MS = 20_000;

/** DATA_ARGS keep the data nodes in memory only and start a replica's sync at once (not after the default 5 s). */
const DATA_ARGS = ['--save', '', '--appendonly', 'no', '--repl-diskless-sync-delay', '0'];

/** Topology is a set of private servers a test starts, damages and stops. */
export interface Topology {
  /** servers are the data nodes (and sentinels) by port; a killed one is restarted with {@link Topology.restart}. */
  readonly servers: Map<number, RedisServer>;
  /** providerConfig is the redis provider config reaching the topology, with `query` appended. */
  providerConfig(query: string): string;
  /** master returns the port of the node that serves `key` as master now. */
  master(key: string): Promise<number>;
  /** replicaOf returns the port of the replica of the master at `port`. */
  replicaOf(port: number): Promise<number>;
  /** promoted waits until the replica at `port` serves as master, as clients find it. */
  promoted(port: number): Promise<void>;
  /** restart starts the killed node at `port` again and waits until it is a replica in sync. */
  restart(port: number): Promise<void>;
  /** stop kills every process it started, by pid; safe to call more than once. */
  stop(): Promise<void>;
}

/** ask sends one command to 127.0.0.1:`port` over a short-lived connection; undefined when nothing answers. */
export async function ask(port: number, ...args: (string | number)[]): Promise<unknown> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, connectTimeout: 500, commandTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(String(args[0]), ...args.slice(1).map(String));
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

/** until polls `check` every 50 ms until it returns something other than undefined, or fails after {@link WAIT_MS}. */
async function until<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${WAIT_MS} ms`);
    await sleep(50);
  }
}

/**
 * inSync tells whether `port` is a replica in sync that its master counts as online. The
 * master's view matters: after a sync it counts the replica (for WAIT too) only once the
 * replica's first acknowledgement arrives, up to a second later.
 */
async function inSync(port: number): Promise<true | undefined> {
  const info = (await ask(port, 'INFO', 'replication')) as string | undefined;
  if (!info || !/role:slave/.test(info) || !/master_link_status:up/.test(info) || !/master_sync_in_progress:0/.test(info)) return undefined;
  const master = (await ask(Number(/master_port:(\d+)/.exec(info)?.[1]), 'INFO', 'replication')) as string | undefined;
  return new RegExp(`slave\\d+:ip=127\\.0\\.0\\.1,port=${port},state=online`).test(master ?? '') || undefined;
}

/** isMaster tells whether the node at `port` answers ROLE as a master. */
async function isMaster(port: number): Promise<boolean> {
  return ((await ask(port, 'ROLE')) as [string] | undefined)?.[0] === 'master';
}

/** startAll starts `servers` and returns them by port; when one fails to start, all are stopped. */
async function startAll(servers: RedisServer[]): Promise<Map<number, RedisServer>> {
  try {
    await Promise.all(servers.map((server) => server.start()));
  } catch (error) {
    await Promise.all(servers.map((server) => server.stop()));
    throw error;
  }
  return new Map(servers.map((server) => [server.port, server]));
}

/** stopAll kills every server of the map by its pid. */
async function stopAll(servers: Map<number, RedisServer>): Promise<void> {
  await Promise.all([...servers.values()].map((server) => server.stop()));
}

/** freePorts returns `count` distinct free loopback ports. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** ClusterNode is one line of CLUSTER NODES. */
interface ClusterNode {
  id: string;
  port: number;
  master: boolean;
  failed: boolean;
  masterId: string;
  slots: boolean;
}

/** parseNodes reads CLUSTER NODES. */
function parseNodes(text: string): ClusterNode[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, masterId, , , , , ...slots] = line.split(' ');
      return {
        id: id!,
        port: Number(address!.split('@')[0]!.split(':')[1]),
        master: flags!.split(',').includes('master'),
        failed: /fail/.test(flags!),
        masterId: masterId!,
        slots: slots.length > 0,
      };
    });
}

/**
 * startCluster starts six cluster nodes on free ports under `dir` (cluster bus ports chosen free
 * too), joins them with `redis-cli --cluster create … --cluster-replicas 1`, and waits until every
 * slot is served and each of the three masters has a replica in sync.
 */
export async function startCluster(dir: string): Promise<Topology> {
  mkdirSync(dir, { recursive: true });
  const ports = await freePorts(12);
  const nodes = ports.slice(0, 6).map((port, i) =>
    redisServer(port, [
      '--cluster-enabled', 'yes',
      '--cluster-config-file', `nodes-${port}.conf`,
      '--cluster-port', String(ports[6 + i]),
      '--cluster-node-timeout', String(NODE_TIMEOUT_MS),
      // A replica may take over however long ago it last heard from its master.
      '--cluster-replica-validity-factor', '0',
      ...DATA_ARGS, '--dir', dir,
    ]),
  );
  const servers = await startAll(nodes);
  /** nodes reads CLUSTER NODES from the first node that answers. */
  const table = async (): Promise<ClusterNode[]> => {
    for (const port of servers.keys()) {
      const text = (await ask(port, 'CLUSTER', 'NODES')) as string | undefined;
      if (text) return parseNodes(text);
    }
    throw new Error('no cluster node answers');
  };
  /** whole tells whether every slot is served and each master holding slots has one replica in sync. */
  const whole = async (): Promise<true | undefined> => {
    const info = (await ask([...servers.keys()][0]!, 'CLUSTER', 'INFO')) as string | undefined;
    if (!info?.includes('cluster_state:ok') || !info.includes('cluster_slots_ok:16384')) return undefined;
    const all = await table();
    const masters = all.filter((node) => node.master && node.slots && !node.failed);
    if (masters.length !== 3) return undefined;
    for (const master of masters) {
      const replicas = all.filter((node) => !node.master && node.masterId === master.id);
      if (replicas.length !== 1 || !(await inSync(replicas[0]!.port))) return undefined;
    }
    return true;
  };
  const topology: Topology = {
    servers,
    providerConfig: (query) => `redis+cluster://${ports.slice(0, 6).map((port) => `127.0.0.1:${port}`).join(',')}/0?${query}`,
    async master(key) {
      const all = await table();
      for (const node of all.filter((n) => n.master && !n.failed)) {
        const slot = Number(await ask(node.port, 'CLUSTER', 'KEYSLOT', key));
        const shards = (await ask(node.port, 'CLUSTER', 'SLOTS')) as [number, number, [string, number]][] | undefined;
        const owner = shards?.find(([from, to]) => slot >= from && slot <= to);
        if (owner) return owner[2][1];
      }
      throw new Error(`no master serves ${key}`);
    },
    async replicaOf(port) {
      const all = await table();
      const master = all.find((node) => node.port === port);
      const replica = all.find((node) => !node.master && node.masterId === master?.id);
      if (!replica) throw new Error(`${port} has no replica`);
      return replica.port;
    },
    async promoted(port) {
      await until(async () => {
        const info = (await ask(port, 'CLUSTER', 'INFO')) as string | undefined;
        return (await isMaster(port)) && info?.includes('cluster_state:ok') ? true : undefined;
      }, `the replica at ${port} promoted`);
    },
    async restart(port) {
      // The node reads its nodes.conf, finds its slots taken over, and rejoins as a replica.
      await servers.get(port)!.start();
      await until(whole, `${port} back as a replica in sync`);
    },
    stop: () => stopAll(servers),
  };
  try {
    const create = spawn('redis-cli', ['--cluster', 'create', ...ports.slice(0, 6).map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '1', '--cluster-yes'], { stdio: 'ignore' });
    const [code] = (await once(create, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`redis-cli --cluster create exited with ${code}`);
    await until(whole, 'a cluster serving every slot, each master with a replica in sync');
  } catch (error) {
    await topology.stop();
    throw error;
  }
  return topology;
}

/**
 * startSentinel starts a master, a replica of it and three sentinels (quorum 2) on free ports
 * under `dir`, and waits until every sentinel sees the replica and the other two sentinels.
 */
export async function startSentinel(dir: string): Promise<Topology> {
  mkdirSync(dir, { recursive: true });
  const [first, second, ...sentinelPorts] = await freePorts(5);
  const dataNode = (port: number, ...args: string[]) => redisServer(port, [...DATA_ARGS, '--dir', dir, '--dbfilename', `dump-${port}.rdb`, ...args]);
  const servers = await startAll([dataNode(first!), dataNode(second!, '--replicaof', '127.0.0.1', String(first))]);
  const sentinels = sentinelPorts.map((port) => {
    // Sentinel rewrites its file with what it learns, so each gets its own.
    const file = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      file,
      [
        `dir ${dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${first} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} ${NODE_TIMEOUT_MS}`,
        `sentinel failover-timeout ${MASTER_NAME} 3000`,
        '',
      ].join('\n'),
    );
    return redisServer(port, ['--sentinel'], file);
  });
  /** named returns the master port the sentinels name, undefined while they disagree or none answers. */
  const named = async (): Promise<number | undefined> => {
    const ports = new Set<number>();
    for (const port of sentinelPorts) {
      const address = (await ask(port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [string, string] | undefined;
      if (!address) return undefined;
      ports.add(Number(address[1]));
    }
    return ports.size === 1 ? [...ports][0] : undefined;
  };
  /** whole tells whether every sentinel sees the master, its replica in sync, and the two other sentinels. */
  const whole = async (): Promise<true | undefined> => {
    const master = await named();
    if (master === undefined) return undefined;
    for (const port of sentinelPorts) {
      const fields = (await ask(port, 'SENTINEL', 'MASTER', MASTER_NAME)) as string[] | undefined;
      const value = (name: string) => fields?.[fields.indexOf(name) + 1];
      if (!/^master$/.test(value('flags') ?? '') || value('num-slaves') !== '1' || value('num-other-sentinels') !== '2') return undefined;
    }
    const replicas = (await ask(sentinelPorts[0]!, 'SENTINEL', 'REPLICAS', MASTER_NAME)) as string[][] | undefined;
    const replica = replicas?.map((fields) => Number(fields[fields.indexOf('port') + 1])).find((port) => port !== master);
    return replica !== undefined && (await inSync(replica)) ? true : undefined;
  };
  try {
    for (const [port, sentinel] of await startAll(sentinels)) servers.set(port, sentinel);
    await until(whole, 'three sentinels that see the master, its replica in sync and each other');
  } catch (error) {
    await stopAll(servers);
    throw error;
  }
  return {
    servers,
    providerConfig: (query) => `redis+sentinel://${sentinelPorts.map((port) => `127.0.0.1:${port}`).join(',')}/${MASTER_NAME}?${query}`,
    master: () => until(named, 'the sentinels name a master'),
    async replicaOf(port) {
      return port === first ? second! : first!;
    },
    async promoted(port) {
      await until(async () => ((await named()) === port && (await isMaster(port)) ? true : undefined), `the replica at ${port} promoted`);
    },
    async restart(port) {
      // Started as a replica of the new master, as an operator (or a config Sentinel rewrote) would.
      const master = await until(named, 'the sentinels name a master');
      const node = dataNode(port, '--replicaof', '127.0.0.1', String(master));
      servers.set(port, node);
      await node.start();
      await until(whole, `${port} back as a replica in sync`);
    },
    stop: () => stopAll(servers),
  };
}
