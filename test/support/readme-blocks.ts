/**
 * The fenced code blocks of a Markdown file, with what the README check needs to know of each.
 * A block is marked in its info string (```ts fragment, ```ini file=app.ini) or by an HTML comment
 * on the line before its fence (<!-- fragment -->, <!-- file: app.ini -->):
 * - `fragment`: part of a program (it uses a `req` or `manager` from elsewhere) or a shell command;
 *   shown, not checked;
 * - `file=<name>`: written under that name into the directory the runnable blocks run in, in order,
 *   so a later block can read it (an INI file) or import it;
 * - `needs=<host:port>[,…]`: the block talks to that server; where it is absent outside CI, the
 *   block is skipped with that reason (in CI the servers run).
 * Every other block in a language the check runs (ts, js) is a complete program.
 */

/** Block is one fenced code block. */
export interface Block {
  /** line is the 1-based line of the opening fence. */
  line: number;
  /** lang is the first word of the info string, lowercase ('' for none). */
  lang: string;
  /** heading is the text of the nearest heading above the block. */
  heading: string;
  fragment: boolean;
  file: string | undefined;
  /** needs are the `host:port` addresses of the servers the block talks to. */
  needs: string[];
  code: string;
}

/** RUNNABLE are the languages whose blocks the README check type-checks and runs. */
export const RUNNABLE = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs']);

/** readmeBlocks returns the fenced blocks of `markdown`, in order. */
export function readmeBlocks(markdown: string): Block[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: Block[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const title = /^#{1,6}\s+(.*?)\s*$/.exec(text);
    if (title) heading = title[1]!;
    const fence = /^(`{3,}|~{3,})\s*(.*)$/.exec(text);
    if (!fence) continue;
    const close = lines.findIndex((other, j) => j > i && other.trim().startsWith(fence[1]!) && /^[`~]+$/.test(other.trim()));
    const end = close === -1 ? lines.length : close;
    const words = fence[2]!.trim().split(/\s+/).filter(Boolean);
    const comment = /^<!--\s*(.*?)\s*-->$/.exec(lines[i - 1]?.trim() ?? '')?.[1] ?? '';
    const marks = [...words.slice(1), ...comment.split(/\s+/)].join(' ');
    blocks.push({
      line: i + 1,
      lang: (words[0] ?? '').toLowerCase(),
      heading,
      fragment: /(?:^|\s)fragment(?:\s|$)/.test(marks),
      file: /(?:^|\s)file(?:=|:\s*)(\S+)/.exec(marks)?.[1],
      needs: /(?:^|\s)needs=(\S+)/.exec(marks)?.[1]?.split(',') ?? [],
      code: lines.slice(i + 1, end).join('\n') + '\n',
    });
    i = end;
  }
  return blocks;
}
