// Terminal tables that fit the terminal: a box table wider than the terminal is laid out again
// the way the mail format does (titles wrapped, columns split over several tables), so nothing
// is cut and no line wraps into the next.

import { renderTable } from './text-table.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

const plain = (s: string) => s.replace(ANSI, '');

/** The terminal's width: COLUMNS when set (as shells and `COLUMNS=60 migdown ...` do), else a terminal's own; none for a pipe. */
export function terminalColumns(stream: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const fromEnv = Number(env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return stream.isTTY && stream.columns ? stream.columns : undefined;
}

/**
 * `boxed` as it is when it fits `columns` (or no width is known), else the same titles and
 * rows ([row label, ...cells]) as plain tables of at most `columns`.
 */
export function fitTable(boxed: string, titles: string[], rows: string[][], columns: number | undefined): string {
  if (!columns || Math.max(...boxed.split('\n').map((l) => plain(l).length)) <= columns) return boxed;
  return renderTable(titles.map(plain), rows.map((r) => r.map(plain)), Math.max(columns, 30)).join('\n');
}
