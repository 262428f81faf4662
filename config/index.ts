import { readFile } from 'node:fs/promises';
import { SessionError } from '../src/errors.ts';
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
  for (const token of tokenizeIni(text)) {
    if (token.kind === 'section') {
      current = token.name.toLowerCase();
      if (current === target) found = true;
    } else if (token.kind === 'invalid') {
      if (token.header || current === target) throw configError(`${at(token.line)} ${token.reason}`);
    } else if (current === target) {
      entries.push(token);
    }
  }
  if (!found) throw configError(`config${source === undefined ? '' : ` ${source}`} has no [${section}] section`);

  const seen = new Map<KeyRow, IniEntry>();
  const out: Record<string, KeyValue> = {};
  for (const entry of entries) {
    const row = findKey(entry.key);
    if (!row) {
      const hint = suggestKey(entry.key);
      throw configError(`${at(entry.line)}: unknown key ${entry.key} in [${section}]${hint ? ` (did you mean ${hint}?)` : ''}`);
    }
    const earlier = seen.get(row);
    if (earlier) {
      throw configError(earlier.key === entry.key
        ? `${file}${entry.key} is given twice (lines ${earlier.line} and ${entry.line})`
        : `${file}${earlier.key} (line ${earlier.line}) and ${entry.key} (line ${entry.line}) both set ${row.option ?? row.name}; keep one`);
    }
    seen.set(row, entry);
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

/**
 * checkTogether runs the Manager's own validation (cookie syntax, ranges, secret length, sameSite
 * none without secure) on the parsed options, and points its message at the key and line that
 * set the option it names.
 */
function checkTogether(options: ManagerOptions, seen: Map<KeyRow, IniEntry>, at: (line: number) => string): void {
  try {
    resolveOptions(options);
  } catch (err) {
    if (!(err instanceof SessionError)) throw err;
    const match = /^session: (\w+)([\s\S]*)$/.exec(err.message);
    const entry = match ? [...seen].find(([row]) => row.option === match[1])?.[1] : undefined;
    if (!match || !entry) throw err;
    throw configError(`${at(entry.line)}: ${entry.key}${match[2]}`, err);
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
