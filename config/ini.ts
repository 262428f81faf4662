/**
 * A small INI tokenizer for the go-ini files of the macaron / gitea / beego lineage. It never
 * throws: a line it cannot read becomes an `invalid` token carrying its line number and a fixed
 * reason, so the caller decides whether that line matters and no value ever reaches a message.
 *
 * Grammar, one line at a time (LF, CRLF or CR; a leading UTF-8 BOM is dropped):
 * - blank lines and lines whose first non-blank character is `;` or `#` are comments;
 * - `[name]` opens a section (name trimmed; dots are part of the name, so `[session.foo]` is just
 *   another section); a `;` or `#` comment may follow the `]`;
 * - `key = value`: only `=` separates (a `key: value` line is invalid); the key is trimmed; the
 *   first `=` ends it, so values may hold `=`;
 * - a value quoted with `"…"` or backticks is taken literally, without escapes, and only blanks or a
 *   comment may follow the closing quote;
 * - an unquoted value is trimmed, and a `;` or `#` that starts it or follows a blank begins an
 *   inline comment (`a#b` keeps its `#`; quote a value that needs ` #` or ` ;`).
 * Lines before the first header belong to the section named `''`.
 */

/** IniSection is a `[name]` header; `name` is trimmed, in the case written. */
export interface IniSection {
  kind: 'section';
  line: number;
  name: string;
}

/** IniEntry is one `key = value` line with the key trimmed and the value unquoted. */
export interface IniEntry {
  kind: 'entry';
  line: number;
  key: string;
  value: string;
}

/** IniInvalid is a line that is neither; `header` tells a broken `[` line from a broken entry. */
export interface IniInvalid {
  kind: 'invalid';
  line: number;
  header: boolean;
  reason: string;
}

/** IniToken is what {@link tokenizeIni} yields for each meaningful line. */
export type IniToken = IniSection | IniEntry | IniInvalid;

const QUOTES = new Set(['"', '`']);

/** tokenizeIni splits `text` into section, entry and invalid tokens; comments and blank lines are dropped. */
export function tokenizeIni(text: string): IniToken[] {
  const tokens: IniToken[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  lines.forEach((raw, index) => {
    const token = tokenizeLine(raw.trim(), index + 1);
    if (token) tokens.push(token);
  });
  return tokens;
}

function tokenizeLine(text: string, line: number): IniToken | undefined {
  if (text === '' || text.startsWith(';') || text.startsWith('#')) return undefined;
  if (text.startsWith('[')) {
    const match = /^\[([^\]]*)\]\s*(?:[;#].*)?$/.exec(text);
    if (!match) return { kind: 'invalid', line, header: true, reason: 'is not a well-formed [section] header' };
    const name = match[1]!.trim();
    if (name === '') return { kind: 'invalid', line, header: true, reason: 'has an empty section name' };
    return { kind: 'section', line, name };
  }
  const eq = text.indexOf('=');
  if (eq === -1) return { kind: 'invalid', line, header: false, reason: 'is neither a [section], a comment nor key = value' };
  const key = text.slice(0, eq).trim();
  if (key === '') return { kind: 'invalid', line, header: false, reason: 'has no key before "="' };
  const rest = text.slice(eq + 1).trimStart();
  const quote = rest[0];
  if (quote !== undefined && QUOTES.has(quote)) {
    const close = rest.indexOf(quote, 1);
    if (close === -1) return { kind: 'invalid', line, header: false, reason: `has an unterminated ${quote} quote in the value of ${key}` };
    const after = rest.slice(close + 1).trim();
    if (after !== '' && !after.startsWith(';') && !after.startsWith('#')) {
      return { kind: 'invalid', line, header: false, reason: `has text after the closing quote of ${key}` };
    }
    return { kind: 'entry', line, key, value: rest.slice(1, close) };
  }
  const comment = /(?:^|\s)[;#]/.exec(rest);
  const value = (comment ? rest.slice(0, comment.index) : rest).trim();
  return { kind: 'entry', line, key, value };
}
