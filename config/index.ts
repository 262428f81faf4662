import { readFile } from 'node:fs/promises';
import { SessionError } from '../src/errors.ts';
import { foreignOption } from '../src/foreign-options.ts';
import { resolveOptions, type ManagerOptions } from '../src/options.ts';
import { readBoolean, readDurationMs, readInteger } from '../src/read-value.ts';
import { tokenizeIni, type IniEntry } from './ini.ts';
import { findKey, suggestKey, type KeyRow, type KeyType, type KeyValue } from './keys.ts';

export {
  KEYS,
  describeKeys,
  findKey,
  keyDefaults,
  normalizeKey,
  renderExample,
  spellings,
  type FileOption,
  type KeyRow,
  type KeyType,
  type KeyValue,
} from './keys.ts';

/** IniOptions choose the section to read: `'session'` by default; `''` means the keys before any header. */
export interface IniOptions {
  section?: string;
}

/**
 * parseIni reads the `[session]` section (or `options.section`, matched case-insensitively) of an
 * INI text into {@link ManagerOptions}, holding only the keys present so `createManager` applies
 * the defaults. Keys match case-insensitively and ignoring `_`; macaron, gitea and beego spellings
 * are accepted (see `KEYS`); durations become seconds. Other sections are skipped unread, except
 * that a broken `[` header anywhere is an error. A missing section, a line that is not
 * `key = value`, an unknown key, a key given twice (or two spellings of one option), or a bad value
 * throws `ERR_SESSION_CONFIG` naming the key as written and its line; values of sensitive keys
 * (`SECRET`, `PROVIDER_CONFIG`) never appear in a message. The result also passes
 * `resolveOptions`, so a config that parses is one `createManager` accepts.
 */
export function parseIni(text: string, options: IniOptions = {}): ManagerOptions {
  return parseSection(String(text), options.section ?? 'session', undefined);
}

/**
 * loadIni reads the UTF-8 file at `path` and parses it as {@link parseIni} does; messages give
 * positions as `path:line`. An unreadable file or invalid UTF-8 is `ERR_SESSION_CONFIG` naming the path.
 */
export async function loadIni(path: string, options: IniOptions = {}): Promise<ManagerOptions> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? 'unreadable';
    throw configError(`cannot read config file ${JSON.stringify(path)} (${code})`, cause);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw configError(`config file ${JSON.stringify(path)} is not valid UTF-8`, cause);
  }
  return parseSection(text, options.section ?? 'session', path);
}

function configError(message: string, cause?: unknown): SessionError {
  return new SessionError('ERR_SESSION_CONFIG', `session: ${message}`, { cause });
}

function parseSection(text: string, section: string, source: string | undefined): ManagerOptions {
  const at = (line: number) => (source === undefined ? `line ${line}` : `${source}:${line}`);
  const file = source === undefined ? '' : `${source}: `;
  const target = section.trim().toLowerCase();

  let current = '';
  let found = target === '';
  const entries: IniEntry[] = [];
  // A line right after a sensitive value may be the rest of that value, its trailing backslash
  // forgotten, so what cannot be a key name on it is not shown (see hiddenKey).
  let sensitiveUpTo = 0;
  for (const token of tokenizeIni(text)) {
    if (token.kind === 'section') {
      current = token.name.toLowerCase();
      if (current === target) found = true;
      continue;
    }
    if (token.kind === 'invalid' && token.header) throw configError(`${at(token.line)} ${token.reason}`);
    if (current !== target) continue;
    const suspect = token.line === sensitiveUpTo + 1;
    if (token.kind === 'invalid') {
      throw configError(`${at(token.line)} ${token.reason}${token.key === undefined ? '' : ` ${shownKey(token.key, suspect)}`}`);
    }
    const row = findKey(token.key);
    if (!row) throw unknownKey(token, section, suspect, at);
    if (row.sensitive) sensitiveUpTo = token.lastLine;
    entries.push(token);
  }
  if (!found) throw configError(`config${source === undefined ? '' : ` ${source}`} has no [${section}] section`);

  const seen = new Map<KeyRow, IniEntry>();
  const out: Record<string, KeyValue> = {};
  for (const entry of entries) {
    const row = findKey(entry.key)!;
    const earlier = seen.get(row);
    if (earlier) {
      throw configError(earlier.key === entry.key
        ? `${file}${entry.key} is given twice (lines ${earlier.line} and ${entry.line})`
        : `${file}${earlier.key} (line ${earlier.line}) and ${entry.key} (line ${entry.line}) both set ${row.option ?? row.name}; keep one`);
    }
    seen.set(row, entry);
    if (row.name === SECTION_KEY && entry.value.trim().toLowerCase() !== target) {
      throw configError(`${at(entry.line)}: ${entry.key} = ${JSON.stringify(entry.value)} names another section than [${section}], the one being read; to read [${entry.value.trim()}], pass { section: ${JSON.stringify(entry.value.trim())} } to loadIni or --section to the sessionkit command`);
    }
    const read = readValue(row.type, entry.value);
    if ('problem' in read) {
      const got = row.sensitive ? '' : `, got ${JSON.stringify(entry.value)}`;
      throw configError(`${at(entry.line)}: ${entry.key} ${read.problem}${got}`);
    }
    if (row.option !== undefined) out[row.option] = read.value;
  }

  const options = out as ManagerOptions;
  checkTogether(options, seen, at);
  return options;
}

