import { createHash } from 'node:crypto';
import { SessionError } from '../../src/errors.ts';

/** MAX_INDEX_KEY is the longest index key a store accepts, in UTF-16 code units (the contract's 512 characters). */
export const MAX_INDEX_KEY = 512;

/**
 * indexKeyHash is how a built-in store names an index key (see `Store.indexAdd`) in its backend:
 * the 32-byte sha256 of the key's UTF-16 code units. Whatever the key holds — `../`, braces, a
 * NUL, 512 characters — the name has a fixed length that fits any key, path or primary key, and
 * UTF-16 rather than UTF-8 keeps keys that differ only in lone surrogates apart (UTF-8 folds them
 * into one replacement character). A key that is not a non-empty string of at most
 * {@link MAX_INDEX_KEY} characters is refused with `ERR_SESSION_INVALID_VALUE`.
 */
export function indexKeyHash(provider: string, key: string): Buffer {
  if (typeof key !== 'string' || key === '' || key.length > MAX_INDEX_KEY) {
    throw new SessionError('ERR_SESSION_INVALID_VALUE', `session/${provider}: an index key must be a non-empty string of at most ${MAX_INDEX_KEY} characters`);
  }
  return createHash('sha256').update(Buffer.from(key, 'utf16le')).digest();
}
