// One place that turns a header and its trials into any output format, used by `run`,
// `compare` and `report`: so `report FILE` prints exactly what the live command printed.

import type { ChalkInstance } from 'chalk';
import type { RunHeader, TrialRecord } from '../bench/types.js';
import { buildCompareReport, type CompareReport } from '../stats/report.js';
import { csvRow, renderCsv, snakeCase } from './compare-csv.js';
import { renderMail } from './compare-mail.js';
import { renderMarkdown } from './compare-markdown.js';
import { renderCompareTable } from './compare-table.js';
import { referenceRows, referenceText } from './reference.js';
import { renderBreakdownMarkdown, renderBreakdownText } from './breakdown.js';
import { summarizeBreakdowns } from '../stats/breakdown.js';
import { renderRunTable, summarizeRun } from './run-table.js';
import { clocksCsvRows, clocksSummary, renderClocksMarkdown, renderClocksText } from './clocks.js';
import { groupByPoint, renderSweepCsv, renderSweepMail, renderSweepMarkdown, renderSweepTable } from './sweep.js';
import { toAscii, wrap, MAIL_WIDTH } from './text-table.js';
import { assessNoise, type NoiseAssessment } from '../stats/noise.js';
import { noiseLines } from './noise.js';
import { jsonTerminalSafe, terminalSafeDeep } from './sanitize.js';

export const FORMATS = ['table', 'mail', 'markdown', 'csv', 'json'] as const;
export type Format = (typeof FORMATS)[number];

export interface RenderOptions {
  /** bootstrap seed; by default the one the header recorded, so re-rendering is identical */
  seed?: number;
  confidence?: number;
  /** the terminal's width, which the table format fits (terminalColumns()); none: as wide as it takes */
  columns?: number;
}

export function reportSeed(header: RunHeader, opts: RenderOptions = {}): number {
  const recorded = header.config.seed;
  return opts.seed ?? (typeof recorded === 'number' ? recorded : 1);
}

export function buildReport(header: RunHeader, trials: TrialRecord[], opts: RenderOptions = {}): CompareReport {
  const recordedConfidence = header.config.confidence;
  const confidence = opts.confidence ?? (typeof recordedConfidence === 'number' ? recordedConfidence : undefined);
  return buildCompareReport(trials, header, { seed: reportSeed(header, opts), ...(confidence !== undefined && { confidence }) });
}

export function renderResults(
  format: Format,
  header: RunHeader,
  trials: TrialRecord[],
  chalk: ChalkInstance,
  opts: RenderOptions = {},
  extra: Record<string, unknown> = {},
): string {
  // Everything below prints text from a results file: control characters never reach the terminal.
  if (format === 'json') return jsonTerminalSafe(renderUnchecked(format, header, trials, chalk, opts, extra));
  return renderUnchecked(format, terminalSafeDeep(header), terminalSafeDeep(trials), chalk, opts, extra);
}

