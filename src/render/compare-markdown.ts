// The comparison as a GitHub-flavoured markdown table, for issues, pull requests and wikis.
// Same numbers and wording as the mail table (the helpers come from format.ts), but with
// every metric, since markdown has no 72-column limit.

import type { Comparison } from '../stats/compare.js';
import type { CompareReport, MetricReport } from '../stats/report.js';
import { hasValues } from '../stats/summary.js';
import { plural } from '../util/plural.js';
import {
  describeMethod,
  describeSetup,
  displayLabels,
  formatChange,
  formatCI,
  formatConfidence,
  formatP,
  medianCell,
  pTitle,
  rangeCell,
  trialsCell,
  verdictText,
  markdownCell,
  markdownRow,
  type LabelOptions,
} from './format.js';

function metricRows(report: CompareReport, m: MetricReport): string[][] {
  const n = report.variants.length;
  const cmp = (f: (c: Comparison) => string | undefined, baseline: string) =>
    Array.from({ length: n }, (_, i) => (i === 0 ? baseline : ((m.comparisons[i] && f(m.comparisons[i]!)) ?? '-')));
  const rows: string[][] = [
    [`${m.label}, median`, ...report.variants.map((v, i) => medianCell(v, m.summaries[i]))],
    [`${m.label}, min-max`, ...m.summaries.map((s) => rangeCell(s))],
  ];
  if (n > 1) {
    rows.push(
      [`${m.label}, change`, ...cmp(formatChange, 'baseline')],
      [`${m.label}, ${formatConfidence(report.confidence)} CI`, ...cmp((c) => (c.ci ? formatCI(c.ci) : undefined), '')],
      [
        `${m.label}, ${pTitle(m)}`,
        ...cmp((c) => (c.pValue === undefined ? verdictText(c.verdict) : `${formatP(c.pValue)}, ${verdictText(c.verdict)}`), ''),
      ],
    );
  }
  return rows;
}

export function renderMarkdown(report: CompareReport, opts: LabelOptions = {}): string {
  const labels = displayLabels(report, opts.labels);
  const out: string[] = [];
  out.push(markdownRow(['', ...labels]));
  // right-aligned numbers read best; the row-label column stays left-aligned
  out.push(`| :--- | ${labels.map(() => '---:').join(' | ')} |`);
  for (const m of report.metrics) {
    for (const r of metricRows(report, m)) out.push(markdownRow(r));
  }
  out.push(markdownRow(['trials (n)', ...report.variants.map(trialsCell)]));
  out.push('');
  out.push(`Setup: ${describeSetup(report)}; migdown ${report.migdownVersion}, run \`${report.runId}\`.`);
  if (report.variants.length > 1) out.push('', describeMethod(report));

  const bullets: string[] = [];
  report.variants.forEach((v, i) => {
    if (v.failed === 0) return;
    const head = v.allFailed
      ? `**${markdownCell(labels[i] ?? v.label)}**: all ${plural(v.trials, 'migration')} failed`
      : `**${markdownCell(labels[i] ?? v.label)}**: ${v.failed} of ${plural(v.trials, 'migration')} did not complete`;
    const reasons = v.failures.map((g) => `${g.count}x ${g.status === 'failed' ? 'QEMU said' : g.status}: \`${g.reason.replace(/`/g, "'")}\``);
    bullets.push(`- ${head}: ${reasons.join('; ')}`);
  });
  for (const m of report.metrics) {
    m.summaries.forEach((s, i) => {
      if (hasValues(s) && s.outlierWarning) bullets.push(`- ${m.label}, ${labels[i]}: ${s.outlierWarning}`);
    });
  }
  for (const note of report.notes) bullets.push(`- ${note}`);
  if (bullets.length > 0) out.push('', ...bullets);
  return `${out.join('\n')}\n`;
}
