// Was the host quiet enough for the figures to mean what they say? From the noise facts the
// results file records (trial/host-noise.ts) and the guest's quiet-time heartbeat gaps, one
// warning line with the figures when something crossed a threshold, and the noise floor.
//
// The thresholds, and why:
// - another qemu-system process: any. A second VM competes for the same cores, caches and memory
//   bandwidth as the migration, in bursts nobody can predict.
// - load before the first trial >= 0.5 per CPU: other work kept half the machine busy; a trial
//   needs a CPU for each of its guest's busy vCPUs plus the migration thread at the same time.
//   (Only the header's figure is judged: a trial's own load average still holds the previous
//   trial's QEMUs, so it would accuse migdown of its own work.)
// - other processes used >= 0.5 CPU over the trials (median): the same, measured over the trials
//   themselves, with migdown and its QEMUs subtracted.
// - steal >= 2 % over the trials (median): the hypervisor hands our CPUs to others in slices of
//   milliseconds, as long as the downtimes being measured.
// - a cpufreq governor other than "performance": the clock follows the load, so a pause that
//   starts after an idle moment runs slower than one after a busy one.
// - the guest's quiet-time heartbeat gaps exceed the heartbeat period by half the median
//   guest-observed downtime or more: that figure is then as much noise as pause.
// SMT is recorded but not judged: a busy sibling thread shows up in the load and others' CPU.

import { median } from 'simple-statistics';
import type { HostNoise } from '../trial/host-noise.js';
import type { RunHeader, TrialRecord } from '../trial/types.js';

export const NOISE_LIMITS = {
  loadPerCpu: 0.5,
  othersCpus: 0.5,
  stealPct: 2,
  /** quiet-time gap above the heartbeat period, as a fraction of the guest-observed downtime */
  floorFraction: 0.5,
} as const;

/** The guest's heartbeat gaps while nothing migrated (medians over the trials of each figure). */
export interface NoiseFloor {
  trials: number;
  medianGapMs: number;
  p99GapMs: number;
  maxGapMs: number;
  periodMs?: number;
}

/** One variant's longest quiet-time heartbeat gap per trial, summarised (the CSV's noise_floor_max_gap rows). */
export interface VariantFloor {
  variant: string;
  n: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
}

export interface NoiseAssessment {
  floor?: NoiseFloor;
  /** per variant, in the header's order; variants without a guest are left out */
  floorByVariant: VariantFloor[];
  /** one sentence per threshold crossed, each with its figure */
  reasons: string[];
  /** the one warning line, when there are reasons */
  warning?: string;
}

/** What a verdict is made from: a header's host facts and, over trials or a sample, steal and others' CPU. */
export interface NoiseFigures {
  loadAvg1?: number;
  cpus?: number;
  otherQemus?: number;
  /** where otherQemus was seen, e.g. "in 3 of 5 trials" */
  otherQemusWhere?: string;
  governors?: string[];
  othersCpus?: number;
  stealPct?: number;
  /** what the two over-time figures cover, e.g. "over the trials (median)" */
  over?: string;
}

/** Figures in warnings: two decimals below 10, one above. */
export const noiseNumber = (v: number) => String(Number(v.toFixed(v < 10 ? 2 : 1)));
const num = noiseNumber;

export function noiseReasons(f: NoiseFigures): string[] {
  const out: string[] = [];
  if (f.otherQemus) out.push(`${f.otherQemus} other qemu-system process${f.otherQemus === 1 ? '' : 'es'} running${f.otherQemusWhere ? ` ${f.otherQemusWhere}` : ''}`);
  if (f.loadAvg1 !== undefined && f.cpus && f.loadAvg1 / f.cpus >= NOISE_LIMITS.loadPerCpu) {
    out.push(`load average ${num(f.loadAvg1)} on ${f.cpus} CPU${f.cpus === 1 ? '' : 's'}`);
  }
  const over = f.over ? ` ${f.over}` : '';
  if (f.othersCpus !== undefined && f.othersCpus >= NOISE_LIMITS.othersCpus) out.push(`other processes used ${num(f.othersCpus)} CPU${over}`);
  if (f.stealPct !== undefined && f.stealPct >= NOISE_LIMITS.stealPct) out.push(`steal time ${num(f.stealPct)}%${over}`);
  const slow = (f.governors ?? []).filter((g) => g !== 'performance');
  if (slow.length) out.push(`CPU frequency governor ${slow.join('/')} (not performance)`);
  return out;
}

