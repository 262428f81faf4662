import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS, SessionError, createManager } from 'sessionkit';
import { KEYS, describeKeys, findKey, keyDefaults, loadIni, normalizeKey, parseIni, renderExample, spellings } from 'sessionkit/config';

const configDir = new URL('../config/', import.meta.url);
const SECRET_A = 'a'.repeat(16) + 'Secret-Rotation-1';
const SECRET_B = 'b'.repeat(16) + 'Secret-Rotation-2';

function contains(text: string, fragment: string): void {
  assert.ok(text.includes(fragment), `expected ${JSON.stringify(text)} to include ${JSON.stringify(fragment)}`);
}

function lacks(text: string, fragment: string): void {
  assert.ok(!text.includes(fragment), `expected ${JSON.stringify(text)} not to include ${JSON.stringify(fragment)}`);
}

/** thrown runs `fn` and returns the SessionError it throws, failing the test on anything else. */
function thrown(fn: () => unknown): SessionError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SessionError, String(err));
    assert.equal((err as SessionError).code, 'ERR_SESSION_CONFIG');
    return err as SessionError;
  }
  assert.fail('expected a SessionError');
}

function session(...lines: string[]): string {
  return ['[session]', ...lines].join('\n');
}

const GITEA_APP_INI = `APP_NAME = Gitea: Git with a cup of tea
RUN_MODE = prod

[server]
PROTOCOL = http
DOMAIN = git.example.com
HTTP_PORT = 3000
LFS_JWT_SECRET = \`Xy7;#not-a-comment\`

[database]
DB_TYPE = postgres
HOST = 127.0.0.1:5432
NAME = gitea
USER = gitea
PASSWD = \`p@ss;word#1\`

[session]
PROVIDER = file
PROVIDER_CONFIG = data/sessions
COOKIE_NAME = i_like_gitea
COOKIE_SECURE = false
GC_INTERVAL_TIME = 86400
SESSION_LIFE_TIME = 86400
SAME_SITE = lax

[session.foo]
PROVIDER = redis

[markup.asciidoc]
ENABLED = false
FILE_EXTENSIONS = .adoc,.asciidoc
RENDER_COMMAND = "asciidoc --out-file=- -"
`;

const GITEA_OPTIONS = {
  provider: 'file',
  providerConfig: 'data/sessions',
  cookieName: 'i_like_gitea',
  secure: false,
  gcInterval: 86400,
  maxLifetime: 86400,
  sameSite: 'lax',
};

