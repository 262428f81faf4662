/**
 * Each session is one string: its expiry as 13 decimal digits of epoch ms, then the record. One
 * string per session instead of an entry object and a boxed number keeps a small session near
 * 180 heap bytes (see bench/).
 */
const EXPIRY_DIGITS = 13;
const MAX_EXPIRY = 10 ** EXPIRY_DIGITS - 1;

/** pack makes the stored string of a record expiring at `expiresAt` (clamped to 0 … 13 digits). */
export function pack(expiresAt: number, record: string): string {
  const expiry = Math.min(Math.max(Math.floor(expiresAt), 0), MAX_EXPIRY);
  return String(expiry).padStart(EXPIRY_DIGITS, '0') + record;
}

/** expiryOf reads the expiry of a packed string, digit by digit: it runs several times per request, and a slice would allocate. */
export function expiryOf(packed: string): number {
  let expiry = 0;
  for (let i = 0; i < EXPIRY_DIGITS; i++) expiry = expiry * 10 + packed.charCodeAt(i) - 48;
  return expiry;
}

/** recordOf reads the record of a packed string. */
export const recordOf = (packed: string): string => packed.slice(EXPIRY_DIGITS);
