/**
 * Readers of one option value written as text, shared by the INI loader and the providers' config
 * parsers. Each returns `undefined` for anything it does not accept, never 0, so every caller
 * builds its own message naming the key.
 */

/**
 * readInteger reads a whole decimal number (optional `-`, surrounding space ignored); anything
 * else, or a number beyond the safe integer range, gives undefined — never 0.
 */
export function readInteger(value: string): number | undefined {
  const text = value.trim();
  if (!/^-?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** readBoolean reads true/false/1/0/yes/no/on/off in any case; anything else gives undefined. */
export function readBoolean(value: string): boolean | undefined {
  const text = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(text)) return true;
  if (['false', '0', 'no', 'off'].includes(text)) return false;
  return undefined;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * readDurationMs reads a non-negative duration as Go writes it (`30s`, `1.5m`, `250ms`, `2h`) or a
 * bare number in `bareUnit` (seconds by default) and returns whole ms; anything else (a sign,
 * compound `1h30m`, garbage) gives undefined.
 */
export function readDurationMs(value: string, bareUnit: 's' | 'ms' = 's'): number | undefined {
  const match = DURATION.exec(value.trim());
  if (!match) return undefined;
  const ms = Math.round(Number(match[1]) * UNIT_MS[match[2] ?? bareUnit]!);
  return Number.isSafeInteger(ms) ? ms : undefined;
}