describe('config: parseIni dialects', () => {
  it('a gitea app.ini gives exactly its [session] keys and skips every other section', () => {
    assert.deepEqual(parseIni(GITEA_APP_INI), GITEA_OPTIONS);
  });

  it('a macaron [session] section maps SECURE, MAX_LIFE_TIME, ID_LENGTH and an empty DOMAIN', () => {
    const text = session(
      'PROVIDER = redis',
      'PROVIDER_CONFIG = network=tcp,addr=127.0.0.1:6379,password=macaron,db=0,pool_size=100,idle_timeout=180,prefix=session:',
      'COOKIE_NAME = MacaronSession',
      'COOKIE_PATH = /',
      'GC_INTERVAL_TIME = 3600',
      'MAX_LIFE_TIME = 7200',
      'SECURE = true',
      'COOKIE_LIFE_TIME = 0',
      'DOMAIN =',
      'ID_LENGTH = 32',
      'COOKIE_SAME_SITE = strict',
    );
    assert.deepEqual(parseIni(text), {
      provider: 'redis',
      providerConfig: 'network=tcp,addr=127.0.0.1:6379,password=macaron,db=0,pool_size=100,idle_timeout=180,prefix=session:',
      cookieName: 'MacaronSession',
      cookiePath: '/',
      gcInterval: 3600,
      maxLifetime: 7200,
      secure: true,
      cookieLifeTime: 0,
      domain: '',
      idLength: 32,
      sameSite: 'strict',
    });
  });

  it('beego Session* spellings map to the options and SessionOn is checked but not returned', () => {
    const text = session(
      'SessionOn = true',
      'SessionProvider = redis',
      'SessionName = beegosessionID',
      'SessionGCMaxLifetime = 3600',
      'SessionProviderConfig = 127.0.0.1:6379,100,astaxie',
      'SessionCookieLifeTime = 3600',
      'SessionDomain = example.com',
      'SessionCookieSameSite = Strict',
    );
    assert.deepEqual(parseIni(text), {
      provider: 'redis',
      cookieName: 'beegosessionID',
      maxLifetime: 3600,
      providerConfig: '127.0.0.1:6379,100,astaxie',
      cookieLifeTime: 3600,
      domain: 'example.com',
      sameSite: 'strict',
    });
    contains(thrown(() => parseIni(session('SessionOn = sometimes'))).message, 'SessionOn');
    assert.deepEqual(parseIni(session('SessionSameSite = none', 'secure = on')), { sameSite: 'none', secure: true });
  });

  it('section "" reads the keys before the first header, as in a session-only beego app.conf', () => {
    const text = 'SessionProvider = memory\nSessionName = gosessionid\n\n[dev]\nhttpport = 8080\n';
    assert.deepEqual(parseIni(text, { section: '' }), { provider: 'memory', cookieName: 'gosessionid' });
    assert.deepEqual(parseIni('[prod]\nSessionName = prodsid\n', { section: 'prod' }), { cookieName: 'prodsid' });
  });

  it('every camelCase ManagerOptions name that fits a file is accepted', () => {
    const text = session(
      'provider = memory',
      'providerConfig =',
      'cookieName = app_sid',
      'cookiePath = /app',
      'domain = example.com',
      'secure = true',
      'httpOnly = false',
      'sameSite = none',
      'cookieLifeTime = 1h',
      'gcInterval = 15m',
      'maxLifetime = 7200',
      'absoluteLifetime = 24h',
      'touchInterval = 30s',
      'idLength = 64',
      `secret = ${SECRET_A}, ${SECRET_B}`,
      'idHeader = X-Session-Id',
      'cacheControl = private, no-store',
      'maxRecordSize = 65536',
      'maxRetries = 10',
      'onStoreError = continue',
    );
    assert.deepEqual(parseIni(text), {
      provider: 'memory',
      providerConfig: '',
      cookieName: 'app_sid',
      cookiePath: '/app',
      domain: 'example.com',
      secure: true,
      httpOnly: false,
      sameSite: 'none',
      cookieLifeTime: 3600,
      gcInterval: 900,
      maxLifetime: 7200,
      absoluteLifetime: 86400,
      touchInterval: 30,
      idLength: 64,
      secret: [SECRET_A, SECRET_B],
      idHeader: 'X-Session-Id',
      cacheControl: 'private, no-store',
      maxRecordSize: 65536,
      maxRetries: 10,
      onStoreError: 'continue',
    });
  });

  it('keys match case-insensitively and ignoring underscores', () => {
    for (const key of ['PROVIDER_CONFIG', 'providerConfig', 'provider_config', 'ProviderConfig', 'PROVIDERCONFIG', '_provider__config_']) {
      assert.deepEqual(parseIni(session(`${key} = data/sessions`)), { providerConfig: 'data/sessions' }, key);
    }
  });

  it('seconds keys take bare seconds and Go durations and hold seconds', () => {
    const cases: Array<[string, number]> = [['86400', 86400], ['1.5', 1.5], ['30s', 30], ['15m', 900], ['1h', 3600], ['2500ms', 2.5], [' 45 ', 45]];
    for (const [text, expected] of cases) {
      assert.deepEqual(parseIni(session(`SESSION_LIFE_TIME = ${text}`)), { maxLifetime: expected }, text);
    }
  });

  it('booleans are true/false, 1/0, yes/no, on/off in any case', () => {
    const cases: Array<[string, boolean]> = [['true', true], ['TRUE', true], ['1', true], ['Yes', true], ['on', true], ['false', false], ['0', false], ['no', false], ['OFF', false]];
    for (const [text, expected] of cases) {
      assert.deepEqual(parseIni(session(`COOKIE_SECURE = ${text}`)), { secure: expected }, text);
    }
  });

  it('SECRET is one string, or an array when comma-separated for rotation', () => {
    assert.deepEqual(parseIni(session(`SECRET = ${SECRET_A}`)), { secret: SECRET_A });
    assert.deepEqual(parseIni(session(`SECRET = ${SECRET_A},${SECRET_B}`)), { secret: [SECRET_A, SECRET_B] });
  });

  it('false turns SAME_SITE and CACHE_CONTROL off', () => {
    assert.deepEqual(parseIni(session('SAME_SITE = false', 'CACHE_CONTROL = false')), { sameSite: false, cacheControl: false });
  });

  it('a custom section is read instead of [session], and dotted sections are separate', () => {
    const text = `${GITEA_APP_INI}\n[session.admin]\nCOOKIE_NAME = admin_sid\nSESSION_LIFE_TIME = 15m\n`;
    assert.deepEqual(parseIni(text, { section: 'session.admin' }), { cookieName: 'admin_sid', maxLifetime: 900 });
    assert.deepEqual(parseIni(text), GITEA_OPTIONS);
    assert.deepEqual(parseIni('[auth]\nCOOKIE_NAME = x\n', { section: 'auth' }), { cookieName: 'x' });
  });

  it('section names match case-insensitively and a repeated header continues the section', () => {
    assert.deepEqual(parseIni('[Session]\nPROVIDER = memory\n[other]\nX = 1\n[ session ]\nCOOKIE_NAME = s2\n'), { provider: 'memory', cookieName: 's2' });
  });

  it('an empty [session] section gives no options', () => {
    assert.deepEqual(parseIni('[session]\n; nothing set\n[server]\nHTTP_PORT = 3000\n'), {});
  });

  it('lines of other sections are not validated, only their headers', () => {
    assert.deepEqual(parseIni('[markup]\nthis line is not an entry\nX: y\n[session]\nPROVIDER = memory\n'), { provider: 'memory' });
    const error = thrown(() => parseIni('[server\nX = 1\n[session]\n'));
    assert.equal(error.message, 'session: line 1 is not a well-formed [section] header');
  });
});

