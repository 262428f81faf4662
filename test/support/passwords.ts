import fc from 'fast-check';

/**
 * Generated passwords for the property tests that no password reaches a message or a log, and
 * the check that finds one.
 */

/** MARK starts every generated password, so an echo of its first part is visible in any message. */
export const MARK = '§';
/** MARKERS are the letters only passwords are made of: a message holding one shows part of a password. */
export const MARKERS = [MARK, 'ж', 'λ'];
/** DELIMITERS are the characters that end a value in some config dialect, so a password holding one breaks a naive parser. */
export const DELIMITERS = [...",=#;@?%/: '\"\\&+`()[]{}"];

const segment = fc.string({ unit: fc.constantFrom(...'aZ09', 'ж', 'λ'), minLength: 1, maxLength: 5 });

/** passwordArb: `§` then segments joined by the delimiters that break naive config parsers. */
export const passwordArb = fc
  .tuple(segment, fc.array(fc.tuple(fc.constantFrom(...DELIMITERS), segment), { maxLength: 3 }))
  .map(([first, rest]) => MARK + first + rest.map(([delimiter, part]) => delimiter + part).join(''));

/** padding is white space a password may start or end with, which a parser must not trim. */
export const padding = fc.constantFrom('', ' ', '  ', '\t');

/** spills tells whether `text` shows any of `markers`, written plainly or percent-encoded. */
export function spills(text: string, markers: string[]): string | undefined {
  const lower = text.toLowerCase();
  return markers.find((m) => text.includes(m) || lower.includes(encodeURIComponent(m).toLowerCase()));
}
