// A sweep's results: one row per point (RAM size, dirty rate ...), with the medians and
// spread of QEMU and guest-observed downtime and total time; for a compare, both variants
// and the change at each point.

import type { ChalkInstance } from 'chalk';
import type { RunHeader } from '../trial/types.js';
import type { PointAnalysis } from '../stats/analysis.js';
import { metricOf, type MetricKey } from '../stats/report.js';
import { hasValues, type Summary } from '../stats/summary.js';
import { csvField, renderCsv, snakeCase } from './compare-csv.js';
import { fitTable } from './fit.js';
import { describeSetup, displayLabels, formatChange, formatMs, formatNumber, formatP, markdownRow, verdictText } from './format.js';
import { boxTable, MAIL_WIDTH, renderTable, toAscii, wrap } from './text-table.js';

const median = (s: Summary | undefined) => (s && hasValues(s) ? formatMs(s.median) : '-');
const spread = (s: Summary | undefined) => (s && hasValues(s) ? `${median(s)} (${formatNumber(s.min)}-${formatNumber(s.max)})` : '-');

function cells(g: PointAnalysis, key: MetricKey, i: number, withSpread: boolean): string {
  const m = metricOf(g.report, key);
  return withSpread ? spread(m?.summaries[i]) : median(m?.summaries[i]);
}

interface SweepRows {
  titles: string[];
  rows: string[][];
}

function sweepRows(header: RunHeader, groups: PointAnalysis[], compact: boolean): SweepRows {
  const hasGuest = groups.some((g) => metricOf(g.report, 'guestDowntime'));
  const compare = header.command === 'compare';
  if (!compare) {
    const titles = ['point', 'n', 'QEMU downtime', ...(hasGuest ? ['guest-observed'] : []), 'total time'];
    const rows = groups.map((g) => {
      const v = g.report.variants[0]!;
      return [
        g.key,
        `${v.completed}/${v.trials}`,
        cells(g, 'qemuDowntime', 0, true),
        ...(hasGuest ? [cells(g, 'guestDowntime', 0, !compact)] : []),
        cells(g, 'totalTime', 0, !compact),
      ];
    });
    return { titles, rows };
  }
  const labels = displayLabels(groups[0]!.report);
  // Every variant against the first: change, p and verdict per variant after the first (with
  // more than one, the p-values are Holm-adjusted over them and the title says so).
  const against = labels.slice(1).map((_, k) => k + 1);
  const holm = against.length > 1;
  const titles = [
    'point',
    ...labels.map((l) => `${l} downtime`),
    ...against.flatMap((i) => (holm ? [`${labels[i]} change`, 'p (Holm)', ''] : ['change', 'p', ''])),
  ];
  const rows = groups.map((g) => {
    const q = metricOf(g.report, 'qemuDowntime');
    return [
      g.key,
      ...labels.map((_, i) => cells(g, 'qemuDowntime', i, !compact)),
      ...against.flatMap((i) => {
        const c = q?.comparisons[i] ?? undefined;
        return [c ? (formatChange(c) ?? '-') : '-', c?.pValue !== undefined ? formatP(c.pValue) : '-', c ? verdictText(c.verdict) : ''];
      }),
    ];
  });
  return { titles, rows };
}

export function renderSweepTable(header: RunHeader, groups: PointAnalysis[], chalk: ChalkInstance, columns?: number): string {
  const { titles, rows } = sweepRows(header, groups, false);
  const first = groups[0]?.report;
  return [fitTable(boxTable(titles.map((t) => chalk.bold(t)), rows), titles.slice(1), rows, columns), ...(first ? [chalk.dim(describeSetup(first))] : [])].join('\n');
}

export function renderSweepMarkdown(header: RunHeader, groups: PointAnalysis[]): string {
  const { titles, rows } = sweepRows(header, groups, false);
  return [markdownRow(titles), `| ${titles.map((_, i) => (i === 0 ? ':---' : '---:')).join(' | ')} |`, ...rows.map(markdownRow)].join('\n');
}

/** The run's CSV (same columns as without a sweep) with the point in front: "point" and one column per swept setting. */
export function renderSweepCsv(_header: RunHeader, groups: PointAnalysis[]): string {
  const keys = [...new Set(groups.flatMap((g) => Object.keys(g.point)))];
  const out: string[] = [];
  for (const [i, g] of groups.entries()) {
    const [head, ...rows] = renderCsv(g.report).replace(/(\r\n)+$/, '').split('\r\n');
    const prefix = [g.key, ...keys.map((k) => g.point[k])].map((x) => csvField(x)).join(',');
    if (i === 0) out.push(['point', ...keys.map(snakeCase), head].join(','));
    for (const r of rows) out.push(`${prefix},${r}`);
  }
  return out.join('\r\n');
}

export function renderSweepMail(header: RunHeader, groups: PointAnalysis[]): string {
  const { titles, rows } = sweepRows(header, groups, true);
  // Rows labelled by their values alone ("20ms, on"), the settings named once above the table,
  // so that points differing in a later setting are not cut to the same label.
  const keys = [...new Set(groups.flatMap((g) => Object.keys(g.point)))];
  const short = rows.map((r, i) => [keys.map((k) => String(groups[i]!.point[k] ?? '-')).join(', '), ...r.slice(1)]);
  const lines = [
    ...wrap(toAscii(`Points: ${keys.join(', ')}`), MAIL_WIDTH),
    ...renderTable(titles.slice(1).map(toAscii), short.map((r) => r.map(toAscii)), MAIL_WIDTH),
  ];
  const first = groups[0]?.report;
  if (first) lines.push(...wrap(toAscii(`Setup: ${describeSetup(first)}; medians, min-max in ms.`), MAIL_WIDTH));
  return lines.join('\n');
}