describe('config: parseIni comments, quoting and line endings', () => {
  it('full-line ; and # comments are skipped, also indented', () => {
    assert.deepEqual(parseIni(session('; PROVIDER = redis', '# PROVIDER = mysql', '   ; COOKIE_NAME = x', 'PROVIDER = memory')), { provider: 'memory' });
  });

  it('in an unquoted value, ; or # after a blank starts a comment but a # inside a word is kept', () => {
    assert.deepEqual(parseIni(session('COOKIE_NAME = sid ; the cookie', 'COOKIE_PATH = /a#b', 'PROVIDER = memory # default')), {
      cookieName: 'sid',
      cookiePath: '/a#b',
      provider: 'memory',
    });
    assert.deepEqual(parseIni(session('DOMAIN = ;nothing')), { domain: '' });
  });

  it('"…" and backtick quotes keep blanks, ; and # literally and may be followed by a comment', () => {
    const text = session(
      'PROVIDER_CONFIG = "  spaced ; semi # hash  "',
      'CACHE_CONTROL = `no-store; x="y"` ; a comment after the quote',
      'COOKIE_NAME = "quoted"',
    );
    assert.deepEqual(parseIni(text), { providerConfig: '  spaced ; semi # hash  ', cacheControl: 'no-store; x="y"', cookieName: 'quoted' });
  });

  it('= splits at the first =, so values may hold =', () => {
    assert.deepEqual(parseIni(session('PROVIDER_CONFIG = a=1,b=2')), { providerConfig: 'a=1,b=2' });
  });

  it('an unterminated quote or text after the closing quote is an error with its line', () => {
    assert.equal(thrown(() => parseIni(session('COOKIE_NAME = "abc'))).message, 'session: line 2 has an unterminated " quote in the value of COOKIE_NAME');
    assert.equal(thrown(() => parseIni(session('PROVIDER = `memory` extra'))).message, 'session: line 2 has text after the closing quote of PROVIDER');
  });

  it('= or :, whichever comes first, separates a key from its value, as in go-ini', () => {
    assert.deepEqual(parseIni(session('PROVIDER: postgres', 'PROVIDER_CONFIG: postgres://app:pw@db/app?sslmode=disable', 'CACHE_CONTROL = a=b:c')), 
      { provider: 'postgres', providerConfig: 'postgres://app:pw@db/app?sslmode=disable', cacheControl: 'a=b:c' },
    );
    assert.equal(thrown(() => parseIni(session('= memory'))).message, 'session: line 2 has no key before "="');
    assert.equal(thrown(() => parseIni(session(': memory'))).message, 'session: line 2 has no key before ":"');
    assert.equal(thrown(() => parseIni(session('PROVIDER = memory', 'just words'))).message, 'session: line 3 is neither a [section], a comment nor key = value');
  });

  it('a value ending in a backslash continues on the next line, as in go-ini', () => {
    const text = session(
      'PROVIDER_CONFIG = user=app \\',
      '    password=pw; host=db \\',
      '  port=5432',
      'COOKIE_NAME = sid',
    );
    assert.deepEqual(parseIni(text), { providerConfig: 'user=app password=pw; host=db port=5432', cookieName: 'sid' });
    assert.deepEqual(parseIni(session('PROVIDER_CONFIG = a\\', '', 'COOKIE_NAME = b')), { providerConfig: 'a', cookieName: 'b' }, 'a blank line ends it');
    assert.deepEqual(parseIni(session('PROVIDER_CONFIG = a\\')), { providerConfig: 'a' }, 'so does the end of the text');
    assert.deepEqual(parseIni(session('PROVIDER_CONFIG = "a\\"', 'COOKIE_NAME = b')), { providerConfig: 'a\\', cookieName: 'b' }, 'a quoted value is not continued');
    contains(thrown(() => parseIni(session('PROVIDER_CONFIG = a\\', 'b', 'COOKIE_SECURE = maybe'))).message, 'line 4: COOKIE_SECURE');
  });

  it('CRLF and lone CR line endings count lines the same as LF', () => {
    assert.deepEqual(parseIni(GITEA_APP_INI.replace(/\n/g, '\r\n')), GITEA_OPTIONS);
    assert.deepEqual(parseIni(GITEA_APP_INI.replace(/\n/g, '\r')), GITEA_OPTIONS);
    contains(thrown(() => parseIni('[session]\r\nPROVIDER = memory\r\nCOOKIE_SECURE = maybe\r\n')).message, 'line 3');
  });

  it('a leading UTF-8 BOM is ignored', () => {
    assert.deepEqual(parseIni('\uFEFF[session]\nPROVIDER = memory\n'), { provider: 'memory' });
  });
});

