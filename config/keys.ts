import { DEFAULTS, OPTION_NAMES, type ManagerOptions } from '../src/options.ts';
import { normalizeOptionName } from '../src/foreign-options.ts';
import { closest } from '../src/suggest.ts';

/**
 * The one table of `[session]` keys. It drives the INI parser (spellings and types), the defaults
 * (taken from {@link DEFAULTS}), `config/session.example.ini` ({@link renderExample}) and the key
 * table of `config/README.md` ({@link describeKeys}); tests compare both files with the renderers.
 */

/** FileOption names the {@link ManagerOptions} fields a config file can set (functions cannot). */
export type FileOption = Exclude<keyof ManagerOptions, 'onError' | 'onDestroy' | 'onRejectedId' | 'idGenerator' | 'legacy' | 'now'>;

/** KeyValue is a parsed value as {@link ManagerOptions} holds it (seconds as numbers). */
export type KeyValue = string | number | boolean | string[];

/**
 * KeyType is how a value is read: `string` (trimmed text; `empty: false` refuses ``, `falseWord`
 * reads `false` as the boolean), `boolean` (true/false/1/0/yes/no/on/off, any case), `seconds` (a
 * bare number of seconds or a Go duration `250ms` `30s` `15m` `1h`, never negative), `integer`
 * (whole decimal), `enum` (listed words, any case, mapped to values) and `list` (comma-separated,
 * entries trimmed, none empty; one entry gives a string, several an array).
 */
export type KeyType =
  | { kind: 'string'; empty: boolean; falseWord?: boolean }
  | { kind: 'boolean' }
  | { kind: 'seconds' }
  | { kind: 'integer' }
  | { kind: 'enum'; values: Readonly<Record<string, string | false>> }
  | { kind: 'list' };

/** KeyRow is one accepted key: its spellings, type, default and documentation. */
export interface KeyRow {
  /** name is the spelling used in `session.example.ini` and the docs. */
  name: string;
  /** option is the {@link ManagerOptions} field it sets; undefined: accepted, checked and ignored. */
  option: FileOption | undefined;
  /** aliases are the other accepted spellings besides `name` and the camelCase option name. */
  aliases: readonly string[];
  type: KeyType;
  /** default is the value {@link createManager} applies when the key is absent; undefined: unset. */
  default: KeyValue | undefined;
  /** sample is shown, commented out, in the example for a key without a default. */
  sample?: string;
  /** sensitive values (secrets, connection strings) never appear in any message. */
  sensitive: boolean;
  doc: string;
}

const text: KeyType = { kind: 'string', empty: true };
const name: KeyType = { kind: 'string', empty: false };
const boolean: KeyType = { kind: 'boolean' };
const seconds: KeyType = { kind: 'seconds' };
const integer: KeyType = { kind: 'integer' };

