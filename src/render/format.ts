// How every renderer words numbers, cells, labels and the setup, so that all formats (table,
// mail, markdown, csv, HTML) say the same thing the same way.

import { shortKvmHostFacts } from '../qemu/host-facts.js';
import type { Comparison, Verdict } from '../stats/compare.js';
import type { CompareReport, MetricReport, VariantReport } from '../stats/report.js';
import { hasValues, type Summary } from '../stats/summary.js';

export interface LabelOptions {
  /** column titles, overriding the variants' labels */
  labels?: readonly string[];
}

/** What the two columns are called unless the user named them; the wording of the seed's table. */
export const DEFAULT_LABELS: readonly [string, string] = ['without this patch', 'with this patch'];

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
export function displayLabels(report: { variants: ReadonlyArray<{ label: string }> }, override?: readonly string[]): string[] {
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
  const adjusted = report.metrics.flatMap((m) => m.comparisons).find((c) => c?.adjusted)?.adjusted;
  return (
    `Downtimes are medians of the completed migrations; the change is against the first ` +
    `column, with a ${formatConfidence(report.confidence)} percentile-bootstrap CI ` +
    `(${report.resamples} resamples, seed ${report.seed}); p is a two-sided Mann-Whitney test${how}` +
    (adjusted
      ? `, Holm-adjusted over the ${adjusted.comparisons} comparisons against the first column; verdicts use the adjusted p.`
      : '.')
  );
}

/** The p row's title: which test, and whether its p-values were adjusted for multiplicity. */
export function pTitle(metric: MetricReport | undefined): string {
  return metric?.comparisons.some((c) => c?.adjusted) ? 'p (Holm-adjusted)' : 'p (Mann-Whitney)';
}

/** A markdown table cell: pipes and backslashes escaped, line breaks folded into one space. */
export function markdownCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** A markdown table row. */
export function markdownRow(cells: readonly string[]): string {
  return `| ${cells.map(markdownCell).join(' | ')} |`;
}
