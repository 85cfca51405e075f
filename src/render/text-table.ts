// Plain-text tables: the ASCII layout the mail format uses (printable ASCII, at most 72
// columns, titles wrapped, columns split over several tables), and the one cli-table3 box
// style of the terminal tables.

import Table from 'cli-table3';

export const MAIL_WIDTH = 72;
/** Header lines a variant label may wrap onto before it is cut short. */
const MAX_HEADER_LINES = 3;

/** Printable ASCII only: accents dropped, typographic punctuation straightened, rest '?'. */
export function toAscii(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\u2018\u2019\u201a\u2032]/g, "'")
    .replace(/[\u201c\u201d\u201e\u2033]/g, '"')
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/\u2026/g, '...')
    .replace(/\u00b5|\u03bc/g, 'u')
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
}

/** Greedy word wrap; words longer than a line are split. Lines carry no trailing space. */
export function wrap(text: string, width: number, indent = ''): string[] {
  const room = Math.max(1, width - indent.length);
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(' ').filter((w) => w !== '')) {
    while (word.length > room) {
      if (line !== '') {
        lines.push(line);
        line = '';
      }
      lines.push(word.slice(0, room));
      word = word.slice(room);
    }
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= room) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== '') lines.push(line);
  return lines.map((l) => `${indent}${l}`.trimEnd());
}

function fitCell(text: string, room: number): string {
  return text.length <= room ? text : `${text.slice(0, Math.max(0, room - 1))}~`;
}

function center(text: string, width: number): string {
  const left = Math.floor((width - text.length) / 2);
  return ' '.repeat(left) + text + ' '.repeat(width - text.length - left);
}

/** A title wrapped into at most MAX_HEADER_LINES lines of `room` columns. */
function wrapTitle(title: string, room: number): string[] {
  // A word too long for the column breaks after a hyphen ("guest-" / "observed") before anywhere else.
  const tooLong = title.split(' ').some((w) => w.length > room);
  const lines = tooLong ? wrap(title.replace(/(\w)-(\w)/g, '$1- $2'), room).map((l) => l.replace(/(\w)- (\w)/g, '$1-$2')) : wrap(title, room);
  if (lines.length <= MAX_HEADER_LINES) return lines;
  const kept = lines.slice(0, MAX_HEADER_LINES);
  const last = kept[MAX_HEADER_LINES - 1]!;
  kept[MAX_HEADER_LINES - 1] = last.length + 3 <= room ? `${last}...` : `${last.slice(0, Math.max(0, room - 3))}...`;
  return kept;
}

/**
 * Column widths (cell width including one space of padding each side) for the value columns,
 * or undefined if even cut-down cells cannot fit `avail` columns. Cells get what their widest
 * value needs; what is left goes to titles that would otherwise wrap.
 */
function columnWidths(titles: string[], cells: string[][], avail: number): number[] | undefined {
  const need = titles.map((_, c) => Math.max(5, ...cells.map((row) => (row[c] ?? '').length + 2)));
  const want = titles.map((t, c) => Math.max(need[c]!, t.length + 2));
  if (want.reduce((s, w) => s + w, 0) <= avail) return want;
  const widths = [...need];
  let slack = avail - widths.reduce((s, w) => s + w, 0);
  while (slack > 0) {
    // One column at a time to the title that currently wraps onto the most lines (then the one
    // furthest from fitting), so two long labels share the room instead of one taking it all.
    let best = -1;
    let bestLines = 0;
    let bestDeficit = 0;
    widths.forEach((w, c) => {
      const deficit = want[c]! - w;
      if (deficit <= 0) return;
      const lines = wrap(titles[c]!, w - 2).length;
      if (lines > bestLines || (lines === bestLines && deficit > bestDeficit)) {
        best = c;
        bestLines = lines;
        bestDeficit = deficit;
      }
    });
    if (best < 0) break;
    widths[best]!++;
    slack--;
  }
  while (slack < 0) {
    // too narrow even for the cells: take from the widest column; its cells are cut with '~'
    const widest = widths.indexOf(Math.max(...widths));
    if (widths[widest]! <= 5) return undefined;
    widths[widest]!--;
    slack++;
  }
  return widths;
}

/**
 * The table: `=` rule, title rows, `|---|` rule, body rows, `=` rule. `rows` are
 * [row label, ...one cell per column]. Too many columns for the width are split over several
 * tables, each repeating the row labels.
 */
export function renderTable(titles: string[], rows: string[][], width = MAIL_WIDTH): string[] {
  const cells = rows.map((r) => r.slice(1));
  const need = titles.map((_, c) => Math.max(5, ...cells.map((row) => (row[c] ?? '').length + 2)));
  const needed = need.reduce((s, w) => s + w, 0);
  // Row labels (phase names ...) get the room the cells leave, at least 24 columns' worth.
  const longest = Math.max(...rows.map((r) => (r[0] ?? '').length));
  const labelWidth = Math.min(longest, Math.max(24, width - 3 - titles.length - needed)) + 1;
  const avail = width - 1 - (labelWidth + 1) - titles.length;
  if (needed > avail && titles.length > 1) {
    // Cells that do not fit whole are split over several tables before any is cut short: as
    // many columns per table as fit, each table repeating the row labels.
    let fit = 0;
    for (let used = 0; fit < titles.length && used + need[fit]! + 1 <= avail + titles.length; fit++) used += need[fit]! + 1;
    fit = Math.max(1, fit);
    if (fit < titles.length) {
      const left = renderTable(titles.slice(0, fit), rows.map((r) => r.slice(0, fit + 1)), width);
      const right = renderTable(titles.slice(fit), rows.map((r) => [r[0] ?? '', ...r.slice(fit + 1)]), width);
      return [...left, '', ...right];
    }
  }
  const widths = columnWidths(titles, cells, avail);
  if (!widths) {
    if (titles.length <= 1) return rows.map((r) => fitCell(r.join(' '), width));
    const half = Math.ceil(titles.length / 2);
    const left = renderTable(titles.slice(0, half), rows.map((r) => r.slice(0, half + 1)), width);
    const right = renderTable(titles.slice(half), rows.map((r) => [r[0] ?? '', ...r.slice(half + 1)]), width);
    return [...left, '', ...right];
  }
  const total = 1 + labelWidth + 1 + widths.reduce((s, w) => s + w + 1, 0);
  const titleLines = titles.map((t, c) => wrapTitle(t, widths[c]! - 2));
  const titleHeight = Math.max(...titleLines.map((l) => l.length));
  const out: string[] = ['='.repeat(total)];
  for (let line = 0; line < titleHeight; line++) {
    const parts = titleLines.map((tl, c) => center(tl[line] ?? '', widths[c]!));
    out.push(`|${' '.repeat(labelWidth)}|${parts.join('|')}|`);
  }
  out.push(`|${'-'.repeat(total - 2)}|`);
  for (const row of rows) {
    const label = fitCell(row[0] ?? '', labelWidth - 1).padEnd(labelWidth);
    const parts = widths.map((w, c) => center(fitCell(row[c + 1] ?? '', w - 2), w));
    out.push(`|${label}|${parts.join('|')}|`);
  }
  out.push('='.repeat(total));
  return out;
}

type Align = 'left' | 'right' | 'center';

/** The terminal's box table: no rule between rows, so a 10-row table stays readable on one screen. */
export function boxTable(head: string[], rows: string[][], colAligns?: Align[]): string {
  const table = new Table({
    head,
    style: { head: [], border: [] },
    ...(colAligns && { colAligns }),
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const r of rows) table.push(r);
  return table.toString();
}