describe('config: parseIni refuses bad input (checklist row 52)', () => {
  it('a missing [session] section is an error naming the section', () => {
    assert.equal(thrown(() => parseIni('[server]\nHTTP_PORT = 3000\n')).message, 'session: config has no [session] section');
    assert.equal(thrown(() => parseIni('')).message, 'session: config has no [session] section');
    assert.equal(thrown(() => parseIni(GITEA_APP_INI, { section: 'sessions' })).message, 'session: config has no [sessions] section');
  });

  it('a key given twice is an error naming the key and both lines', () => {
    const error = thrown(() => parseIni(session('COOKIE_NAME = a', 'PROVIDER = memory', 'COOKIE_NAME = b')));
    assert.equal(error.message, 'session: COOKIE_NAME is given twice (lines 2 and 4)');
  });

  it('two spellings of one option are an error naming both', () => {
    assert.equal(thrown(() => parseIni(session('SESSION_LIFE_TIME = 3600', 'MAX_LIFE_TIME = 7200'))).message, 
      'session: SESSION_LIFE_TIME (line 2) and MAX_LIFE_TIME (line 3) both set maxLifetime; keep one',
    );
    contains(thrown(() => parseIni(session('cookie_name = a', 'COOKIE_NAME = b'))).message, 'cookie_name (line 2) and COOKIE_NAME (line 3)');
    contains(thrown(() => parseIni(session('SECURE = true', 'COOKIE_SECURE = true'))).message, 'SECURE (line 2) and COOKIE_SECURE (line 3)');
  });

  it('a non-boolean SECURE / COOKIE_SECURE is an error naming the key as written and its line', () => {
    assert.equal(thrown(() => parseIni(session('PROVIDER = memory', 'COOKIE_SECURE = maybe'))).message, 
      'session: line 3: COOKIE_SECURE must be true or false, got "maybe"',
    );
    assert.equal(thrown(() => parseIni(session('SECURE = 2'))).message, 'session: line 2: SECURE must be true or false, got "2"');
    assert.equal(thrown(() => parseIni(session('HTTP_ONLY ='))).message, 'session: line 2: HTTP_ONLY must be true or false, got ""');
  });

  it('zero or negative lifetimes are errors naming the key and line', () => {
    assert.equal(thrown(() => parseIni(session('MAX_LIFE_TIME = 0'))).message, 
      'session: line 2: MAX_LIFE_TIME must be a positive number of seconds or a duration such as 30s, 15m or 1h, got 0',
    );
    contains(thrown(() => parseIni(session('SESSION_LIFE_TIME = 0s'))).message, 'line 2: SESSION_LIFE_TIME must be a positive');
    assert.equal(thrown(() => parseIni(session('SESSION_LIFE_TIME = -1'))).message, 'session: line 2: SESSION_LIFE_TIME must not be negative, got "-1"');
    contains(thrown(() => parseIni(session('GC_INTERVAL_TIME = -60'))).message, 'line 2: GC_INTERVAL_TIME must not be negative');
    contains(thrown(() => parseIni(session('COOKIE_LIFE_TIME = -5'))).message, 'line 2: COOKIE_LIFE_TIME must not be negative');
    contains(thrown(() => parseIni(session('ABSOLUTE_LIFETIME = 0'))).message, 'line 2: ABSOLUTE_LIFETIME must be a positive');
    assert.equal(thrown(() => parseIni(session('SessionGCMaxLifetime = soon'))).message, 
      'session: line 2: SessionGCMaxLifetime must be seconds or a duration such as 30s, 15m or 1h, got "soon"',
    );
  });

  it('ID_LENGTH below 32 (macaron writes 16) is refused saying it is below the 128-bit floor and what to write', () => {
    for (const key of ['ID_LENGTH', 'IdLength']) {
      assert.equal(thrown(() => parseIni(session(`${key} = 16`))).message, 
        `session: line 2: ${key} 16 gives 64-bit ids, below the 128-bit minimum of OWASP's session management cheat sheet; use 32 (the default) or more, up to 128, or leave it out`,
      );
    }
  });

  it('ID_LENGTH odd, above 128 or not a number is an error naming the key and line', () => {
    assert.equal(thrown(() => parseIni(session('ID_LENGTH = 33'))).message, 'session: line 2: ID_LENGTH must be an even number from 32 to 128 hex characters, got 33');
    contains(thrown(() => parseIni(session('ID_LENGTH = 130'))).message, 'line 2: ID_LENGTH');
    assert.equal(thrown(() => parseIni(session('ID_LENGTH = 32.0'))).message, 'session: line 2: ID_LENGTH must be a whole number, got "32.0"');
  });

  it('an unknown SAME_SITE is an error listing the allowed values, and none needs COOKIE_SECURE', () => {
    assert.equal(thrown(() => parseIni(session('SAME_SITE = sideways'))).message, 
      'session: line 2: SAME_SITE must be one of lax, strict, none, false, got "sideways"',
    );
    assert.equal(thrown(() => parseIni(session('COOKIE_SECURE = false', 'SAME_SITE = none'))).message, 
      'session: line 3: SAME_SITE "none" requires secure: true',
    );
  });

  it('an unknown key is an error naming it and suggesting the closest known key', () => {
    assert.equal(thrown(() => parseIni(session('COOKIE_NAM = sid'))).message, 
      'session: line 2: unknown key COOKIE_NAM in [session] (did you mean COOKIE_NAME?)',
    );
    assert.match(thrown(() => parseIni(session('HTTP_PORT = 3000'))).message, /^session: line 2: unknown key HTTP_PORT in \[session\]/);
    assert.equal(thrown(() => parseIni(session('FAVOURITE_COLOUR = blue'))).message, 'session: line 2: unknown key FAVOURITE_COLOUR in [session]');
  });

  it('empty values are refused where a default would otherwise slip in', () => {
    assert.equal(thrown(() => parseIni(session('PROVIDER ='))).message, 'session: line 2: PROVIDER must not be empty, got ""');
    contains(thrown(() => parseIni(session('GC_INTERVAL_TIME ='))).message, 'line 2: GC_INTERVAL_TIME must be seconds');
    contains(thrown(() => parseIni(session('MAX_RETRIES ='))).message, 'line 2: MAX_RETRIES must be a whole number');
  });

  it('what resolveOptions refuses is reported at the key and line that set it', () => {
    assert.equal(thrown(() => parseIni(session('PROVIDER = memory', 'COOKIE_NAME = a;b'))).message, 
      'session: line 3: COOKIE_NAME "a;b" is not a valid cookie name',
    );
    contains(thrown(() => parseIni(session('maxRetries = 0'))).message, 'line 2: maxRetries must be a positive whole number');
    contains(thrown(() => parseIni(session('ON_STORE_ERROR = retry'))).message, 'line 2: ON_STORE_ERROR must be one of fail, continue');
  });

  it('a bad SECRET names the key and line but never its value', () => {
    const short = 'tooShortSecretValue';
    const error = thrown(() => parseIni(session('PROVIDER = memory', `SECRET = ${short}`)));
    assert.equal(error.message, 'session: line 3: SECRET must be a string of at least 32 characters');
    lacks(String((error.cause as Error | undefined)?.message), short);
    const empty = thrown(() => parseIni(session(`SECRET = ${SECRET_A},,${SECRET_B}`)));
    assert.equal(empty.message, 'session: line 2: SECRET must be a comma-separated list without empty entries');
    for (const line of [`SECRET ${SECRET_A}`, `SECRET = "${SECRET_A}`, `SECRET = "${SECRET_A}" x`, `SECRTE = ${SECRET_A}`]) {
      const message = thrown(() => parseIni(session(line))).message;
      contains(message, 'line 2');
      lacks(message, SECRET_A);
    }
  });

  it('a duplicated PROVIDER_CONFIG never shows the password it holds', () => {
    const error = thrown(() => parseIni(session('PROVIDER_CONFIG = redis://:hunter2secret@127.0.0.1:6379/0', 'PROVIDER_CONFIG = x')));
    assert.equal(error.message, 'session: PROVIDER_CONFIG is given twice (lines 2 and 3)');
  });
});

