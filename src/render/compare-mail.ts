// The comparison as a plain-text table for a patch cover letter, laid out like the tables
// qemu-devel has long used ("|without this patch| with this patch|"). Mail clients and list
// archives mangle anything else, so the output is printable ASCII only, at most 72 columns,
// with no tabs, no trailing spaces and no colour. The formatting helpers are exported for the
// with no tabs, no trailing spaces and no colour. Numbers are worded by format.ts and laid out
// by text-table.ts, as in every other format.

import { metricOf, type CompareReport, type MetricReport, type VariantReport } from '../stats/report.js';
import { hasValues, OUTLIER_Z } from '../stats/summary.js';
import { plural } from '../util/plural.js';
import type { Comparison } from '../stats/compare.js';
import {
  describeHostKvm,
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
  type LabelOptions,
} from './format.js';
import { MAIL_WIDTH, renderTable, toAscii, wrap } from './text-table.js';


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
    [pTitle(metric), ...cells((c) => (c.pValue === undefined ? undefined : formatP(c.pValue)), '')],
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

export function renderMail(report: CompareReport, opts: LabelOptions = {}): string {
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