function renderUnchecked(
  format: Format,
  header: RunHeader,
  trials: TrialRecord[],
  chalk: ChalkInstance,
  opts: RenderOptions,
  extra: Record<string, unknown>,
): string {
  const build = (h: RunHeader, ts: TrialRecord[]) => buildReport(h, ts, opts);
  const noise = assessNoise(header, trials);
  const text = textNoise(noise, chalk);
  const swept = trials.some((t) => t.point && Object.keys(t.point).length > 0);
  if (swept) {
    // Each point's report describes the setup: its RAM is the swept list, not the first point's.
    const { ramBytes: _first, ...config } = header.config;
    const groups = groupByPoint({ ...header, config }, trials, build);
    switch (format) {
      case 'table':
        return [renderSweepTable(header, groups, chalk, opts.columns), ...renderClocksText(header, trials, false), ...text.table].join('\n');
      case 'mail':
        return [renderSweepMail(header, groups).replace(/\n+$/, ''), ...renderClocksText(header, trials, true), ...text.mail].join('\n');
      case 'markdown':
        return [renderSweepMarkdown(header, groups).replace(/\n+$/, ''), ...renderClocksMarkdown(header, trials), ...text.markdown].join('\n');
      case 'csv': {
        const rows = clocksCsvRows(header, trials).map((r) => csvRow({ ...r, run_id: header.runId }));
        return [renderSweepCsv(header, groups).replace(/(\r?\n)+$/, ''), ...rows].join('\r\n');
      }
      case 'json':
        return JSON.stringify({ header, points: groups.map((g) => ({ point: g.point, report: g.report })), noise, clocks: clocksSummary(trials), trials, ...extra }, null, 2);
    }
  }
  const report = build(header, trials);
  const refs = referenceRows(header, report);
  const published = referenceText(refs);
  switch (format) {
    case 'table': {
      const body = header.command === 'run' ? renderRunTable(header, trials, chalk, opts.columns) : renderCompareTable(report, chalk, opts.columns);
      return [body, ...renderBreakdownText(header, trials, false, opts.columns), ...renderClocksText(header, trials, false), ...published.map((l) => chalk.cyan(l)), ...text.table].join('\n');
    }
    case 'mail':
      return [
        renderMail(report).replace(/\n+$/, ''),
        ...renderBreakdownText(header, trials, true),
        ...renderClocksText(header, trials, true),
        ...published.flatMap((l) => ['', ...wrap(toAscii(l), MAIL_WIDTH)]),
        ...text.mail,
      ].join('\n');
    case 'markdown':
      return [
        renderMarkdown(report).replace(/\n+$/, ''),
        ...renderBreakdownMarkdown(header, trials),
        ...renderClocksMarkdown(header, trials),
        ...published.map((l) => `\n${l}`),
        ...text.markdown,
      ].join('\n');
    case 'csv': {
      // Published figures as rows of the same shape: the variant says whose they are.
      const keyOf = (label: string) => snakeCase(report.metrics.find((m) => m.label === label)?.key ?? label);
      const rows = refs.flatMap((r) =>
        r.pairs.map((p) => csvRow({ run_id: report.runId, metric: keyOf(r.metricLabel), variant: `${p.label} (published: ${r.source})`, median_ms: p.published })),
      );
      // Each phase of the pause as a metric row of its own: "phase:src-downtime-start>src-vm-stopped".
      for (const v of header.variants) {
        const bs = trials.filter((t) => t.variant === v.label && !t.warmup && t.breakdown?.available).map((t) => t.breakdown!);
        if (!bs.length) continue;
        for (const p of summarizeBreakdowns(bs).phases) {
          rows.push(csvRow({ run_id: report.runId, metric: `phase:${p.key}`, variant: v.label, n: p.n, median_ms: p.medianMs, min_ms: p.minMs, max_ms: p.maxMs }));
        }
      }
      // The noise floor: each trial's longest quiet-time heartbeat gap, summarised per variant.
      for (const f of noise.floorByVariant) {
        rows.push(csvRow({ run_id: report.runId, metric: 'noise_floor_max_gap', variant: f.variant, n: f.n, median_ms: f.medianMs, min_ms: f.minMs, max_ms: f.maxMs }));
      }
      for (const r of clocksCsvRows(header, trials)) rows.push(csvRow({ ...r, run_id: report.runId }));
      return [renderCsv(report).replace(/(\r?\n)+$/, ''), ...rows].join('\r\n');
    }
    case 'json':
      return JSON.stringify(
        {
          header,
          ...(header.command === 'run' && { summary: summarizeRun(trials) }),
          report,
          ...(refs.length && { references: refs }),
          noise,
          breakdowns: header.variants.map((v) => ({
            variant: v.label,
            summary: summarizeBreakdowns(trials.filter((t) => t.variant === v.label && !t.warmup && t.breakdown).map((t) => t.breakdown!)),
          })),
          clocks: clocksSummary(trials),
          trials,
          ...extra,
        },
        null,
        2,
      );
  }
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
export function noiseNotes(format: Format, header: RunHeader, trials: TrialRecord[]): string[] {
  if (format !== 'csv' && format !== 'json') return [];
  const { warning } = assessNoise(header, trials);
  return warning ? [`warning: ${warning}`] : [];
}