/** KEYS is the key table, in the order of the example file. */
export const KEYS: readonly KeyRow[] = [
  {
    name: 'PROVIDER', option: 'provider', aliases: ['SessionProvider'], type: name, default: DEFAULTS.provider, sensitive: false,
    doc: 'registered provider name: memory, file, redis, memcache, postgres, mysql, mongodb, couchbase or lmdb',
  },
  {
    name: 'PROVIDER_CONFIG', option: 'providerConfig', aliases: ['SessionProviderConfig'], type: text, default: DEFAULTS.providerConfig, sensitive: true,
    doc: "the provider's connection string (a directory for file, a DSN or URL for the others); never shown in errors",
  },
  {
    name: 'COOKIE_NAME', option: 'cookieName', aliases: ['SessionName'], type: name, default: DEFAULTS.cookieName, sensitive: false,
    doc: 'name of the session cookie',
  },
  {
    name: 'COOKIE_PATH', option: 'cookiePath', aliases: [], type: name, default: DEFAULTS.cookiePath, sensitive: false,
    doc: 'Path attribute of the session cookie',
  },
  {
    name: 'DOMAIN', option: 'domain', aliases: ['SessionDomain'], type: text, default: undefined, sample: 'example.com', sensitive: false,
    doc: 'Domain attribute of the session cookie; unset or empty keeps the cookie host-only, the safe choice',
  },
  {
    name: 'COOKIE_SECURE', option: 'secure', aliases: ['SECURE'], type: boolean, default: DEFAULTS.secure, sensitive: false,
    doc: 'marks the cookie Secure; set it behind HTTPS',
  },
  {
    name: 'HTTP_ONLY', option: 'httpOnly', aliases: [], type: boolean, default: DEFAULTS.httpOnly, sensitive: false,
    doc: 'marks the cookie HttpOnly so scripts cannot read it',
  },
  {
    name: 'SAME_SITE', option: 'sameSite', aliases: ['COOKIE_SAME_SITE', 'SessionSameSite', 'SessionCookieSameSite'],
    type: { kind: 'enum', values: { lax: 'lax', strict: 'strict', none: 'none', false: false } }, default: DEFAULTS.sameSite, sensitive: false,
    doc: 'SameSite attribute: lax, strict, none (needs COOKIE_SECURE) or false to leave it out',
  },
  {
    name: 'COOKIE_LIFE_TIME', option: 'cookieLifeTime', aliases: ['SessionCookieLifeTime'], type: seconds, default: DEFAULTS.cookieLifeTime, sensitive: false,
    doc: 'Max-Age of the cookie; 0 makes a browser-session cookie',
  },
  {
    name: 'GC_INTERVAL_TIME', option: 'gcInterval', aliases: [], type: seconds, default: DEFAULTS.gcInterval, sensitive: false,
    doc: 'time between gc passes; 0 turns the ticker off',
  },
  {
    name: 'MAX_LIFE_TIME', option: 'maxLifetime', aliases: ['SESSION_LIFE_TIME', 'SessionGCMaxLifetime'], type: seconds, default: DEFAULTS.maxLifetime, sensitive: false,
    doc: 'idle timeout: a session unused this long expires; must be positive',
  },
  {
    name: 'ABSOLUTE_LIFETIME', option: 'absoluteLifetime', aliases: [], type: seconds, default: undefined, sample: '24h', sensitive: false,
    doc: "cap on a session's total age; must be positive; unset: no cap",
  },
  {
    name: 'TOUCH_INTERVAL', option: 'touchInterval', aliases: [], type: seconds, default: DEFAULTS.touchInterval, sensitive: false,
    doc: 'a read-only request refreshes the idle expiry only this long after the last write (at most half of MAX_LIFE_TIME)',
  },
  {
    name: 'ID_LENGTH', option: 'idLength', aliases: [], type: integer, default: DEFAULTS.idLength, sensitive: false,
    doc: "session id length in hex characters: even, 32 (128 bits) to 128; macaron's 16 (64 bits) is refused, as OWASP asks for 128 bits or more",
  },
  {
    name: 'SECRET', option: 'secret', aliases: [], type: { kind: 'list' }, default: undefined, sensitive: true,
    doc: 'signs the cookie (HMAC-SHA256), 32 characters or more; a comma-separated list rotates: the first signs, all verify',
  },
  {
    name: 'ID_HEADER', option: 'idHeader', aliases: [], type: text, default: undefined, sample: 'X-Session-Id', sensitive: false,
    doc: 'also read the id from, and return it in, this request/response header',
  },
  {
    name: 'CACHE_CONTROL', option: 'cacheControl', aliases: [], type: { kind: 'string', empty: false, falseWord: true }, default: DEFAULTS.cacheControl, sensitive: false,
    doc: 'Cache-Control sent, with Vary: Cookie, on responses that set the cookie and on responses to requests that carried a live session (unless the handler set its own); false sends none',
  },
  {
    name: 'MAX_RECORD_SIZE', option: 'maxRecordSize', aliases: [], type: integer, default: DEFAULTS.maxRecordSize, sensitive: false,
    doc: 'largest encoded session in bytes; a bigger one fails at save',
  },
  {
    name: 'MAX_RETRIES', option: 'maxRetries', aliases: [], type: integer, default: DEFAULTS.maxRetries, sensitive: false,
    doc: 'conflict retries of one save before ERR_SESSION_CONTENDED',
  },
  {
    name: 'STORE_TIMEOUT', option: 'storeTimeout', aliases: [], type: seconds, default: DEFAULTS.storeTimeout, sensitive: false,
    doc: 'bound on each store call a request waits on; a slower call fails the request with ERR_SESSION_STORE; 0 leaves only the client library timeouts',
  },
  {
    name: 'ON_STORE_ERROR', option: 'onStoreError', aliases: [], type: { kind: 'enum', values: { fail: 'fail', continue: 'continue' } },
    default: DEFAULTS.onStoreError, sensitive: false,
    doc: 'a store error while loading a session fails the request (fail) or runs it without a session (continue)',
  },
  {
    name: 'SAVE_UNINITIALIZED', option: 'saveUninitialized', aliases: [], type: boolean, default: DEFAULTS.saveUninitialized, sensitive: false,
    doc: 'store a new session and send its cookie on the first visit, as beego and macaron do; false stores nothing until a request writes',
  },
  {
    name: 'FLASH_PROPERTY', option: 'flashProperty', aliases: [], type: { kind: 'string', empty: false, falseWord: true }, default: DEFAULTS.flashProperty, sensitive: false,
    doc: "name of the leveled flash on a session; another name (e.g. flashes) leaves session.flash to connect-flash; false offers it under no name",
  },
  {
    name: 'SECTION', option: undefined, aliases: [], type: name, default: undefined, sample: 'session', sensitive: false,
    doc: "macaron's Section option, accepted when it names the section it is in; to read another section, pass { section } to loadIni or --section to the sessionkit command",
  },
  {
    name: 'SESSION_ON', option: undefined, aliases: [], type: boolean, default: undefined, sample: 'true', sensitive: false,
    doc: "beego's SessionOn switch, accepted so app.conf lines can be copied; must be a boolean and is otherwise ignored",
  },
];