describe("config: the Go libraries' option names", () => {
  it("macaron's session.Options field names are keys too, Gclifetime being GC_INTERVAL_TIME", () => {
    const text = session(
      'Provider = file', 'ProviderConfig = data/sessions', 'CookieName = MacaronSession', 'CookiePath = /',
      'Gclifetime = 600', 'Maxlifetime = 1200', 'Secure = false', 'CookieLifeTime = 0', 'Domain =', 'IdLength = 32', 'Section = session',
    );
    assert.deepEqual(parseIni(text), {
      provider: 'file', providerConfig: 'data/sessions', cookieName: 'MacaronSession', cookiePath: '/', gcInterval: 600,
      maxLifetime: 1200, secure: false, cookieLifeTime: 0, domain: '', idLength: 32,
    });
  });

  it('SECTION is accepted when it names the section it is in, and otherwise says how to read that section', () => {
    assert.deepEqual(parseIni('[web_session]\nSECTION = Web_Session\n', { section: 'web_session' }), {});
    assert.equal(thrown(() => parseIni(session('SECTION = web_session'))).message, 
      'session: line 2: SECTION = "web_session" names another section than [session], the one being read; to read [web_session], pass { section: "web_session" } to loadIni or --section to the sessionkit command',
    );
  });

  it("beego's hashfunc/hashkey and iris's delim are refused saying why and what to write instead", () => {
    for (const key of ['hashfunc', 'SessionHashFunc', 'SessionIDHashFunc', 'hashkey', 'SessionHashKey']) {
      assert.match(thrown(() => parseIni(session(`${key} = sha1`))).message, 
        new RegExp(`^session: line 2: ${key} is not a setting here: beego hashed new ids with it; .*remove it \\(to sign the cookie, set secret\\)$`),
      );
    }
    assert.match(thrown(() => parseIni(session('delim = -'))).message, /^session: line 2: delim is not a setting here: iris's Delim .*prefix=session:\)$/);
    assert.match(thrown(() => parseIni(session('SessionIDLength = 16'))).message, /counts random bytes.*beego's 16 is idLength 32/);
  });

  it('a cross-option error points at the line of the option it is about, also when its message starts with another word', () => {
    assert.equal(thrown(() => parseIni(session('PROVIDER = memory', 'COOKIE_NAME = __Host-sid'))).message, 
      'session: line 3: COOKIE_NAME: a __Host- cookie needs secure: true, no domain and cookiePath "/"',
    );
  });
});

describe('config: loadIni', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sessionkit-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loadIni reads a file as parseIni reads its text', async () => {
    const path = join(dir, 'app.ini');
    await writeFile(path, '\uFEFF' + GITEA_APP_INI.replace(/\n/g, '\r\n'));
    assert.deepEqual(await loadIni(path), GITEA_OPTIONS);
    assert.deepEqual(await loadIni(path, { section: 'session.foo' }), { provider: 'redis' });
  });

  it('loadIni positions errors as path:line', async () => {
    const path = join(dir, 'bad.ini');
    await writeFile(path, session('PROVIDER = memory', 'COOKIE_SECURE = maybe', 'PROVIDER = file'));
    const error = await loadIni(path).then(() => undefined, (err: unknown) => err);
    assert.ok(error instanceof SessionError);
    assert.equal((error as SessionError).message, `session: ${path}:3: COOKIE_SECURE must be true or false, got "maybe"`);
    await writeFile(path, '[server]\n');
    const missing = await loadIni(path).then(() => undefined, (err: unknown) => err);
    assert.equal((missing as SessionError).message, `session: config ${path} has no [session] section`);
  });

  it('loadIni of a missing file is a SessionError naming the path', async () => {
    const path = join(dir, 'nope', 'app.ini');
    const error = await loadIni(path).then(() => undefined, (err: unknown) => err);
    assert.ok(error instanceof SessionError);
    assert.equal((error as SessionError).code, 'ERR_SESSION_CONFIG');
    assert.equal((error as SessionError).message, `session: cannot read config file ${JSON.stringify(path)} (ENOENT)`);
  });

  it('loadIni refuses a file that is not UTF-8', async () => {
    const path = join(dir, 'latin1.ini');
    await writeFile(path, Buffer.from([0x5b, 0x73, 0x5d, 0x0a, 0x41, 0x3d, 0xe9, 0x0a]));
    const error = await loadIni(path).then(() => undefined, (err: unknown) => err);
    assert.equal((error as SessionError).message, `session: config file ${JSON.stringify(path)} is not valid UTF-8`);
  });
});

