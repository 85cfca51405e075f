// Turns the trial records of a `migdown compare` run into the plain-data report the renderers
// (mail, markdown, csv) print. All statistics are computed here, once, so the three formats
// cannot disagree, and the report is JSON-safe so it can be stored or re-rendered later.

import { median } from 'simple-statistics';
import type { RunConfig, RunHeader, TrialRecord, TrialStatus } from '../trial/types.js';
import type { Accel } from '../qemu/facts.js';
import type { KvmHostFacts } from '../qemu/host-facts.js';
import { adjustComparisons, compareSamples, DEFAULT_CONFIDENCE, DEFAULT_RESAMPLES, type Comparison } from './compare.js';
import { summarize, type Summary } from './summary.js';
import { firmwareLabel } from '../util/firmware-label.js';

export type MetricKey = 'qemuDowntime' | 'guestDowntime' | 'totalTime';

interface MetricDef {
  key: MetricKey;
  label: string;
  pick: (t: TrialRecord) => number | undefined;
}

/** The metrics compared, in the order reports show them. All are milliseconds. */
export const METRIC_DEFS: readonly MetricDef[] = [
  { key: 'qemuDowntime', label: 'QEMU downtime', pick: (t) => t.info?.downtimeMs },
  { key: 'guestDowntime', label: 'guest-observed downtime', pick: (t) => t.guest?.observedDowntimeMs },
  { key: 'totalTime', label: 'total migration time', pick: (t) => t.info?.totalTimeMs },
];

/** Non-completed trials sharing a status and reason. */
export interface FailureGroup {
  status: Exclude<TrialStatus, 'completed'>;
  /** QEMU's reason (e.g. from "Migration status: failed (...)") or migdown's for error/timeout */
  reason: string;
  count: number;
  /** the trials' 1-based indices, so the raw records can be found */
  indices: number[];
}

export interface VariantReport {
  label: string;
  qemuVersion?: string;
  qemuPath?: string;
  /** measured (non-warmup) trials found for this variant */
  trials: number;
  completed: number;
  /** measured trials that did not complete: failed, cancelled, timeout or error */
  failed: number;
  /** warm-up trials, left out of every statistic */
  warmups: number;
  /** most frequent first */
  failures: FailureGroup[];
  /** there were measured trials and none completed */
  allFailed: boolean;
}

export interface MetricReport {
  key: MetricKey;
  label: string;
  unit: 'ms';
  /** the values summarised, per variant (report.variants order), trial order */
  values: number[][];
  summaries: Summary[];
  /**
   * comparisons[i] compares variant i against variant 0 (the baseline); comparisons[0] is null
   * (not undefined, which JSON would turn into null anyway). Present for every i >= 1, with
   * verdict 'insufficient data' when a side has too few values.
   */
  comparisons: Array<Comparison | null>;
}

export interface SetupFacts {
  /** RAM as configured, in words ("8 GiB"), when the header records it */
  ram?: string;
  /** vCPUs (-smp) as configured */
  smp?: string;
  accel: Accel;
  accelNote?: string;
  /** per variant, report.variants order ('?' when unknown) */
  qemuVersions: string[];
  hostCpu: string;
  hostKernel: string;
  /** "qboot", "SeaBIOS", "firmware FILE"; absent in files from before --firmware */
  firmware?: string;
  /** KVM MMU, THP and kernel facts, when the results file recorded them */
  hostKvm?: KvmHostFacts;
  /** per variant, the median AnonHugePages of the source QEMU at migration, MiB (absent: not recorded) */
  sourceAnonHugePagesMiB?: Array<number | undefined>;
}

export interface CompareReport {
  runId: string;
  createdAt: string;
  migdownVersion: string;
  confidence: number;
  seed: number;
  resamples: number;
  variants: VariantReport[];
  /** METRIC_DEFS order; a metric no trial recorded (guest downtime without a guest) is left out */
  metrics: MetricReport[];
  setup: SetupFacts;
  /** things a reader should know that do not fit a table cell */
  notes: string[];
}