/** normalizeKey is how spellings compare: lowercase, `_` removed (`PROVIDER_CONFIG` = `providerConfig`). */
export const normalizeKey: (key: string) => string = normalizeOptionName;

/**
 * spellings lists the accepted spellings of `row`, one per normalized form: its name, the aliases,
 * the option name, then the Go libraries' names for that option (`OPTION_NAMES`, e.g. `Gclifetime`).
 */
export function spellings(row: KeyRow): string[] {
  const all = [row.name, ...row.aliases, ...(row.option === undefined ? [] : [row.option, ...OPTION_NAMES[row.option]])];
  return all.filter((spelling, i) => all.findIndex((other) => normalizeKey(other) === normalizeKey(spelling)) === i);
}

const BY_KEY = new Map<string, KeyRow>();
for (const row of KEYS) {
  for (const spelling of spellings(row)) {
    const key = normalizeKey(spelling);
    if (BY_KEY.has(key)) throw new Error(`config/keys.ts: ${spelling} is listed twice`);
    BY_KEY.set(key, row);
  }
}

/** findKey returns the row a key as written in a file means, or undefined for an unknown key. */
export function findKey(written: string): KeyRow | undefined {
  return BY_KEY.get(normalizeKey(written));
}

/** suggestKey returns the known spelling closest to an unknown `written` key, or undefined when none is close. */
export function suggestKey(written: string): string | undefined {
  return closest(written, KEYS.flatMap(spellings), normalizeKey);
}

/** keyDefaults returns the defaults of the table as a ManagerOptions object (keys without a default are absent). */
export function keyDefaults(): ManagerOptions {
  const out: Record<string, KeyValue> = {};
  for (const row of KEYS) if (row.option !== undefined && row.default !== undefined) out[row.option] = row.default;
  return out as ManagerOptions;
}

function typeLabel(type: KeyType): string {
  switch (type.kind) {
    case 'string': return type.falseWord ? 'string or false' : type.empty ? 'string' : 'non-empty string';
    case 'enum': return Object.keys(type.values).join(' / ');
    case 'list': return 'comma-separated list';
    default: return type.kind;
  }
}

function formatValue(value: KeyValue): string {
  const text = Array.isArray(value) ? value.join(',') : String(value);
  // the tokenizer would trim blanks and cut at " ;" / " #", so such a default is quoted
  return /^\s|\s$|(?:^|\s)[;#]|^["`]/.test(text) ? `\`${text}\`` : text;
}

/**
 * describeKeys renders the key table as Markdown (key, other spellings, option, type, default,
 * meaning) — the table in `config/README.md`, which a test keeps equal to this output.
 */
export function describeKeys(): string {
  const lines = [
    '| Key | Also accepted | Option | Type | Default | Meaning |',
    '|---|---|---|---|---|---|',
  ];
  for (const row of KEYS) {
    const others = spellings(row).slice(1).map((s) => `\`${s}\``).join(', ') || '—';
    const option = row.option === undefined ? '(ignored)' : `\`${row.option}\``;
    const fallback = row.default === undefined ? 'unset' : `\`${JSON.stringify(row.default)}\``;
    lines.push(`| \`${row.name}\` | ${others} | ${option} | ${typeLabel(row.type)} | ${fallback} | ${row.doc.replace(/\|/g, '\\|')} |`);
  }
  return lines.join('\n') + '\n';
}

/**
 * renderExample renders `config/session.example.ini`: every key with a comment line, set to its
 * default, or commented out (with a sample) when it has none — so the file parses to exactly the
 * table's defaults.
 */
export function renderExample(): string {
  const lines = [
    '; session.example.ini: every [session] key sessionkit reads, set to its default.',
    '; Generated from config/keys.ts (renderExample); a test fails when the two differ.',
    '; Keys match case-insensitively and ignoring "_": COOKIE_NAME, cookieName and cookie_name are one key.',
    '; Durations are seconds (3600) or Go-style (250ms, 30s, 15m, 1h). Booleans: true/false, 1/0, yes/no, on/off.',
    '; Quote a value with "..." or `...` to keep a " ;" or " #" in it. Keys without a default are commented out.',
    '',
    '[session]',
  ];
  for (const row of KEYS) {
    const others = spellings(row).slice(1);
    lines.push(`; ${row.doc}${others.length ? ` (also: ${others.join(', ')})` : ''}`);
    lines.push(row.default === undefined ? `; ${row.name} = ${row.sample ?? ''}`.trimEnd() : `${row.name} = ${formatValue(row.default)}`.trimEnd());
  }
  return lines.join('\n') + '\n';
}
