import { randomBytes } from 'node:crypto';
import { SessionError } from './errors.ts';

/** MIN_ID_LENGTH is the shortest id accepted: 32 hex characters, 128 bits from the CSPRNG. */
export const MIN_ID_LENGTH = 32;
/** MAX_ID_LENGTH bounds ids so keys, file names and columns stay small. */
export const MAX_ID_LENGTH = 128;

/**
 * checkIdLength returns `length` when it is an even integer in 32..128, else throws naming
 * `idLength`. A shorter length (macaron's default of 16 hex characters is 64 bits) is refused with
 * the reason: OWASP's session management cheat sheet asks for at least 128 bits of entropy.
 */
export function checkIdLength(length: number): number {
  if (Number.isInteger(length) && length > 0 && length < MIN_ID_LENGTH) {
    throw new SessionError(
      'ERR_SESSION_CONFIG',
      `session: idLength ${length} gives ${length * 4}-bit ids, below the 128-bit minimum of OWASP's session management cheat sheet; use ${MIN_ID_LENGTH} (the default) or more, up to ${MAX_ID_LENGTH}, or leave it out`,
      { option: 'idLength' },
    );
  }
  if (!Number.isInteger(length) || length < MIN_ID_LENGTH || length > MAX_ID_LENGTH || length % 2 !== 0) {
    throw new SessionError(
      'ERR_SESSION_CONFIG',
      `session: idLength must be an even number from ${MIN_ID_LENGTH} to ${MAX_ID_LENGTH} hex characters, got ${length}`,
      { option: 'idLength' },
    );
  }
  return length;
}

/** generateId returns `length` lowercase hex characters from `crypto.randomBytes`; no fallback. */
export function generateId(length = MIN_ID_LENGTH): string {
  return randomBytes(length / 2).toString('hex');
}

const HEX = /^[0-9a-f]+$/;

/**
 * isValidId tells whether `sid` is lowercase hex of exactly `length` characters (or, without a
 * length, of any accepted length). Everything else — uppercase, dots, slashes, unicode — is
 * refused, so an id is always safe as a key, a column value and a file name.
 */
export function isValidId(sid: unknown, length?: number): sid is string {
  if (typeof sid !== 'string') return false;
  if (length === undefined ? sid.length < MIN_ID_LENGTH || sid.length > MAX_ID_LENGTH : sid.length !== length) return false;
  return HEX.test(sid);
}

/** assertValidId throws `ERR_SESSION_INVALID_ID` unless {@link isValidId}; stores call it on entry. */
export function assertValidId(sid: unknown, provider: string): asserts sid is string {
  if (!isValidId(sid)) {
    throw new SessionError('ERR_SESSION_INVALID_ID', `session/${provider}: refused an invalid session id`);
  }
}
