import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { SessionError } from 'sessionkit';
import { parseIni } from 'sessionkit/config';

/**
 * No password written into an INI file reaches what a logger prints of a parse error: its
 * message, its cause chain, `util.inspect(err, { depth: Infinity })` or `JSON.stringify(err)`.
 * The password sits in a SECRET or PROVIDER_CONFIG value, in any of the lineage's config string
 * forms, written with `=` or go-ini's `:`, spread over backslash continuation lines (some with the
 * backslash forgotten, so the rest of the value lands on a line of its own), among other lines of
 * every kind, good and bad.
 */

/** RUNS per property; PROPERTY_RUNS=5000 searches deeper by hand. */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);

/**
 * LETTERS make up a password's words: ASCII letters that no message of the loader holds four of in
 * a row, plus two non-ASCII markers. The delimiters are those that break naive parsers.
 */
const LETTERS = [...'QXZqxz79', 'ж', 'λ'];
const DELIMITERS = [...",=#;@?%/: '\"\\&+`()[]{}!"];
const segment = fc.string({ unit: fc.constantFrom(...LETTERS), minLength: 1, maxLength: 6 });
const passwordArb = fc
  .tuple(segment, fc.array(fc.tuple(fc.constantFrom(...DELIMITERS), segment), { maxLength: 3 }))
  .map(([first, rest]) => 'ж' + first + rest.map(([delimiter, part]) => delimiter + part).join(''));

/** leak returns the part of `password` that `text` shows: a marker letter, or four password letters in a row. */
function leak(text: string, password: string): string | undefined {
  if (text.includes('ж') || text.includes('λ')) return 'a marker letter';
  const runs = password.match(new RegExp(`[${LETTERS.join('')}]{4,}`, 'g')) ?? [];
  for (const run of runs) {
    for (let i = 0; i + 4 <= run.length; i++) if (text.includes(run.slice(i, i + 4))) return run.slice(i, i + 4);
  }
  return undefined;
}

/** FORMS are the config strings of the lineage that carry a password. */
const FORMS: ((pw: string) => string)[] = [
  (pw) => pw,
  (pw) => `postgres://app:${pw}@db/app?sslmode=disable`,
  (pw) => `user=app password=${pw} host=db port=5432 dbname=app`,
  (pw) => `root:${pw}@tcp(127.0.0.1:3306)/test?charset=utf8`,
  (pw) => `127.0.0.1:6379,100,${pw},0`,
  (pw) => `network=tcp,addr=127.0.0.1:6379,password=${pw},db=0,prefix=session:`,
  (pw) => `{"save_path":"127.0.0.1:6379","password":"${pw}","db_num":0}`,
  (pw) => `u:${pw}@127.0.0.1:11211,127.0.0.1:11212`,
  (pw) => `"${pw}"`,
  (pw) => `\`${pw}\``,
];
const SENSITIVE_KEYS = ['SECRET', 'secret', 'PROVIDER_CONFIG', 'providerConfig', 'SessionProviderConfig', 'provider_config'];
const SEPARATORS = [' = ', '=', ': ', ':', ' : '];

/**
 * entryLines writes `key<sep>value` and cuts the value at `cuts` (fractions of its length) into
 * lines; each cut ends its line in `\` (a continuation) or, when forgotten, in nothing.
 */
function entryLines(key: string, separator: string, value: string, cuts: { at: number; backslash: boolean; indent: string }[]): string[] {
  const points = [...new Set(cuts.map((cut) => Math.floor(cut.at * value.length)))].sort((a, b) => a - b);
  const lines: string[] = [];
  let start = 0;
  let prefix = `${key}${separator}`;
  points.forEach((point, i) => {
    const cut = cuts[i]!;
    lines.push(`${prefix}${value.slice(start, point)}${cut.backslash ? '\\' : ''}`);
    prefix = cut.indent;
    start = point;
  });
  lines.push(`${prefix}${value.slice(start)}`);
  return lines;
}

const cutArb = fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), backslash: fc.boolean(), indent: fc.constantFrom('', '  ', '\t') });

