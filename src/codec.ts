import { SessionError } from './errors.ts';

/** FlashLevel is one of the four levels of a flash message, as in macaron. */
export type FlashLevel = 'success' | 'error' | 'info' | 'warning';
/** FLASH_LEVELS lists the levels in the order templates show them. */
export const FLASH_LEVELS: readonly FlashLevel[] = ['success', 'error', 'info', 'warning'];

/** StoredFlash is a leveled message waiting for the request that shows it; `id` tells it apart when two requests race. */
export interface StoredFlash {
  level: FlashLevel;
  text: string;
  id: string;
}

/**
 * Values holds session values by key, as the plain object JSON reads and writes, so a record is
 * parsed and written without copying. Read it only through own keys ({@link valueOf},
 * `Object.hasOwn`): a key never reaches a prototype, and the names that could are refused on
 * write ({@link checkKey}) and on read ({@link decode}).
 */
export type Values = Record<string, unknown>;

/** valueOf returns the value stored under `key`, never an inherited property. */
export function valueOf(values: Values, key: string): unknown {
  return Object.hasOwn(values, key) ? values[key] : undefined;
}

/**
 * SessionState is what one record holds.
 * `touched` is the last write (or expiry refresh) and drives idle expiry; `created` drives the
 * absolute lifetime.
 */
export interface SessionState {
  created: number;
  touched: number;
  user: string | undefined;
  /** indexedUntil is the expiry of this session's entry in its user's index, if filed. */
  indexedUntil?: number;
  /**
   * lifetime is this session's own idle lifetime in ms, set by "remember me" (`cookie.maxAge`,
   * `updateExpiration`); it replaces `maxLifetime` for this session and makes its cookie persistent.
   */
  lifetime?: number;
  data: Values;
  /** flashes are the leveled messages waiting for a request that renders them. */
  flashes: StoredFlash[];
  /** keyedFlashes are the keyed flash values (`setFlash`) waiting for a request that reads them. */
  keyedFlashes: Values;
}

/** freshState returns an empty state created at `now`. */
export function freshState(now: number): SessionState {
  return { created: now, touched: now, user: undefined, data: {}, flashes: [], keyedFlashes: {} };
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** checkKey refuses keys that are not non-empty strings or that could pollute a prototype. */
export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '' || FORBIDDEN_KEYS.has(key)) {
    throw new SessionError('ERR_SESSION_INVALID_VALUE', `session: ${JSON.stringify(String(key))} cannot be used as a session key`);
  }
}

/** MAX_DEPTH is how deeply arrays and objects may nest in a session value (and in a stored record). */
export const MAX_DEPTH = 64;

/**
 * checkValue accepts JSON data only — strings, finite numbers but -0, booleans, null, dense arrays
 * without named properties, and plain objects, nested at most {@link MAX_DEPTH} deep — so every
 * value comes back exactly as it was stored, on every provider. Anything else (a Date, Map,
 * Buffer, BigInt, undefined, NaN, a sparse array, a cycle) is refused with the path of the bad part.
 */
export function checkValue(value: unknown, path: string): void {
  checkPart(value, path, undefined, 0);
}

function notJson(path: string, what: string): SessionError {
  return new SessionError('ERR_SESSION_INVALID_VALUE', `session: value at ${path} is ${what}; sessions hold JSON data only`);
}

/** checkPart checks one part of a value; `seen` holds the objects above it, made at the first object (most values are strings and numbers). */
function checkPart(value: unknown, path: string, seen: Set<object> | undefined, depth: number): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw notJson(path, String(value));
      if (Object.is(value, -0)) throw notJson(path, '-0, which JSON reads back as 0');
      return;
    case 'object': {
      if (value === null) return;
      seen ??= new Set();
      if (seen.has(value)) throw notJson(path, 'a cycle');
      if (depth >= MAX_DEPTH) throw notJson(path, `nested deeper than ${MAX_DEPTH} levels`);
      seen.add(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) throw notJson(path, `a sparse array (nothing at [${i}]), which JSON reads back with null there`);
          checkPart(value[i], `${path}[${i}]`, seen, depth + 1);
        }
        if (Object.keys(value).length !== value.length) throw notJson(path, 'an array with named properties, which JSON leaves out');
      } else {
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) throw notJson(path, `a ${value.constructor?.name ?? 'class instance'}`);
        for (const [key, item] of Object.entries(value)) {
          if (FORBIDDEN_KEYS.has(key)) throw notJson(path, `an object with the key ${JSON.stringify(key)}`);
          checkPart(item, `${path}.${key}`, seen, depth + 1);
        }
      }
      seen.delete(value);
      return;
    }
    default:
      throw notJson(path, typeof value === 'undefined' ? 'undefined (use delete)' : `a ${typeof value}`);
  }
}

const VERSION = 1;

