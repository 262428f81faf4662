/**
 * A small INI tokenizer for the go-ini files of the macaron / gitea / beego lineage. It never
 * throws: a line it cannot read becomes an `invalid` token carrying its line number and a fixed
 * reason, so the caller decides whether that line matters and no value ever reaches a message.
 *
 * Grammar, one line at a time (LF, CRLF or CR; a leading UTF-8 BOM is dropped):
 * - blank lines and lines whose first non-blank character is `;` or `#` are comments;
 * - `[name]` opens a section (name trimmed; dots are part of the name, so `[session.foo]` is just
 *   another section); a `;` or `#` comment may follow the `]`;
 * - `key = value` or `key: value`: as in go-ini, whichever of `=` and `:` comes first ends the key,
 *   so values may hold both (`PROVIDER_CONFIG: postgres://app:pw@db/app?sslmode=disable`); the key
 *   is trimmed;
 * - a value quoted with `"…"` or backticks is taken literally, without escapes, and only blanks or a
 *   comment may follow the closing quote;
 * - an unquoted value is trimmed, and a `;` or `#` that starts it or follows a blank begins an
 *   inline comment (`a#b` keeps its `#`; quote a value that needs ` #` or ` ;`);
 * - an unquoted value ending in `\` continues on the next line, as in go-ini: the `\` is dropped,
 *   the next line is appended trimmed (whatever it looks like: a comment, a header), and this
 *   repeats while the value still ends in `\`; a blank line or the end of the text ends it. A
 *   continued value keeps its `;` and `#` (go-ini strips no comment from it).
 * Lines before the first header belong to the section named `''`.
 */

/** IniSection is a `[name]` header; `name` is trimmed, in the case written. */
export interface IniSection {
  kind: 'section';
  line: number;
  name: string;
}

/** IniEntry is one `key = value` entry with the key trimmed and the value unquoted; `lastLine` is its last continuation line. */
export interface IniEntry {
  kind: 'entry';
  line: number;
  lastLine: number;
  key: string;
  value: string;
}

/**
 * IniInvalid is a line that is neither; `header` tells a broken `[` line from a broken entry, and
 * `key` is the key of a broken entry when one was read, for the caller to show or not.
 */
export interface IniInvalid {
  kind: 'invalid';
  line: number;
  header: boolean;
  reason: string;
  key?: string;
}

/** IniToken is what {@link tokenizeIni} yields for each meaningful line. */
export type IniToken = IniSection | IniEntry | IniInvalid;

const QUOTES = new Set(['"', '`']);

/** tokenizeIni splits `text` into section, entry and invalid tokens; comments and blank lines are dropped. */
export function tokenizeIni(text: string): IniToken[] {
  const tokens: IniToken[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  for (let index = 0; index < lines.length; index++) {
    const token = tokenizeLine(lines[index]!.trim(), index + 1);
    if (token?.kind === 'entry' && token.value.endsWith('\\') && !token.quoted) {
      const continued = continueValue(token.value, lines, index + 1);
      tokens.push({ kind: 'entry', line: token.line, lastLine: continued.lastLine, key: token.key, value: continued.value });
      index = continued.lastLine - 1;
    } else if (token?.kind === 'entry') {
      tokens.push({ kind: 'entry', line: token.line, lastLine: token.line, key: token.key, value: token.value });
    } else if (token) {
      tokens.push(token);
    }
  }
  return tokens;
}

/**
 * continueValue joins the lines from index `from` onto `value` (which ends in `\\`), as go-ini's
 * readContinuationLines does, and returns the joined value and the number of the last line joined.
 */
function continueValue(value: string, lines: readonly string[], from: number): { value: string; lastLine: number } {
  let joined = value.slice(0, -1);
  let lastLine = from;
  for (let index = from; index < lines.length; index++) {
    const next = lines[index]!.trim();
    if (next === '') break;
    joined += next;
    lastLine = index + 1;
    if (!joined.endsWith('\\')) break;
    joined = joined.slice(0, -1);
  }
  return { value: joined, lastLine };
}

type LineToken = IniSection | IniInvalid | { kind: 'entry'; line: number; key: string; value: string; quoted: boolean };

function tokenizeLine(text: string, line: number): LineToken | undefined {
  if (text === '' || text.startsWith(';') || text.startsWith('#')) return undefined;
  if (text.startsWith('[')) {
    const match = /^\[([^\]]*)\]\s*(?:[;#].*)?$/.exec(text);
    if (!match) return { kind: 'invalid', line, header: true, reason: 'is not a well-formed [section] header' };
    const name = match[1]!.trim();
    if (name === '') return { kind: 'invalid', line, header: true, reason: 'has an empty section name' };
    return { kind: 'section', line, name };
  }
  const delimiter = /[=:]/.exec(text);
  if (!delimiter) return { kind: 'invalid', line, header: false, reason: 'is neither a [section], a comment nor key = value' };
  const key = text.slice(0, delimiter.index).trim();
  if (key === '') return { kind: 'invalid', line, header: false, reason: `has no key before "${delimiter[0]}"` };
  const rest = text.slice(delimiter.index + 1).trim();
  const quote = rest[0];
  if (quote !== undefined && QUOTES.has(quote)) {
    const close = rest.indexOf(quote, 1);
    if (close === -1) return { kind: 'invalid', line, header: false, reason: `has an unterminated ${quote} quote in the value of`, key };
    const after = rest.slice(close + 1).trim();
    if (after !== '' && !after.startsWith(';') && !after.startsWith('#')) {
      return { kind: 'invalid', line, header: false, reason: 'has text after the closing quote of', key };
    }
    return { kind: 'entry', line, key, value: rest.slice(1, close), quoted: true };
  }
  // A continued value is joined before any comment is cut, as go-ini does.
  if (rest.endsWith('\\')) return { kind: 'entry', line, key, value: rest, quoted: false };
  const comment = /(?:^|\s)[;#]/.exec(rest);
  const value = (comment ? rest.slice(0, comment.index) : rest).trim();
  return { kind: 'entry', line, key, value, quoted: false };
}
