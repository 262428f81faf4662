// The markdown table and the PASS/MISS verdicts.

/** Row is one line of the results table. */
export interface Row {
  figure: string;
  sessionkit: string;
  peer: string;
  ratio: string;
  target: string;
  verdict: 'PASS' | 'MISS' | '';
}

/** fmt prints a number with thousands separators and at most `digits` decimals. */
export function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** verdict is PASS when `ok`, MISS otherwise. */
export function verdict(ok: boolean): 'PASS' | 'MISS' {
  return ok ? 'PASS' : 'MISS';
}

/** table renders rows as a GitHub markdown table. */
export function table(rows: Row[]): string {
  const head = ['Figure', 'sessionkit', 'peer', 'ratio', 'target', ''];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${[r.figure, r.sessionkit, r.peer, r.ratio, r.target, r.verdict].join(' | ')} |`);
  return lines.join('\n');
}

/** median of a non-empty list. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
