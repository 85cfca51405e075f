// One place that turns a header and its trials into any output format, used by `run`,
// `compare` and `report`: so `report FILE` prints exactly what the live command printed.

import type { ChalkInstance } from 'chalk';
import type { RunHeader, TrialRecord } from '../bench/types.js';
import { buildCompareReport, type CompareReport } from '../stats/report.js';
import { renderCsv } from './compare-csv.js';
import { renderMail } from './compare-mail.js';
import { renderMarkdown } from './compare-markdown.js';
import { renderCompareTable } from './compare-table.js';
import { renderRunTable, summarizeRun } from './run-table.js';

export const FORMATS = ['table', 'mail', 'markdown', 'csv', 'json'] as const;
export type Format = (typeof FORMATS)[number];

export interface RenderOptions {
  /** bootstrap seed; by default the one the header recorded, so re-rendering is identical */
  seed?: number;
  confidence?: number;
}

export function reportSeed(header: RunHeader, opts: RenderOptions = {}): number {
  const recorded = header.config['seed'];
  return opts.seed ?? (typeof recorded === 'number' ? recorded : 1);
}

export function buildReport(header: RunHeader, trials: TrialRecord[], opts: RenderOptions = {}): CompareReport {
  const recordedConfidence = header.config['confidence'];
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
  if (format === 'table' && header.command === 'run') return renderRunTable(header, trials, chalk);
  const report = buildReport(header, trials, opts);
  switch (format) {
    case 'table':
      return renderCompareTable(report, chalk);
    case 'mail':
      return renderMail(report).replace(/\n+$/, '');
    case 'markdown':
      return renderMarkdown(report).replace(/\n+$/, '');
    case 'csv':
      return renderCsv(report).replace(/(\r?\n)+$/, '');
    case 'json':
      return JSON.stringify(
        { header, ...(header.command === 'run' && { summary: summarizeRun(trials) }), report, trials, ...extra },
        null,
        2,
      );
  }
}