export function noiseWarning(reasons: string[]): string | undefined {
  return reasons.length ? `noisy host: ${reasons.join('; ')}; timings vary more than on a quiet machine` : undefined;
}

/** The figures a live host gives (doctor): its facts now and a short sample of steal and others' CPU. */
export function hostNoiseFigures(h: HostNoise, sample: { stealPct?: number; othersCpus?: number } = {}): NoiseFigures {
  return {
    loadAvg1: h.loadAvg[0],
    cpus: h.cpus,
    otherQemus: h.otherQemus.length,
    ...(h.governors && { governors: h.governors }),
    ...sample,
    over: 'just now',
  };
}

const medianOf = (values: Array<number | undefined>) => {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length ? median(v) : undefined;
};

export function noiseFloor(trials: TrialRecord[]): NoiseFloor | undefined {
  const gaps = trials.filter((t) => !t.warmup && t.guest?.baselineGapMs).map((t) => ({ gaps: t.guest!.baselineGapMs!, period: t.guest!.heartbeatPeriodMs }));
  if (!gaps.length) return undefined;
  const period = medianOf(gaps.map((g) => g.period));
  return {
    trials: gaps.length,
    medianGapMs: medianOf(gaps.map((g) => g.gaps.median))!,
    p99GapMs: medianOf(gaps.map((g) => g.gaps.p99))!,
    maxGapMs: medianOf(gaps.map((g) => g.gaps.max))!,
    ...(period !== undefined && { periodMs: period }),
  };
}

/** The verdict on a stored run: its header's host facts, its trials' noise and noise floor. */
export function assessNoise(header: RunHeader, trials: TrialRecord[]): NoiseAssessment {
  const measured = trials.filter((t) => !t.warmup);
  const withNoise = measured.filter((t) => t.noise);
  const qemuTrials = withNoise.filter((t) => (t.noise?.otherQemus ?? 0) > 0);
  const headerQemus = header.hostNoise?.otherQemus.length ?? 0;
  const trialQemus = Math.max(0, ...qemuTrials.map((t) => t.noise!.otherQemus));
  const figures: NoiseFigures = {
    ...(header.hostNoise && { loadAvg1: header.hostNoise.loadAvg[0], cpus: header.hostNoise.cpus }),
    ...(header.hostNoise?.governors && { governors: header.hostNoise.governors }),
    otherQemus: Math.max(headerQemus, trialQemus),
    ...(qemuTrials.length && { otherQemusWhere: `in ${qemuTrials.length} of ${measured.length} trial${measured.length === 1 ? '' : 's'}` }),
    ...(!qemuTrials.length && headerQemus && { otherQemusWhere: 'before the first trial' }),
    over: `over the trials (median)`,
  };
  const others = medianOf(withNoise.map((t) => t.noise?.othersCpus));
  const steal = medianOf(withNoise.map((t) => t.noise?.stealPct));
  if (others !== undefined) figures.othersCpus = others;
  if (steal !== undefined) figures.stealPct = steal;
  const reasons = noiseReasons(figures);

  const floor = noiseFloor(trials);
  const observed = medianOf(measured.filter((t) => t.status === 'completed').map((t) => t.guest?.observedDowntimeMs));
  if (floor && observed !== undefined && observed > 0) {
    const excess = floor.maxGapMs - (floor.periodMs ?? 0);
    if (excess >= NOISE_LIMITS.floorFraction * observed) {
      reasons.push(`the quiet guest's heartbeat gaps reach ${num(floor.maxGapMs)} ms against a guest-observed downtime of ${num(observed)} ms`);
    }
  }
  const warning = noiseWarning(reasons);
  const floorByVariant = header.variants.flatMap((v): VariantFloor[] => {
    const gaps = measured.filter((t) => t.variant === v.label && t.guest?.baselineGapMs).map((t) => t.guest!.baselineGapMs!.max);
    return gaps.length ? [{ variant: v.label, n: gaps.length, medianMs: median(gaps), minMs: Math.min(...gaps), maxMs: Math.max(...gaps) }] : [];
  });
  return { ...(floor && { floor }), floorByVariant, reasons, ...(warning && { warning }) };
}
