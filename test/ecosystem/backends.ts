import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { ManagerOptions } from 'sessionkit';
import 'sessionkit/providers/postgres';
import 'sessionkit/providers/redis';
import { requireServer } from '../support/servers.ts';

/** Backend is a provider an ecosystem flow runs on, with its own key prefix or table. */
export interface Backend {
  name: string;
  /** options are the manager options that select the backend. */
  options: ManagerOptions;
  /** ready gates the suite on the backend's server (pending outside CI when it is down). */
  ready(ctx: Mocha.Context): Promise<void>;
  /** cleanup removes what the suite created on the server. */
  cleanup(): Promise<void>;
}

const suffix = () => randomBytes(4).toString('hex');

/** memoryBackend needs no server. */
export function memoryBackend(): Backend {
  return { name: 'memory', options: { provider: 'memory' }, ready: async () => undefined, cleanup: async () => undefined };
}

/** redisBackend uses 127.0.0.1:6379 under a prefix of its own, whose keys cleanup deletes. */
export function redisBackend(): Backend {
  const prefix = `sessionkit_test:ecosystem:${suffix()}:`;
  return {
    name: 'redis',
    options: { provider: 'redis', providerConfig: `redis://127.0.0.1:6379/0?prefix=${prefix}` },
    ready: (ctx) => requireServer(ctx, 'redis', '127.0.0.1', 6379),
    cleanup: async () => {
      const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await redis.connect();
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
          if (keys.length > 0) await redis.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      } catch {
        // the server was down: the suite was pending and created nothing
      } finally {
        redis.disconnect();
      }
    },
  };
}

/** postgresBackend uses a table of its own in the `test` database, dropped (with its index table) by cleanup. */
export function postgresBackend(): Backend {
  const table = `sessionkit_test_eco_${suffix()}`;
  return {
    name: 'postgres',
    options: { provider: 'postgres', providerConfig: `postgres://postgres@127.0.0.1:5432/test?table=${table}` },
    ready: (ctx) => requireServer(ctx, 'PostgreSQL', '127.0.0.1', 5432),
    cleanup: async () => {
      const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
      try {
        await client.connect();
        await client.query(`DROP TABLE IF EXISTS "${table}", "${table}_index"`);
      } catch {
        // the server was down: the suite was pending and created nothing
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}