describe('config: the key table, the example file and the README', () => {
  const fileOptions = [
    'provider', 'providerConfig', 'cookieName', 'cookiePath', 'domain', 'secure', 'httpOnly', 'sameSite', 'cookieLifeTime',
    'gcInterval', 'maxLifetime', 'absoluteLifetime', 'touchInterval', 'idLength', 'secret', 'idHeader', 'cacheControl',
    'maxRecordSize', 'maxRetries', 'storeTimeout', 'onStoreError', 'saveUninitialized', 'flashProperty',
  ];

  it('the table has one row for every ManagerOptions field that fits a file, plus the ignored SECTION and SESSION_ON', () => {
    assert.deepEqual(KEYS.flatMap((row) => (row.option === undefined ? [] : [row.option])).sort(), [...fileOptions].sort());
    assert.deepEqual(KEYS.filter((row) => row.option === undefined).map((row) => row.name), ['SECTION', 'SESSION_ON']);
  });

  it('the table defaults are the DEFAULTS of ManagerOptions', () => {
    assert.deepEqual(keyDefaults(), { ...DEFAULTS });
  });

  it('no spelling belongs to two rows, and every macaron/gitea/beego key is accepted', () => {
    const all = KEYS.flatMap((row) => spellings(row).map(normalizeKey));
    assert.equal(new Set(all).size, all.length);
    const lineage = [
      'PROVIDER', 'PROVIDER_CONFIG', 'COOKIE_NAME', 'COOKIE_PATH', 'COOKIE_SECURE', 'SECURE', 'COOKIE_LIFE_TIME', 'GC_INTERVAL_TIME',
      'MAX_LIFE_TIME', 'SESSION_LIFE_TIME', 'SAME_SITE', 'COOKIE_SAME_SITE', 'DOMAIN', 'ID_LENGTH', 'SessionOn', 'SessionProvider',
      'SessionName', 'SessionGCMaxLifetime', 'SessionProviderConfig', 'SessionCookieLifeTime', 'SessionDomain', 'SessionSameSite',
      'SessionCookieSameSite',
    ];
    for (const key of lineage) assert.notEqual(findKey(key), undefined, key);
    assert.equal(findKey('SESSION_LIFE_TIME')?.option, 'maxLifetime');
    assert.equal(findKey('GC_INTERVAL_TIME')?.option, 'gcInterval');
  });

  it('session.example.ini is the rendering of the table (regenerate it with renderExample)', async () => {
    assert.equal(await readFile(new URL('session.example.ini', configDir), 'utf8'), renderExample());
  });

  it('session.example.ini parses to exactly the table defaults', async () => {
    const example = await readFile(new URL('session.example.ini', configDir), 'utf8');
    assert.deepEqual(parseIni(example), keyDefaults());
  });

  it('every table key appears in session.example.ini, commented out only when it has no default', async () => {
    const example = await readFile(new URL('session.example.ini', configDir), 'utf8');
    for (const row of KEYS) {
      const prefix = row.default === undefined ? '; ' : '';
      assert.match(example, new RegExp(`^${prefix}${row.name} =`, 'm'));
    }
  });

  it('config/README.md holds the table rendered by describeKeys, naming every spelling', async () => {
    const readme = await readFile(new URL('README.md', configDir), 'utf8');
    const section = /<!-- keys:start -->\n([\s\S]*)<!-- keys:end -->/.exec(readme)?.[1];
    assert.equal(section, describeKeys());
    for (const row of KEYS) for (const spelling of spellings(row)) contains(section ?? '', `\`${spelling}\``);
  });

  it('the parsed example and the gitea section are accepted by createManager', async () => {
    for (const options of [parseIni(renderExample()), { ...parseIni(GITEA_APP_INI), provider: 'memory', providerConfig: '' }]) {
      const manager = await createManager(options);
      await manager.close();
    }
  });
});

