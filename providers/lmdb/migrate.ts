import type { Entry, ExpiryKey, LmdbDatabase, LmdbRoot } from './lmdb-js.ts';
import type { Slices } from './slices.ts';

/** LegacyExpiryKey is the first layout's expiry key of a session. */
type LegacyExpiryKey = [expiresAt: number, sid: string];

/** LEGACY is the database of the first layout: session id → {@link Entry}. */
const LEGACY = 'sessions';

/**
 * migrate moves the sessions of a file written in the first layout (one `sessions` database keyed
 * by id, with `[expiresAt, sid]` keys in `expiry`) into their slices, in one write transaction:
 * the live ones are stored again, the expired ones dropped. The old database is then deleted, so
 * this runs once per file; a file that never had it is left alone.
 */
export async function migrate(root: LmdbRoot, slices: Slices, expiry: LmdbDatabase<ExpiryKey | LegacyExpiryKey, true>, now: () => number): Promise<void> {
  if (!hasLegacy(root)) return;
  const legacy = root.openDB<string, Entry>({ name: LEGACY });
  await root.transaction(() => {
    // Another process opening the file may have moved them first.
    if (!hasLegacy(root)) return;
    slices.openListed();
    const time = now();
    for (const { key: sid, value: entry } of legacy.getRange({})) {
      expiry.remove([entry.expiresAt, sid]);
      if (entry.expiresAt > time) slices.store(sid, entry.record, entry.expiresAt, time);
    }
    legacy.dropSync();
  });
}

function hasLegacy(root: LmdbRoot): boolean {
  return [...root.getKeys()].includes(LEGACY);
}
