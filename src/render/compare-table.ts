// The comparison for a terminal: every metric, the change with its interval and p-value, the
// verdict coloured. format.ts words the numbers, so both agree.

import type { ChalkInstance } from 'chalk';
import type { Comparison } from '../stats/compare.js';
import type { CompareReport } from '../stats/report.js';
import { hasValues } from '../stats/summary.js';
import { sparkline } from './sparkline.js';
import { fitTable } from './fit.js';
import { boxTable } from './text-table.js';
import {
  describeMethod,
  describeSetup,
  displayLabels,
  formatChange,
  formatCI,
  formatMs,
  formatP,
  medianCell,
  pTitle,
  rangeCell,
  trialsCell,
  verdictText,
} from './format.js';

function verdictColour(c: Comparison, chalk: ChalkInstance): string {
  const text = verdictText(c.verdict);
  if (c.verdict === 'faster') return chalk.green(text);
  if (c.verdict === 'slower') return chalk.red(text);
  return chalk.yellow(text);
}

export function renderCompareTable(report: CompareReport, chalk: ChalkInstance, columns?: number): string {
  const labels = displayLabels(report);
  // Two variants: the change, CI and p as columns beside them. More: one column per variant,
  // with the change against the first (and the Holm-adjusted p) as rows under each metric.
  const wide = report.variants.length <= 2;
  const head = wide ? ['', ...labels, 'change', 'CI', 'p', ''] : ['', ...labels];
  const pad = wide ? ['', '', '', ''] : [];
  const rows: string[][] = [];
  for (const m of report.metrics) {
    const c = m.comparisons[1] ?? undefined;
    rows.push([
      chalk.bold(`${m.label} (median)`),
      ...report.variants.map((v, i) => medianCell(v, m.summaries[i])),
      ...(wide
        ? [c ? (formatChange(c) ?? '-') : '-', c?.ci ? formatCI(c.ci) : '-', c?.pValue !== undefined ? formatP(c.pValue) : '-', c ? verdictColour(c, chalk) : '']
        : []),
    ]);
    rows.push([chalk.dim('  min-max'), ...m.summaries.map((s) => chalk.dim(rangeCell(s))), ...pad]);
    if (!wide) {
      const cmp = (f: (c: Comparison) => string | undefined, baseline: string) =>
        m.comparisons.map((c, i) => (i === 0 ? chalk.dim(baseline) : (c && f(c)) ?? '-'));
      rows.push([chalk.dim('  change'), ...cmp(formatChange, 'baseline')]);
      rows.push([chalk.dim('  CI'), ...cmp((x) => (x.ci ? formatCI(x.ci) : undefined), '')]);
      rows.push([chalk.dim(`  ${pTitle(m)}`), ...cmp((x) => (x.pValue === undefined ? undefined : formatP(x.pValue)), '')]);
      rows.push([chalk.dim('  verdict'), ...cmp((x) => verdictColour(x, chalk), '')]);
    }
  }
  // Each variant's QEMU downtimes as a histogram on one shared axis, so the lines compare.
  const q = report.metrics.find((m) => m.key === 'qemuDowntime');
  if (q) {
    const all = q.values.flat();
    if (all.length >= 3) {
      const [lo, hi] = [Math.min(...all), Math.max(...all)];
      rows.push([chalk.dim(`  ${formatMs(lo)}..${formatMs(hi)}`), ...q.values.map((v) => chalk.cyan(sparkline(v, { min: lo, max: hi }))), ...pad]);
    }
  }
  rows.push([chalk.dim('  trials'), ...report.variants.map((v) => chalk.dim(trialsCell(v))), ...pad]);
  // Narrower than the table: plain tables without the histogram row, labels without "(median)".
  const narrow = rows.filter((r) => !r[0]!.includes('..')).map((r) => [r[0]!.replace(' (median)', ''), ...r.slice(1)]);
  const lines = [fitTable(boxTable(head.map((h) => chalk.bold(h)), rows), head.slice(1), narrow, columns), chalk.dim(describeSetup(report)), chalk.dim(describeMethod(report))];
  for (const m of report.metrics) {
    m.summaries.forEach((s, i) => {
      if (hasValues(s) && s.outlierWarning) lines.push(chalk.yellow(`${labels[i]}, ${m.label}: ${s.outlierWarning}`));
    });
  }
  for (const v of report.variants) {
    for (const f of v.failures) {
      lines.push(chalk.red(`${v.label}: ${f.count}x ${f.status}: ${f.reason}`));
    }
  }
  for (const note of report.notes) lines.push(chalk.yellow(note));
  return lines.join('\n');
}

/** "B median 12ms" style helper for gate messages. */
export function medianOf(report: CompareReport, variant: number): number | undefined {
  const s = report.metrics.find((m) => m.key === 'qemuDowntime')?.summaries[variant];
  return s && hasValues(s) ? s.median : undefined;
}

export { formatMs };
