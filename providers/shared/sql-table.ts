import { configError, shownValue } from './dsn.ts';

/**
 * Table names for the SQL providers. A name comes from a config string, so it is checked at parse
 * time against a plain-identifier allowlist instead of being escaped: a name that needs quoting is
 * almost always a mistake or an attack (checklist row 11), and refusing it keeps every statement
 * built from it obviously safe.
 */

/** DEFAULT_TABLE is the table the SQL providers use when the config names none. */
export const DEFAULT_TABLE = 'sessionkit_sessions';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Room for the `_expires_at_idx` and `_index_exp_idx` suffixes within PostgreSQL's 63-byte and MySQL's 64-byte limits. */
const MAX_NAME = 48;

/** SqlTable is a validated table name: `schema` is set only for a PostgreSQL `schema.table`. */
export interface SqlTable {
  schema?: string;
  name: string;
}

/**
 * parseTableName checks the `table` option of `provider`: one identifier `[A-Za-z_][A-Za-z0-9_]*`
 * of at most 48 characters, or `schema.table` when `allowSchema` is set (PostgreSQL). Anything
 * else, such as quotes, backticks, spaces or semicolons, is an `ERR_SESSION_PROVIDER_CONFIG` error
 * naming the `table` key.
 */
export function parseTableName(provider: string, value: string, allowSchema: boolean): SqlTable {
  const parts = value.split('.');
  const valid =
    (parts.length === 1 || (allowSchema && parts.length === 2)) &&
    parts.every((part) => IDENTIFIER.test(part) && part.length <= MAX_NAME);
  if (!valid) {
    const shape = allowSchema ? 'name or schema.name' : 'name';
    throw configError(
      provider,
      `table must be a ${shape} of letters, digits and _ (at most ${MAX_NAME} each, not starting with a digit), got ${shownValue(value)}`,
    );
  }
  return parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { name: parts[0]! };
}

/** formatTableName gives back the `table` option as written: `name` or `schema.name`. */
export function formatTableName(table: SqlTable): string {
  return table.schema === undefined ? table.name : `${table.schema}.${table.name}`;
}

/**
 * quoteTable renders a validated table for SQL text with `quote` (`"` for PostgreSQL, a backtick
 * for MySQL). Quoting keeps reserved words and mixed case working; it never has to escape anything
 * because {@link parseTableName} let only identifier characters through.
 */
export function quoteTable(table: SqlTable, quote: '"' | '`'): string {
  const name = `${quote}${table.name}${quote}`;
  return table.schema === undefined ? name : `${quote}${table.schema}${quote}.${name}`;
}

/** expiryIndexName is the name of the index on `expires_at` of `table`: `<name>_expires_at_idx`. */
export function expiryIndexName(table: SqlTable): string {
  return `${table.name}_expires_at_idx`;
}

/**
 * indexTable is the table of the store's index, beside the sessions table in the same schema:
 * `<name>_index`. It holds one row per index entry, `(key_hash, sid, expires_at)`.
 */
export function indexTable(table: SqlTable): SqlTable {
  return { ...table, name: `${table.name}_index` };
}

/** indexExpiryIndexName is the name of the index on `expires_at` of the index table: `<name>_index_exp_idx`. */
export function indexExpiryIndexName(table: SqlTable): string {
  return `${table.name}_index_exp_idx`;
}

export { indexKeyHash, MAX_INDEX_KEY } from './index-key.ts';

/** GC_BATCH is how many expired rows one gc statement deletes at most, so no statement holds locks long. */
export const GC_BATCH = 1000;

/**
 * deleteInBatches calls `deleteBatch` (which deletes up to {@link GC_BATCH} expired rows and says
 * how many went) until a batch comes back short: then nothing expired is left to collect.
 */
export async function deleteInBatches(deleteBatch: () => Promise<number>): Promise<void> {
  let deleted: number;
  do deleted = await deleteBatch();
  while (deleted >= GC_BATCH);
}
