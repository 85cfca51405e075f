// One place that turns a header and its analysis into any output format, used by `run`,
// `compare` and `report`: so `report FILE` prints exactly what the live command printed.

import type { ChalkInstance } from 'chalk';
import type { RunHeader } from '../trial/types.js';
import type { Analysis } from '../stats/analysis.js';
import type { CompareReport } from '../stats/report.js';
import { csvRow, renderCsv, snakeCase } from './compare-csv.js';
import { renderMail } from './compare-mail.js';
import { renderMarkdown } from './compare-markdown.js';
import { renderCompareTable } from './compare-table.js';
import { referenceRows, referenceText } from './reference.js';
import { renderBreakdownMarkdown, renderBreakdownText } from './breakdown.js';
import { renderRunTable } from './run-table.js';
import { clocksCsvRows, renderClocksMarkdown, renderClocksText } from './clocks.js';
import { renderSweepCsv, renderSweepMail, renderSweepMarkdown, renderSweepTable } from './sweep.js';
import { toAscii, wrap, MAIL_WIDTH } from './text-table.js';
import type { NoiseAssessment } from '../stats/noise.js';
import { noiseLines } from './noise.js';
import { jsonTerminalSafe, terminalSafeDeep } from './sanitize.js';

import type { Format } from './formats.js';

export interface RenderOptions {
  /** the terminal's width, which the table format fits (terminalColumns()); none: as wide as it takes */
  columns?: number;
}

export function renderResults(
  format: Format,
  header: RunHeader,
  analysis: Analysis,
  chalk: ChalkInstance,
  opts: RenderOptions = {},
  extra: Record<string, unknown> = {},
): string {
  // Everything below prints text from a results file: control characters never reach the terminal.
  if (format === 'json') return jsonTerminalSafe(renderUnchecked(format, header, analysis, chalk, opts, extra));
  return renderUnchecked(format, terminalSafeDeep(header), terminalSafeDeep(analysis), chalk, opts, extra);
}

function renderUnchecked(format: Format, header: RunHeader, analysis: Analysis, chalk: ChalkInstance, opts: RenderOptions, extra: Record<string, unknown>): string {
  const text = textNoise(analysis.noise, chalk);
  if (analysis.swept) return renderSwept(format, header, analysis, chalk, opts, extra, text);
  const report = analysis.points[0]!.report;
  const refs = referenceRows(header, report);
  const published = referenceText(refs);
  switch (format) {
    case 'table': {
      const body = header.command === 'run' ? renderRunTable(header, analysis.trials, analysis.run!, chalk, opts.columns) : renderCompareTable(report, chalk, opts.columns);
      return [body, ...renderBreakdownText(header, analysis, false, opts.columns), ...renderClocksText(header, analysis, false), ...published.map((l) => chalk.cyan(l)), ...text.table].join('\n');
    }
    case 'mail':
      return [
        renderMail(report).replace(/\n+$/, ''),
        ...renderBreakdownText(header, analysis, true),
        ...renderClocksText(header, analysis, true),
        ...published.flatMap((l) => ['', ...wrap(toAscii(l), MAIL_WIDTH)]),
        ...text.mail,
      ].join('\n');
    case 'markdown':
      return [
        renderMarkdown(report).replace(/\n+$/, ''),
        ...renderBreakdownMarkdown(header, analysis),
        ...renderClocksMarkdown(header, analysis),
        ...published.map((l) => `\n${l}`),
        ...text.markdown,
      ].join('\n');
    case 'csv':
      return [renderCsv(report).replace(/(\r?\n)+$/, ''), ...csvExtraRows(header, analysis, report, refs)].join('\r\n');
    case 'json':
      return JSON.stringify(
        {
          header,
          ...(analysis.run && { summary: analysis.run }),
          report,
          ...(refs.length && { references: refs }),
          noise: analysis.noise,
          breakdowns: header.variants.map((v, i) => ({ variant: v.label, summary: analysis.breakdowns[i]!.recorded })),
          clocks: analysis.clocks,
          trials: analysis.trials,
          ...extra,
        },
        null,
        2,
      );
  }
}