describe('config: properties', () => {
  const lineArb = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom('[session]', '[server]', '[session', '[]', '; c', '# c', '', ' = x', 'x: y'),
    fc.tuple(
      fc.constantFrom(...KEYS.flatMap(spellings), 'UNKNOWN', 'cookie__name'),
      fc.constantFrom(' = ', '=', ' : '),
      fc.oneof(
        fc.string({ maxLength: 20 }),
        fc.constantFrom('0', '-1', '16', '32', 'true', 'maybe', 'none', 'lax', '1h', '"q"', '`b` ;c', '"open', ''),
      ),
    ).map(([key, sep, value]) => `${key}${sep}${value}`),
  );

  it('parseIni throws nothing but SessionError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 12 }), fc.constantFrom('\n', '\r\n', '\r'), fc.constantFrom('session', '', 'server'), (lines, eol, section) => {
        try {
          parseIni(lines.join(eol), { section });
        } catch (err) {
          if (!(err instanceof SessionError) || err.code !== 'ERR_SESSION_CONFIG' || !err.message.startsWith('session: ')) throw err;
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a secret value never appears in an error message', () => {
    const secretArb = fc.stringMatching(/^[A-Za-z0-9]{6,40}$/).map((s) => `Zq9${s}`);
    const scenarios = [
      (s: string) => [`SECRET = ${s.slice(0, 31)}`],
      (s: string) => [`SECRET = ${s},,${SECRET_A}`],
      (s: string) => [`SECRET = "${s}`],
      (s: string) => [`SECRET = \`${s}\` tail`],
      (s: string) => [`SECRET ${s}`],
      (s: string) => [`SECRET = ${s}`, `secret = ${s}`],
      (s: string) => [`SECRTE = ${s}`],
      (s: string) => [`PROVIDER_CONFIG = redis://:${s}@127.0.0.1:6379/0`, `PROVIDER_CONFIG = ${s}`],
      (s: string) => [`SECRET = ${s.padEnd(32, 'x')}`, 'COOKIE_SECURE = maybe'],
      (s: string) => [`SECRET = ${s.padEnd(32, 'x')}`, 'SAME_SITE = none'],
      (s: string) => [`SECRET = ${SECRET_A}, ${s.slice(0, 20)}`],
    ];
    fc.assert(
      fc.property(secretArb, fc.nat({ max: scenarios.length - 1 }), fc.constantFrom('\n', '\r\n'), (secret, index, eol) => {
        const text = ['[session]', 'PROVIDER = memory', ...scenarios[index]!(secret)].join(eol);
        const error = thrown(() => parseIni(text));
        const cause = error.cause instanceof Error ? error.cause.message : '';
        return !error.message.includes(secret.slice(0, 9)) && !cause.includes(secret.slice(0, 9));
      }),
      { numRuns: 200 },
    );
  });
});
