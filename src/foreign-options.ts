/**
 * Settings of the Go session libraries (beego, macaron, iris) that have no option of that meaning
 * here. A user porting a config or an options object gets why, and what to write instead, rather
 * than a bare "unknown". The INI loader and `createManager` share this table.
 */

/** normalizeOptionName is how option and key names compare: lowercase, `_` removed (`COOKIE_NAME` = `cookieName`). */
export function normalizeOptionName(name: string): string {
  return name.toLowerCase().replace(/_/g, '');
}

const HASHED_IDS = 'beego hashed new ids with it; ids here are 128 or more random bits from node:crypto, used as they are, so there is nothing to hash: remove it (to sign the cookie, set secret)';

/** FOREIGN_OPTIONS maps the normalized name of such a setting to its explanation. */
const FOREIGN_OPTIONS: ReadonlyMap<string, string> = new Map([
  ['section', 'it names the INI section the settings are read from: pass { section } to parseIni or loadIni, or --section to the sessionkit command'],
  ['hashfunc', HASHED_IDS],
  ['sessionhashfunc', HASHED_IDS],
  ['sessionidhashfunc', HASHED_IDS],
  ['hashkey', HASHED_IDS],
  ['sessionhashkey', HASHED_IDS],
  ['sessionidhashkey', HASHED_IDS],
  ['sessionidlength', "beego's SessionIDLength counts random bytes, idLength counts hex characters (two per byte): write twice the number as idLength (beego's 16 is idLength 32)"],
  ['delim', "iris's Delim joins prefix, id and value key in its redis layout; a session here is one record under <prefix><id>: end the redis provider's prefix with the separator instead (prefix=session:)"],
]);

/** foreignOption returns why `name` (any case, `_` ignored) is not an option here, or undefined for a name this table does not know. */
export function foreignOption(name: string): string | undefined {
  return FOREIGN_OPTIONS.get(normalizeOptionName(name));
}
