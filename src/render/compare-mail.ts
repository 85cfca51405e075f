// The comparison as a plain-text table for a patch cover letter, laid out like the tables
// qemu-devel has long used ("|without this patch| with this patch|"). Mail clients and list
// archives mangle anything else, so the output is printable ASCII only, at most 72 columns,
// with no tabs, no trailing spaces and no colour. The formatting helpers are exported for the
// markdown and CSV renderers, so all formats word numbers the same way.

import { shortKvmHostFacts } from '../qemu/host-facts.js';
import type { Comparison, Verdict } from '../stats/compare.js';
import { metricOf, type CompareReport, type MetricReport, type VariantReport } from '../stats/report.js';
import { hasValues, OUTLIER_Z, type Summary } from '../stats/summary.js';
import { plural } from '../util/plural.js';

export const MAIL_WIDTH = 72;
/** What the two columns are called unless the user named them; the wording of the seed's table. */
export const DEFAULT_LABELS: readonly [string, string] = ['without this patch', 'with this patch'];
/** Header lines a variant label may wrap onto before it is cut short. */
const MAX_HEADER_LINES = 3;

export interface MailOptions {
  /** column titles, overriding the variants' labels */
  labels?: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Number wording shared by the renderers

/** A plain number with precision that suits milliseconds: 35, 35.5, 4.25, 135. */
export function formatNumber(v: number): string {
  const a = Math.abs(v);
  let s = Number.isInteger(v) ? String(v) : v.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

export function formatMs(v: number): string {
  return `${formatNumber(v)}ms`;
}

/** With an explicit sign, because a change without one is ambiguous in a table. */
export function formatSignedMs(v: number): string {
  const s = formatNumber(v);
  return `${v > 0 && s !== '0' ? '+' : ''}${s}ms`;
}

export function formatPct(v: number): string {
  const s = v.toFixed(1);
  const clean = s === '-0.0' ? '0.0' : s;
  return `${v > 0 && clean !== '0.0' ? '+' : ''}${clean}%`;
}

export function formatP(p: number): string {
  return p < 0.001 ? '<0.001' : p.toFixed(3);
}

export function formatRange(lo: number, hi: number): string {
  return `${formatNumber(lo)}-${formatNumber(hi)}ms`;
}

export function formatCI(ci: readonly [number, number]): string {
  return `${formatNumber(ci[0])} to ${formatNumber(ci[1])}ms`;
}

/** "95%" from 0.95, "97.5%" from 0.975 */
export function formatConfidence(c: number): string {
  return `${formatNumber(Math.round(c * 1000) / 10)}%`;
}

/** Short enough for a table cell; the report keeps the canonical wording. */
export function verdictText(v: Verdict): string {
  return v === 'no significant difference' ? 'not significant' : v;
}

/** "-31ms (-88.6%)" */
export function formatChange(c: Comparison): string | undefined {
  if (c.deltaMs === undefined) return undefined;
  return c.deltaPct === undefined ? formatSignedMs(c.deltaMs) : `${formatSignedMs(c.deltaMs)} (${formatPct(c.deltaPct)})`;
}

/** The cell for a variant's median of a metric: the number, or why there is none. */
export function medianCell(variant: VariantReport, summary: Summary | undefined): string {
  if (variant.trials === 0) return 'no trials';
  if (variant.allFailed) return `all ${variant.trials} failed`;
  if (!summary || !hasValues(summary)) return 'not recorded';
  return formatMs(summary.median);
}

export function rangeCell(summary: Summary | undefined): string {
  return summary && hasValues(summary) ? formatRange(summary.min, summary.max) : '-';
}

export function trialsCell(v: VariantReport): string {
  return v.failed > 0 ? `${v.completed} (${v.failed} failed)` : String(v.completed);
}

/**
 * Column titles: the user's labels, except that the CLI's placeholder labels A and B (what a
 * two-variant compare gets when nobody names the variants) become the seed's wording.
 */
export function displayLabels(report: CompareReport, override?: readonly string[]): string[] {
  return report.variants.map((v, i) => {
    const given = override?.[i];
    if (given !== undefined && given.trim() !== '') return given;
    const placeholder = v.label.trim() === '' || (report.variants.length === 2 && /^[ab]$/i.test(v.label.trim()));
    return placeholder ? (DEFAULT_LABELS[i] ?? v.label) : v.label;
  });
}

/** "8 GiB RAM, 4 vCPUs, KVM, QEMU 2.4.1 vs 2.5.0" */
/** The KVM/THP facts in short, and the source QEMUs' huge pages when migrating. */
export function describeHostKvm(report: CompareReport): string | undefined {
  const kvm = shortKvmHostFacts(report.setup.hostKvm);
  if (!kvm) return undefined;
  const huge = report.setup.sourceAnonHugePagesMiB;
  const hugeText = huge?.some((x) => x !== undefined) ? `; AnonHugePages at migration ${huge.map((x) => (x === undefined ? '?' : `${x} MiB`)).join(' / ')}` : '';
  return `${kvm}${hugeText}`;
}

export function describeSetup(report: CompareReport): string {
  const s = report.setup;
  const parts: string[] = [];
  if (s.ram) parts.push(`${s.ram} RAM`);
  if (s.smp) parts.push(`${s.smp} vCPU${s.smp === '1' ? '' : 's'}`);
  parts.push(s.accel.toUpperCase());
  const versions = [...new Set(s.qemuVersions)];
  parts.push(versions.length === 1 ? `QEMU ${versions[0]}` : `QEMU ${s.qemuVersions.join(' vs ')}`);
  if (s.firmware) parts.push(s.firmware);
  return parts.join(', ');
}

/** How the interval and p-value were obtained, for the line under the table. */
export function describeMethod(report: CompareReport): string {
  const tests = report.metrics
    .flatMap((m) => m.comparisons)
    .map((c) => c?.test?.method)
    .filter((m): m is 'exact' | 'monte-carlo' => m !== undefined);
  const how = tests.length === 0 ? '' : tests.every((m) => m === 'exact') ? ' (exact)' : ` (permutation, ${report.resamples} draws)`;
  return (
    `Downtimes are medians of the completed migrations; the change is against the first ` +
    `column, with a ${formatConfidence(report.confidence)} percentile-bootstrap CI ` +
    `(${report.resamples} resamples, seed ${report.seed}); p is a two-sided Mann-Whitney test${how}.`
  );
}

// ---------------------------------------------------------------------------------------------
// Plain-text layout

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

// ---------------------------------------------------------------------------------------------

function comparisonRows(metric: MetricReport, count: number, confidence: number): string[][] {
  const cells = (f: (c: Comparison) => string | undefined, baseline: string) =>
    Array.from({ length: count }, (_, i) => {
      if (i === 0) return baseline;
      const c = metric.comparisons[i];
      return (c && f(c)) ?? '-';
    });
  return [
    ['change', ...cells(formatChange, 'baseline')],
    [`${formatConfidence(confidence)} CI`, ...cells((c) => (c.ci ? formatCI(c.ci) : undefined), '')],
    ['p (Mann-Whitney)', ...cells((c) => (c.pValue === undefined ? undefined : formatP(c.pValue)), '')],
    ['verdict', ...cells((c) => verdictText(c.verdict), '')],
  ];
}

function failureLines(label: string, v: VariantReport): string[] {
  if (v.failed === 0) return [];
  const head = v.allFailed
    ? `${label}: all ${plural(v.trials, 'migration')} failed.`
    : `${label}: ${v.failed} of ${plural(v.trials, 'migration')} did not complete.`;
  const lines = wrap(toAscii(head), MAIL_WIDTH);
  for (const g of v.failures) {
    const who = g.status === 'failed' ? 'QEMU said' : g.status;
    lines.push(...wrap(toAscii(`- ${g.count}x ${who}: ${g.reason}`), MAIL_WIDTH, '  ').map((l, i) => (i === 0 ? l.slice(2) : l)));
  }
  return lines;
}

export function renderMail(report: CompareReport, opts: MailOptions = {}): string {
  const labels = displayLabels(report, opts.labels).map(toAscii);
  const count = report.variants.length;
  const qemu = metricOf(report, 'qemuDowntime');
  const guest = metricOf(report, 'guestDowntime');

  const rows: string[][] = [];
  rows.push(['QEMU downtime', ...report.variants.map((v, i) => medianCell(v, qemu?.summaries[i]))]);
  if (guest) {
    rows.push(['guest-observed', ...report.variants.map((v, i) => (v.allFailed ? '-' : medianCell(v, guest.summaries[i])))]);
  }
  rows.push(['trials (n)', ...report.variants.map(trialsCell)]);
  rows.push(['QEMU min-max', ...report.variants.map((_, i) => rangeCell(qemu?.summaries[i]))]);
  if (qemu && count > 1) rows.push(...comparisonRows(qemu, count, report.confidence));

  const out = renderTable(labels, rows.map((r) => r.map(toAscii)));

  // What was run, straight under the table, as the seed's mail gave its command lines.
  out.push(...wrap(toAscii(`Setup: ${describeSetup(report)}; migdown ${report.migdownVersion}.`), MAIL_WIDTH));
  const host = describeHostKvm(report);
  if (host) out.push(...wrap(toAscii(`Host: ${host}.`), MAIL_WIDTH));

  const paragraphs: string[][] = [];
  // How the change was tested: only where there is a change (a single run has none).
  if (count > 1) paragraphs.push(wrap(toAscii(describeMethod(report)), MAIL_WIDTH));

  if (guest) {
    const lines: string[] = [];
    for (let i = 1; i < count; i++) {
      const c = guest.comparisons[i];
      const change = c && formatChange(c);
      if (!c || !change) continue;
      const who = count > 2 ? ` (${labels[i]})` : '';
      const ci = c.ci ? `, ${formatConfidence(c.confidence)} CI ${formatCI(c.ci)}` : '';
      const p = c.pValue !== undefined ? `, p ${formatP(c.pValue)}, ${verdictText(c.verdict)}` : `, ${c.verdict}`;
      lines.push(...wrap(toAscii(`Guest-observed downtime change${who}: ${change}${ci}${p}.`), MAIL_WIDTH));
    }
    if (lines.length > 0) paragraphs.push(lines);
  }

  const failures = report.variants.flatMap((v, i) => failureLines(labels[i] ?? v.label, v));
  if (failures.length > 0) paragraphs.push(failures);

  // One clause per variant, so a long label is not repeated for every metric.
  const flagged: string[] = [];
  report.variants.forEach((_, i) => {
    const counts = report.metrics.flatMap((m) => {
      const s = m.summaries[i];
      return s && hasValues(s) && s.outliers.length > 0 ? [`${m.label} ${s.outliers.length} of ${s.n}`] : [];
    });
    if (counts.length > 0) flagged.push(`${labels[i]}: ${counts.join(', ')}`);
  });
  if (flagged.length > 0) {
    paragraphs.push(
      wrap(
        toAscii(
          `Statistical outliers (modified z-score above ${OUTLIER_Z}) were detected: ${flagged.join('; ')}. ` +
            'Consider re-running this benchmark on a quiet system without any interferences from other programs.',
        ),
        MAIL_WIDTH,
      ),
    );
  }

  for (const note of report.notes) paragraphs.push(wrap(toAscii(note), MAIL_WIDTH));

  for (const p of paragraphs) out.push('', ...p);
  return `${out.join('\n')}\n`;
}