/** SECTION_KEY is macaron's Section option, which must name the section it is written in. */
const SECTION_KEY = 'SECTION';

const PLAIN_KEY = /^[A-Za-z][\w.-]{0,63}$/;

/** NOT_SHOWN explains why a key is left out of a message, keyed by the reason. */
const NOT_SHOWN = {
  shape: 'not shown: it is not a plain name, so it may be part of a value',
  follows: 'not shown: the line follows a secret value and may be the rest of it; a value continued on the next line ends in \\',
} as const;

/**
 * hiddenKey tells why `key` must not appear in a message, or undefined when it may: a key that is
 * not a plain name may be a piece of a password, and so may any key on a line right after a
 * secret value, unless it is a name this loader knows (a key, a close typo of one, a Go setting).
 */
function hiddenKey(key: string, suspect: boolean): string | undefined {
  if (!PLAIN_KEY.test(key)) return NOT_SHOWN.shape;
  if (suspect && !findKey(key) && foreignOption(key) === undefined && suggestKey(key) === undefined) return NOT_SHOWN.follows;
  return undefined;
}

/** shownKey gives `key` for a message, or a description of it when {@link hiddenKey} says so. */
function shownKey(key: string, suspect: boolean): string {
  const hidden = hiddenKey(key, suspect);
  return hidden === undefined ? key : `a key (${hidden})`;
}

/**
 * unknownKey explains a key the table does not hold: a Go library's setting that has no
 * counterpart says why; anything else gets the closest known key.
 */
function unknownKey(entry: IniEntry, section: string, suspect: boolean, at: (line: number) => string): SessionError {
  const where = `${at(entry.line)}: `;
  const hidden = hiddenKey(entry.key, suspect);
  if (hidden !== undefined) return configError(`${where}unknown key in [${section}] (${hidden})`);
  const foreign = foreignOption(entry.key);
  if (foreign !== undefined) return configError(`${where}${entry.key} is not a setting here: ${foreign}`);
  const hint = suggestKey(entry.key);
  return configError(`${where}unknown key ${entry.key} in [${section}]${hint ? ` (did you mean ${hint}?)` : ''}`);
}

/**
 * checkTogether runs the Manager's own validation (cookie syntax, ranges, secret length, sameSite
 * none without secure) on the parsed options, and points its message at the key and line that
 * set the option it names.
 */
function checkTogether(options: ManagerOptions, seen: Map<KeyRow, IniEntry>, at: (line: number) => string): void {
  try {
    resolveOptions(options);
  } catch (err) {
    if (!(err instanceof SessionError) || err.option === undefined) throw err;
    const entry = [...seen].find(([row]) => row.option === err.option)?.[1];
    if (!entry) throw err;
    const prefix = `session: ${err.option}`;
    const detail = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : `: ${err.message.replace(/^session: /, '')}`;
    throw configError(`${at(entry.line)}: ${entry.key}${detail}`, err);
  }
}

function readValue(type: KeyType, text: string): { value: KeyValue } | { problem: string } {
  switch (type.kind) {
    case 'string':
      if (type.falseWord && text.toLowerCase() === 'false') return { value: false };
      return text === '' && !type.empty ? { problem: 'must not be empty' } : { value: text };
    case 'boolean': {
      const flag = readBoolean(text);
      return flag === undefined ? { problem: 'must be true or false' } : { value: flag };
    }
    case 'seconds': {
      if (text.trim().startsWith('-')) return { problem: 'must not be negative' };
      const ms = readDurationMs(text, 's');
      return ms === undefined ? { problem: 'must be seconds or a duration such as 30s, 15m or 1h' } : { value: ms / 1000 };
    }
    case 'integer': {
      const n = readInteger(text);
      return n === undefined ? { problem: 'must be a whole number' } : { value: n };
    }
    case 'enum': {
      const word = text.toLowerCase();
      return Object.hasOwn(type.values, word) ? { value: type.values[word]! } : { problem: `must be one of ${Object.keys(type.values).join(', ')}` };
    }
    case 'list': {
      const items = text.split(',').map((item) => item.trim());
      if (items.some((item) => item === '')) return { problem: 'must be a comma-separated list without empty entries' };
      return { value: items.length === 1 ? items[0]! : items };
    }
  }
}