/** otherLine is any other line a file may hold: good keys, bad values, typos, junk, comments. */
const otherLine = fc.oneof(
  fc.constantFrom(
    'PROVIDER = memory', 'COOKIE_NAME = sid', 'COOKIE_SECURE = maybe', 'MAX_LIFE_TIME = soon', 'ID_LENGTH = 16', 'Gclifetime = 60',
    'COOKIE_NAM = x', 'HTTP_PORT = 3000', 'SAME_SITE = none', 'hashkey = k', '; comment', '# comment', '', '[session]', '[server]',
    'just words', '= x', ': x', 'COOKIE_NAME = "open', 'SECTION = other', 'CACHE_CONTROL = a\\', 'x',
  ),
  fc.string({ unit: fc.constantFrom(...'aZ09 =:;#[]"\\_-.'), maxLength: 16 }),
);

const fileArb = fc.record({
  password: passwordArb,
  form: fc.nat({ max: FORMS.length - 1 }),
  key: fc.constantFrom(...SENSITIVE_KEYS),
  separator: fc.constantFrom(...SEPARATORS),
  cuts: fc.array(cutArb, { maxLength: 3 }),
  before: fc.array(otherLine, { maxLength: 4 }),
  after: fc.array(otherLine, { maxLength: 4 }),
  lead: fc.constantFrom('[session]', '[server]\nPORT = 1\n[session]', '[Session]'),
  eol: fc.constantFrom('\n', '\r\n', '\r'),
});

/** shown lists what a logger may print of `error`. */
function shown(error: unknown): string[] {
  const texts = [inspect(error, { depth: Infinity }), JSON.stringify(error) ?? ''];
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) texts.push(cause.message, String(cause.stack));
  return texts;
}

describe('config: no password in an INI file reaches an error (properties)', function () {
  this.timeout(60_000);

  it('a password in SECRET or PROVIDER_CONFIG, with = or :, continued or cut over lines, never shows in an error', function () {
    fc.assert(
      fc.property(fileArb, (file) => {
        const value = FORMS[file.form]!(file.password);
        const lines = [file.lead, ...file.before, ...entryLines(file.key, file.separator, value, file.cuts), ...file.after];
        let error: unknown;
        try {
          parseIni(lines.join(file.eol));
        } catch (caught) {
          error = caught;
        }
        if (error === undefined) return;
        assert.ok(error instanceof SessionError && error.message.startsWith('session: '), String(error));
        for (const text of shown(error)) {
          const part = leak(text, file.password);
          assert.equal(part, undefined, `shows ${part} of the password:\n${text}`);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('a password written with : or over continuation lines reads back whole', function () {
    fc.assert(
      fc.property(passwordArb, fc.constantFrom(...SEPARATORS), fc.array(cutArb, { maxLength: 3 }), (password, separator, cuts) => {
        const value = `postgres://app:${password}@db/app?sslmode=disable`;
        // A continuation joins lines without the blanks around them, so cut only where no blank or `\` is at the edge.
        const safe = cuts.filter((cut) => {
          const at = Math.floor(cut.at * value.length);
          return at > 0 && !/[\s\\]/.test(value[at - 1]!) && !/\s/.test(value[at] ?? 'x');
        });
        const text = ['[session]', ...entryLines('PROVIDER_CONFIG', separator, value, safe.map((cut) => ({ ...cut, backslash: true }))), 'COOKIE_NAME = sid'].join('\n');
        if (/[;#]/.test(value) && safe.length === 0) return; // a one-line unquoted value loses an inline comment, by design
        assert.deepEqual(parseIni(text), { providerConfig: value, cookieName: 'sid' });
      }),
      { numRuns: RUNS },
    );
  });

  it('a go-ini "key: value" line is read as such, so an unknown key\'s message shows the key and never the value', function () {
    const error = (() => {
      try {
        return parseIni('[session]\nPROVIDR_CONFIG: postgres://app:S3cr3tPW!@db/app?sslmode=disable\n');
      } catch (caught) {
        return caught;
      }
    })();
    assert.ok(error instanceof SessionError);
    assert.equal(error.message, 'session: line 2: unknown key PROVIDR_CONFIG in [session] (did you mean PROVIDER_CONFIG?)');
  });

  it('the rest of a value whose backslash was forgotten is not shown as a key', function () {
    const text = '[session]\nPROVIDER_CONFIG = postgres://app:\nS3cr3tPW=1@db/app\n';
    assert.throws(() => parseIni(text), (error: unknown) => {
      assert.ok(error instanceof SessionError);
      assert.equal(error.message, 'session: line 3: unknown key in [session] (not shown: the line follows a secret value and may be the rest of it; a value continued on the next line ends in \\)');
      return true;
    });
  });
});
