/** MASK replaces every redacted value. */
export const MASK = '***';

const SENSITIVE_FIELD = /pass|secret|token|credential|apikey|api_key/i;

/**
 * sensitiveValues collects the non-empty string values of fields named like a password, secret
 * or token anywhere in `parsed` (a provider's `parseConfig` result), so they can be masked
 * wherever they appear in the raw text — also in positional forms such as beego's redis CSV
 * `addr,pool,password,db`, which no pattern can recognise.
 */
export function sensitiveValues(parsed: unknown): string[] {
  const found: string[] = [];
  const walk = (value: unknown, depth: number) => {
    if (depth > 8 || value === null || typeof value !== 'object') return;
    for (const [key, item] of Object.entries(value)) {
      if (typeof item === 'string' && item !== '' && SENSITIVE_FIELD.test(key)) found.push(item);
      else walk(item, depth + 1);
    }
  };
  walk(parsed, 0);
  return found;
}

/**
 * scrub replaces every occurrence of each value in `values` (and of its percent-encoded form) in
 * `text` with {@link MASK}. Longer values go first so one value inside another leaves no tail.
 */
export function scrub(text: string, values: Iterable<string>): string {
  let out = text;
  for (const value of [...new Set(values)].filter((v) => v !== '').sort((a, b) => b.length - a.length)) {
    for (const form of new Set([value, encodeURIComponent(value)])) out = out.split(form).join(MASK);
  }
  return out;
}

/**
 * redactProviderConfig masks the passwords of a provider config string for display: the values
 * in `known` (see {@link sensitiveValues}), a URL's `user:password@`, go-sql-driver's leading
 * `user:password@`, `password=…` style pairs (macaron, lib/pq, URL queries) and JSON
 * `"password": "…"` (beego). Empty passwords stay empty; paths and hosts are kept.
 */
export function redactProviderConfig(config: string, known: Iterable<string> = []): string {
  const masked = scrub(config, known).replace(/(\/\/[^/@:\s]*:)[^@/\s]+@/g, `$1${MASK}@`);
  // go-sql-driver's `user:password@tcp(host)/db` has no scheme; a URL's userinfo is handled above.
  const sqlDriver = /^\s*[a-z][\w+.-]*:\/\//i.test(masked) ? masked : masked.replace(/^(\s*[^:@/\s(]+):[^@\s]+@/, `$1:${MASK}@`);
  return sqlDriver
    .replace(/("[\w-]*(?:pass|secret|token)[\w-]*"\s*:\s*)"(?:[^"\\]|\\.)+"/gi, `$1"${MASK}"`)
    .replace(/(\b[\w-]*(?:pass|pwd|secret|token)[\w-]*\s*=\s*)('(?:[^'\\]|\\.)+'|[^\s,;&'][^\s,;&]*)/gi, `$1${MASK}`);
}
