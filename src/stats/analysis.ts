// The one analysis of a run or compare: every statistic any output shows, computed once from the
// header and the trials (the bootstrap of the compare report included), so that the terminal
// table, the mail, markdown, csv and json, the HTML page, the charts and the gates read the same
// numbers and none of them computes its own. Plain data: JSON round-trips it.

import { pointKey } from '../trial/sweep.js';
import type { RunHeader, TrialRecord } from '../trial/types.js';
import { summarizeClockAgreement, type ClockAgreementSummary } from '../trial/clock-agreement.js';
import { compareBreakdowns, summarizeBreakdowns, type BreakdownComparison, type BreakdownSummary } from './breakdown.js';
import { assessNoise, type NoiseAssessment } from './noise.js';
import { buildCompareReport, type CompareReport } from './report.js';
import { summarizeRun, type RunSummary } from './run-summary.js';

export interface AnalysisOptions {
  /** bootstrap seed; by default the one the header recorded, so re-rendering is identical */
  seed?: number;
  confidence?: number;
}

/** One sweep point (the whole run when nothing is swept: key ''), with its compare report. */
export interface PointAnalysis {
  /** "ram=1G, smp=2"; '' when nothing is swept */
  key: string;
  point: Record<string, string | number>;
  trials: TrialRecord[];
  report: CompareReport;
}

/** The pause breakdowns of one variant, over its measured (not warm-up) trials. */
export interface VariantBreakdowns {
  variant: string;
  /** every measured trial that recorded a breakdown, whatever its status */
  recorded: BreakdownSummary;
  /** the completed measured trials whose breakdown is available (phases) */
  completed: BreakdownSummary;
  /** the completed measured trials with only a legacy pause (QEMU before 8.2) */
  legacy: BreakdownSummary;
}

export interface Analysis {
  /** the trials analysed, as given (renderers list them one by one) */
  trials: TrialRecord[];
  /** some trial carries a sweep point */
  swept: boolean;
  /** sweep points in the header's planned order, then as first seen; one point when nothing is swept */
  points: PointAnalysis[];
  /** per variant, the header's order, then labels only seen in trials */
  breakdowns: VariantBreakdowns[];
  /** the second variant's phases against the first's (completed trials), for a compare */
  breakdownChange?: BreakdownComparison;
  /** a `run`'s downtimes in brief */
  run?: RunSummary;
  noise: NoiseAssessment;
  /** guest-observed downtime against the traced pause, over every completed measured trial */
  clocks: ClockAgreementSummary;
}

export function analysisSeed(header: RunHeader, opts: AnalysisOptions = {}): number {
  const recorded = header.config.seed;
  return opts.seed ?? (typeof recorded === 'number' ? recorded : 1);
}

function buildReport(header: RunHeader, trials: TrialRecord[], opts: AnalysisOptions): CompareReport {
  const recordedConfidence = header.config.confidence;
  const confidence = opts.confidence ?? (typeof recordedConfidence === 'number' ? recordedConfidence : undefined);
  return buildCompareReport(trials, header, { seed: analysisSeed(header, opts), ...(confidence !== undefined && { confidence }) });
}

const isSwept = (t: TrialRecord) => Boolean(t.point && Object.keys(t.point).length > 0);

/** The trials grouped by sweep point, in the order the header planned the points. */
function sweepPoints(header: RunHeader, trials: TrialRecord[], opts: AnalysisOptions): PointAnalysis[] {
  // Each point's report describes the setup: its RAM is the swept list, not the first point's,
  // which is what the header's ramBytes records.
  const { ramBytes: _first, ...config } = header.config;
  const sweepHeader = { ...header, config };
  const groups = new Map<string, TrialRecord[]>();
  for (const key of (header.config.sweep ?? []).map(pointKey)) groups.set(key, []);
  for (const t of trials) {
    const key = pointKey(t.point);
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  return [...groups.entries()]
    .filter(([, ts]) => ts.length > 0)
    .map(([key, ts]) => ({ key, point: ts[0]!.point ?? {}, trials: ts, report: buildReport(sweepHeader, ts, opts) }));
}

function variantLabels(header: RunHeader, trials: readonly TrialRecord[]): string[] {
  const labels = header.variants.map((v) => v.label);
  for (const t of trials) if (!labels.includes(t.variant)) labels.push(t.variant);
  return labels;
}

function breakdownsOf(label: string, trials: readonly TrialRecord[]): VariantBreakdowns {
  const measured = trials.filter((t) => t.variant === label && !t.warmup && t.breakdown);
  const completed = measured.filter((t) => t.status === 'completed');
  return {
    variant: label,
    recorded: summarizeBreakdowns(measured.map((t) => t.breakdown!)),
    completed: summarizeBreakdowns(completed.filter((t) => t.breakdown!.available).map((t) => t.breakdown!)),
    legacy: summarizeBreakdowns(completed.filter((t) => t.breakdown!.legacyPause).map((t) => t.breakdown!)),
  };
}

/** Everything the outputs and the gates need, from the header and the trials. */
export function analyze(header: RunHeader, trials: TrialRecord[], opts: AnalysisOptions = {}): Analysis {
  const swept = trials.some(isSwept);
  const points = swept ? sweepPoints(header, trials, opts) : [{ key: '', point: {}, trials, report: buildReport(header, trials, opts) }];
  const breakdowns = variantLabels(header, trials).map((label) => breakdownsOf(label, trials));
  const [a, b] = breakdowns;
  return {
    trials,
    swept,
    points,
    breakdowns,
    ...(header.command === 'compare' && a && b && { breakdownChange: compareBreakdowns(a.completed, b.completed) }),
    ...(header.command === 'run' && { run: summarizeRun(trials) }),
    noise: assessNoise(header, trials),
    clocks: summarizeClockAgreement(trials.filter((t) => !t.warmup && t.status === 'completed').map((t) => t.clocks)),
  };
}