type TextNoise = ReturnType<typeof textNoise>;

/** A sweep: one row per point in every format, the clocks and the noise after it. */
function renderSwept(format: Format, header: RunHeader, analysis: Analysis, chalk: ChalkInstance, opts: RenderOptions, extra: Record<string, unknown>, text: TextNoise): string {
  const groups = analysis.points;
  switch (format) {
    case 'table':
      return [renderSweepTable(header, groups, chalk, opts.columns), ...renderClocksText(header, analysis, false), ...text.table].join('\n');
    case 'mail':
      return [renderSweepMail(header, groups).replace(/\n+$/, ''), ...renderClocksText(header, analysis, true), ...text.mail].join('\n');
    case 'markdown':
      return [renderSweepMarkdown(header, groups).replace(/\n+$/, ''), ...renderClocksMarkdown(header, analysis), ...text.markdown].join('\n');
    case 'csv': {
      const rows = clocksCsvRows(analysis).map((r) => csvRow({ ...r, run_id: header.runId }));
      return [renderSweepCsv(header, groups).replace(/(\r?\n)+$/, ''), ...rows].join('\r\n');
    }
    case 'json':
      return JSON.stringify(
        { header, points: groups.map((g) => ({ point: g.point, report: g.report })), noise: analysis.noise, clocks: analysis.clocks, trials: analysis.trials, ...extra },
        null,
        2,
      );
  }
}

/** The csv rows after the report's: published figures, each phase of the pause, the noise floor, the clocks. */
function csvExtraRows(header: RunHeader, analysis: Analysis, report: CompareReport, refs: ReturnType<typeof referenceRows>): string[] {
  // Published figures as rows of the same shape: the variant says whose they are.
  const keyOf = (label: string) => snakeCase(report.metrics.find((m) => m.label === label)?.key ?? label);
  const rows = refs.flatMap((r) =>
    r.pairs.map((p) => csvRow({ run_id: report.runId, metric: keyOf(r.metricLabel), variant: `${p.label} (published: ${r.source})`, median_ms: p.published })),
  );
  // Each phase of the pause as a metric row of its own: "phase:src-downtime-start>src-vm-stopped".
  for (const [i, v] of header.variants.entries()) {
    for (const p of analysis.breakdowns[i]!.recorded.phases) {
      rows.push(csvRow({ run_id: report.runId, metric: `phase:${p.key}`, variant: v.label, n: p.n, median_ms: p.medianMs, min_ms: p.minMs, max_ms: p.maxMs }));
    }
  }
  // The noise floor: each trial's longest quiet-time heartbeat gap, summarised per variant.
  for (const f of analysis.noise.floorByVariant) {
    rows.push(csvRow({ run_id: report.runId, metric: 'noise_floor_max_gap', variant: f.variant, n: f.n, median_ms: f.medianMs, min_ms: f.minMs, max_ms: f.maxMs }));
  }
  for (const r of clocksCsvRows(analysis)) rows.push(csvRow({ ...r, run_id: report.runId }));
  return rows;
}

/** The noise floor and the noisy-host warning in each text format. */
function textNoise(noise: NoiseAssessment, chalk: ChalkInstance): { table: string[]; mail: string[]; markdown: string[] } {
  const { floor, warning } = noiseLines(noise);
  return {
    table: [...(floor ? [chalk.dim(floor)] : []), ...(warning ? [chalk.yellow(warning)] : [])],
    mail: [floor, warning].flatMap((l) => (l ? ['', ...wrap(toAscii(l), MAIL_WIDTH)] : [])),
    markdown: [...(floor ? ['', floor] : []), ...(warning ? ['', `> **${warning.replace(/^Warning: /, 'Warning:** ')}`] : [])],
  };
}

/**
 * Lines for stderr: the noisy-host warning, for the formats whose stdout is for machines
 * (csv, json carry the assessment as data or not at all).
 */
export function noiseNotes(format: Format, analysis: Analysis): string[] {
  if (format !== 'csv' && format !== 'json') return [];
  const { warning } = analysis.noise;
  return warning ? [`warning: ${warning}`] : [];
}
