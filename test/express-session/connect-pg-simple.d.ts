// connect-pg-simple ships JSDoc, not declarations; this covers what the tests call.

declare module 'connect-pg-simple' {
  import type { EventEmitter } from 'node:events';
  import type { Pool } from 'pg';
  interface PgStoreOptions {
    pool?: Pool;
    tableName?: string;
    createTableIfMissing?: boolean;
    pruneSessionInterval?: false | number;
  }
  interface PgStore extends EventEmitter {
    get(sid: string, callback: (error: unknown, session?: unknown) => void): void;
    set(sid: string, session: unknown, callback?: (error?: unknown) => void): void;
    destroy(sid: string, callback?: (error?: unknown) => void): void;
    close(): Promise<void>;
  }
  export default function connectPgSimple(session: { Store: unknown }): new (options?: PgStoreOptions) => PgStore;
}