/** hasKeys tells whether a plain object of values holds any key, without listing them. */
function hasKeys(values: Values): boolean {
  for (const _ in values) return true;
  return false;
}

/**
 * encode writes `state` as a record string, refusing one above `maxBytes` before anything is stored.
 * The envelope is written as text around the JSON of its parts rather than made as an object and
 * stringified whole: the same string, about 580 → 440 ns for a small session in a loop (with the
 * flattening a store's concatenation costs after it), and one object less per save.
 */
export function encode(state: SessionState, maxBytes: number): string {
  let record = `{"v":${VERSION},"c":${state.created},"t":${state.touched},"d":${JSON.stringify(state.data)}`;
  if (state.user !== undefined) record += `,"u":${JSON.stringify(state.user)}`;
  if (state.indexedUntil !== undefined) record += `,"x":${state.indexedUntil}`;
  if (state.lifetime !== undefined) record += `,"l":${state.lifetime}`;
  if (state.flashes.length > 0) record += `,"f":${JSON.stringify(state.flashes.map((m) => [m.level, m.text, m.id]))}`;
  if (hasKeys(state.keyedFlashes)) record += `,"k":${JSON.stringify(state.keyedFlashes)}`;
  record += '}';
  if (record.length > maxBytes / 3 && Buffer.byteLength(record) > maxBytes) {
    throw new SessionError('ERR_SESSION_TOO_LARGE', `session: session data is ${Buffer.byteLength(record)} bytes, above the limit of ${maxBytes} (maxRecordSize)`);
  }
  return record;
}

function corrupt(why: string): SessionError {
  return new SessionError('ERR_SESSION_CORRUPT_RECORD', `session: stored record is unreadable (${why})`);
}

const SUSPICIOUS = /__proto__|constructor|prototype|\\u/;

function rejectPollution(key: string, value: unknown): unknown {
  if (FORBIDDEN_KEYS.has(key)) throw corrupt(`forbidden key ${JSON.stringify(key)}`);
  return value;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * nestedTooDeep tells whether JSON `text` nests arrays and objects deeper than {@link MAX_DEPTH}.
 * Counting the brackets first, with indexOf, settles almost every record at once: one with no
 * more brackets than the limit cannot nest deeper. Only the rest is walked character by character.
 */
function nestedTooDeep(text: string): boolean {
  let brackets = 0;
  for (const open of ['{', '[']) {
    for (let i = text.indexOf(open); i !== -1 && brackets <= MAX_DEPTH; i = text.indexOf(open, i + 1)) brackets++;
  }
  if (brackets <= MAX_DEPTH) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c /* \ */) i++;
    } else if (c === 0x7b || c === 0x5b) {
      // The envelope object is one level more than the data it holds.
      if (++depth > MAX_DEPTH + 2) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

/**
 * decode reads a record written by {@link encode}. Anything else — bad JSON, a wrong shape, a
 * `__proto__`/`constructor` key anywhere — throws `ERR_SESSION_CORRUPT_RECORD`.
 */
export function decode(record: string): SessionState {
  // Nesting a tampered record deeply would load, then make every later write overflow the stack.
  if (nestedTooDeep(record)) throw corrupt(`nested deeper than ${MAX_DEPTH} levels`);
  let doc: unknown;
  try {
    // A reviver slows JSON.parse several times over, so it runs only on text that could spell a
    // forbidden key: one of the names itself, or a \u escape that could hide one.
    doc = SUSPICIOUS.test(record) ? JSON.parse(record, rejectPollution) : JSON.parse(record);
  } catch (error) {
    throw error instanceof SessionError ? error : corrupt('not JSON');
  }
  if (!isObject(doc) || doc.v !== VERSION) throw corrupt('unknown format');
  const { c, t, u, x, l, d, f, k } = doc;
  if (typeof c !== 'number' || typeof t !== 'number' || !isObject(d)) throw corrupt('missing fields');
  if (u !== undefined && typeof u !== 'string') throw corrupt('bad user');
  if (x !== undefined && typeof x !== 'number') throw corrupt('bad index expiry');
  if (l !== undefined && !(typeof l === 'number' && l > 0)) throw corrupt('bad lifetime');
  if (k !== undefined && !isObject(k)) throw corrupt('bad keyed flash');
  const flashes: StoredFlash[] = [];
  if (f !== undefined) {
    if (!Array.isArray(f)) throw corrupt('bad flash');
    for (const item of f) {
      if (!Array.isArray(item) || !FLASH_LEVELS.includes(item[0]) || typeof item[1] !== 'string' || typeof item[2] !== 'string') {
        throw corrupt('bad flash');
      }
      flashes.push({ level: item[0], text: item[1], id: item[2] });
    }
  }
  const state: SessionState = { created: c, touched: t, user: u, data: d, flashes, keyedFlashes: k ?? {} };
  if (x !== undefined) state.indexedUntil = x;
  if (l !== undefined) state.lifetime = l;
  return state;
}