export interface BuildOptions {
  seed: number;
  confidence?: number;
  resamples?: number;
}

/** The metric with this key, if the report has it. */
export function metricOf(report: CompareReport, key: MetricKey): MetricReport | undefined {
  return report.metrics.find((m) => m.key === key);
}

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

/**
 * RAM from the header's config: `ramBytes` (parsed, so "8G" and "8192M" read alike) when present,
 * else `ram` as the user typed it ("8G"; a bare "512" is MiB, as QEMU's -m reads it). A number
 * in `ram` is taken as bytes, except that one below 1 MiB can only have meant MiB.
 */
function describeRam(config: RunConfig): string | undefined {
  const bytesField = config.ramBytes;
  const ram = typeof bytesField === 'number' && bytesField > 0 ? bytesField : config.ram;
  if (typeof ram === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(ram)) return `${ram.trim()} MiB`;
  if (typeof ram === 'string' && ram.trim() !== '') return ram.trim();
  if (typeof ram !== 'number' || !Number.isFinite(ram) || ram <= 0) return undefined;
  const bytes = ram < MIB ? ram * MIB : ram;
  if (bytes % GIB === 0) return `${bytes / GIB} GiB`;
  if (bytes % MIB === 0) return `${bytes / MIB} MiB`;
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

function describeSmp(smp: unknown): string | undefined {
  if (typeof smp === 'number' && Number.isFinite(smp)) return String(smp);
  if (typeof smp === 'string' && smp.trim() !== '') return smp.trim();
  return undefined;
}

function finite(v: number | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Per variant: its trials counted and its failures grouped, and its completed measured trials. */
function variantReports(header: RunHeader, ours: readonly TrialRecord[], labels: string[], notes: string[]): { variants: VariantReport[]; completedBy: TrialRecord[][] } {
  const variants: VariantReport[] = [];
  const completedBy: TrialRecord[][] = [];
  for (const label of labels) {
    const mine = ours.filter((t) => t.variant === label);
    const measured = mine.filter((t) => !t.warmup);
    const completed = measured.filter((t) => t.status === 'completed');
    const hv = header.variants.find((v) => v.label === label);
    const qemu = hv?.qemu ?? mine[0]?.qemu;
    const variant: VariantReport = {
      label,
      trials: measured.length,
      completed: completed.length,
      failed: measured.length - completed.length,
      warmups: mine.length - measured.length,
      failures: failureGroups(measured),
      allFailed: measured.length > 0 && completed.length === 0,
    };
    if (qemu?.version) variant.qemuVersion = qemu.version;
    if (qemu?.path) variant.qemuPath = qemu.path;
    variants.push(variant);
    completedBy.push(completed);
    if (measured.length === 0) notes.push(`No measured trials for "${label}".`);
  }
  return { variants, completedBy };
}

/** Measured trials that did not complete, grouped by status and reason, most frequent first. */
function failureGroups(measured: readonly TrialRecord[]): FailureGroup[] {
  const groups = new Map<string, FailureGroup>();
  for (const t of measured) {
    if (t.status === 'completed') continue;
    const reason = t.reason?.trim() || '(no reason recorded)';
    const key = `${t.status}\u0000${reason}`;
    const g = groups.get(key) ?? { status: t.status, reason, count: 0, indices: [] };
    g.count++;
    g.indices.push(t.index);
    groups.set(key, g);
  }
  return [...groups.values()].sort((x, y) => y.count - x.count);
}

function metricReports(completedBy: TrialRecord[][], labels: string[], opts: Required<BuildOptions>, notes: string[]): MetricReport[] {
  const metrics: MetricReport[] = [];
  for (const def of METRIC_DEFS) {
    const values = completedBy.map((ts) => ts.map(def.pick).filter(finite));
    const anyValue = values.some((v) => v.length > 0);
    // Guest downtime exists only with a guest agent; an all-empty column would only be noise.
    if (!anyValue && def.key === 'guestDowntime') continue;
    values.forEach((v, i) => {
      const missing = (completedBy[i]?.length ?? 0) - v.length;
      if (missing > 0) {
        notes.push(`${missing} completed trial(s) of "${labels[i]}" recorded no ${def.label}.`);
      }
    });
    const baseline = values[0] ?? [];
    const { seed, resamples, confidence } = opts;
    metrics.push({
      key: def.key,
      label: def.label,
      unit: 'ms',
      values,
      summaries: values.map((v) => summarize(v)),
      // Every variant against the first; with more than one such comparison, Holm-adjusted.
      comparisons: adjustComparisons(values.map((v, i) => (i === 0 ? null : compareSamples(baseline, v, { seed, resamples, confidence })))),
    });
  }
  return metrics;
}

function setupFacts(header: RunHeader, ours: readonly TrialRecord[], labels: string[], variants: VariantReport[], completedBy: TrialRecord[][]): SetupFacts {
  const setup: SetupFacts = {
    accel: header.accel,
    qemuVersions: variants.map((v) => v.qemuVersion ?? '?'),
    hostCpu: header.host.cpuModel,
    hostKernel: header.host.kernel,
  };
  const ram = describeRam(header.config);
  if (ram) setup.ram = ram;
  const smp = describeSmp(header.config.smp);
  if (smp) setup.smp = smp;
  if (header.accelNote) setup.accelNote = header.accelNote;
  // What the trials booted, per variant: one variant may pass its own -bios (--b-arg).
  const booted = labels.map((label) => {
    const names = new Set(ours.filter((t) => t.variant === label && t.firmware).map((t) => firmwareLabel({ name: t.firmware!.name, bios: t.firmware!.path })));
    return names.size === 1 ? [...names][0] : undefined;
  });
  const firmware = booted.every(Boolean) && new Set(booted).size > 1 ? booted.join(' vs ') : firmwareLabel(header.config.firmware);
  if (firmware) setup.firmware = firmware;
  if (header.host.kvm) setup.hostKvm = header.host.kvm;
  const huge = completedBy.map((ts) => {
    const kib = ts.flatMap((t) => (t.hugePages?.source ? [t.hugePages.source.anonHugePagesKiB] : []));
    return kib.length ? Math.round(median(kib) / 1024) : undefined;
  });
  if (huge.some((x) => x !== undefined)) setup.sourceAnonHugePagesMiB = huge;
  return setup;
}

export function buildCompareReport(trials: readonly TrialRecord[], header: RunHeader, opts: BuildOptions): CompareReport {
  const confidence = opts.confidence ?? DEFAULT_CONFIDENCE;
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const notes: string[] = [];

  // Trials of another run in the same file would silently mix machines or settings.
  const ours = trials.filter((t) => t.runId === header.runId);
  if (ours.length < trials.length) {
    notes.push(`${trials.length - ours.length} trial record(s) from another run (not ${header.runId}) were ignored.`);
  }

  // Variant order is the header's; labels only seen in trials come after, so they still show.
  const labels = header.variants.map((v) => v.label);
  for (const t of ours) {
    if (!labels.includes(t.variant)) {
      labels.push(t.variant);
      notes.push(`Trials labelled "${t.variant}" are not among the header's variants; shown last.`);
    }
  }

  const { variants, completedBy } = variantReports(header, ours, labels, notes);
  const metrics = metricReports(completedBy, labels, { seed: opts.seed, resamples, confidence }, notes);
  return {
    runId: header.runId,
    createdAt: header.createdAt,
    migdownVersion: header.migdownVersion,
    confidence,
    seed: opts.seed >>> 0,
    resamples,
    variants,
    metrics,
    setup: setupFacts(header, ours, labels, variants, completedBy),
    notes,
  };
}
