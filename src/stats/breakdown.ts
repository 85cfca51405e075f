// Breakdowns across trials: the median of each phase per variant, and the change of each
// phase's median from the baseline to a candidate (the same change as stats/compare.ts).

import { median } from 'simple-statistics';
import { PHASE_NAMES, TOP_N, type DeviceTime, type DowntimeBreakdown, type PhaseSide } from '../trace/breakdown-types.js';
import { medianChange, type MedianChangeOf } from './compare.js';

export interface Spread {
  n: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
}

export interface PhaseSummary extends Spread {
  key: string;
  name: string;
  side: PhaseSide;
}

export interface DeviceSummary {
  idstr: string;
  instance: number;
  type: string;
  n: number;
  medianUs: number;
}

export interface BreakdownSummary {
  /** breakdowns that were available (the others only count in `unavailable`) */
  n: number;
  unavailable: number;
  /** median of each phase over the trials that had it, in the order phases first appear */
  phases: PhaseSummary[];
  endToEndPauseMs?: Spread;
  sourceDowntimeMs?: Spread;
  /** top 5 devices by median µs */
  topDevices: { save: DeviceSummary[]; load: DeviceSummary[] };
  /**
   * How many trials stopped dirty logging inside the pause, outside it, or could not tell, and
   * how long the slot updates that stopped it took. Counted over breakdowns with phases and
   * those with only a legacy pause (QEMU < 8.2).
   */
  dirtyLogStop: { inPause: number; outside: number; unknown: number; durationMs?: Spread };
  /** the pause bracketed by run states, where only that was traced (QEMU < 8.2) */
  legacyPauseMs?: Spread;
  notes: string[];
}

function spread(values: number[]): Spread | undefined {
  if (!values.length) return undefined;
  return { n: values.length, medianMs: round3(median(values)), minMs: Math.min(...values), maxMs: Math.max(...values) };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function deviceSummary(bs: DowntimeBreakdown[], pick: (b: DowntimeBreakdown) => DeviceTime[]): DeviceSummary[] {
  // Only the top 5 of each trial are kept in a breakdown, so a device's median is over the
  // trials where it made the top 5; n says how many that was.
  const byId = new Map<string, { d: DeviceTime; us: number[] }>();
  for (const b of bs) {
    for (const d of pick(b)) {
      const k = `${d.type}\u0000${d.idstr}\u0000${d.instance}`;
      const e = byId.get(k) ?? { d, us: [] };
      e.us.push(d.us);
      byId.set(k, e);
    }
  }
  return [...byId.values()]
    .map(({ d, us }) => ({ idstr: d.idstr, instance: d.instance, type: d.type, n: us.length, medianUs: median(us) }))
    .sort((a, b) => b.medianUs - a.medianUs || b.n - a.n)
    .slice(0, TOP_N);
}

/** Per-variant summary: the median of each phase across trials. */
export function summarizeBreakdowns(bs: DowntimeBreakdown[]): BreakdownSummary {
  const ok = (bs ?? []).filter((b) => b && b.available);
  const phases = new Map<string, { name: string; side: PhaseSide; values: number[] }>();
  for (const b of ok) {
    for (const p of b.phases) {
      // Today's label for the key: a results file keeps the label it was recorded with.
      const e = phases.get(p.key) ?? { name: PHASE_NAMES[p.key] ?? p.name, side: p.side, values: [] };
      e.values.push(p.durationMs);
      phases.set(p.key, e);
    }
  }
  const notes: string[] = [];
  const unavailable = (bs ?? []).length - ok.length;
  if (unavailable) notes.push(`${unavailable} trial(s) without a breakdown`);
  const partial = [...phases.entries()].filter(([, e]) => e.values.length < ok.length);
  if (partial.length) {
    notes.push(`phases not seen in every trial (checkpoint order differed): ${partial.map(([k, e]) => `${k} (${e.values.length}/${ok.length})`).join(', ')}`);
  }
  const e2e = spread(ok.flatMap((b) => (b.endToEndPauseMs !== undefined ? [b.endToEndPauseMs] : [])));
  const stops = (bs ?? []).filter((b) => b && (b.available || b.legacyPause));
  const stopDurations = spread(stops.flatMap((b) => (b.dirtyLogStop.durationMs !== undefined ? [b.dirtyLogStop.durationMs] : [])));
  const legacy = spread(stops.flatMap((b) => (b.legacyPause ? [b.legacyPause.ms] : [])));
  const srcDown = spread(ok.flatMap((b) => (b.sourceDowntimeMs !== undefined ? [b.sourceDowntimeMs] : [])));
  return {
    n: ok.length,
    unavailable,
    phases: [...phases.entries()].map(([key, e]) => ({ key, name: e.name, side: e.side, ...spread(e.values)! })),
    ...(e2e && { endToEndPauseMs: e2e }),
    ...(srcDown && { sourceDowntimeMs: srcDown }),
    topDevices: { save: deviceSummary(ok, (b) => b.topDevices.save), load: deviceSummary(ok, (b) => b.topDevices.load) },
    dirtyLogStop: {
      inPause: stops.filter((b) => b.dirtyLogStop.inPause === true).length,
      outside: stops.filter((b) => b.dirtyLogStop.inPause === false).length,
      unknown: stops.filter((b) => b.dirtyLogStop.inPause === undefined).length,
      ...(stopDurations && { durationMs: stopDurations }),
    },
    ...(legacy && { legacyPauseMs: legacy }),
    notes,
  };
}

/** The change of one phase's median; deltaMs and deltaPct rounded to µs and 0.1 %. */
export interface PhaseChange extends MedianChangeOf {
  key: string;
  name: string;
  side: PhaseSide;
}

export interface BreakdownComparison {
  phases: PhaseChange[];
  endToEndPauseMs?: PhaseChange;
  sourceDowntimeMs?: PhaseChange;
  notes: string[];
}

function change(key: string, name: string, side: PhaseSide, a: Spread | undefined, b: Spread | undefined): PhaseChange {
  const out: PhaseChange = { key, name, side, nA: a?.n ?? 0, nB: b?.n ?? 0 };
  if (a) out.medianA = a.medianMs;
  if (b) out.medianB = b.medianMs;
  if (a && b) {
    const c = medianChange(a.medianMs, b.medianMs);
    out.deltaMs = round3(c.deltaMs);
    if (c.deltaPct !== undefined) out.deltaPct = Math.round(c.deltaPct * 10) / 10;
  }
  return out;
}

const asSummary = (x: BreakdownSummary | DowntimeBreakdown[]): BreakdownSummary => (Array.isArray(x) ? summarizeBreakdowns(x) : x);

/**
 * Change of each phase's median from variant A (baseline) to B, in the order of A's phases
 * followed by phases only B has. Same sign convention as src/stats/compare.ts.
 */
export function compareBreakdowns(a: BreakdownSummary | DowntimeBreakdown[], b: BreakdownSummary | DowntimeBreakdown[]): BreakdownComparison {
  const A = asSummary(a);
  const B = asSummary(b);
  const keys = [...new Set([...A.phases.map((p) => p.key), ...B.phases.map((p) => p.key)])];
  const phases = keys.map((k) => {
    const pa = A.phases.find((p) => p.key === k);
    const pb = B.phases.find((p) => p.key === k);
    const meta = (pa ?? pb)!;
    return change(k, meta.name, meta.side, pa, pb);
  });
  const notes: string[] = [];
  if (!A.n || !B.n) notes.push(`breakdowns available: A ${A.n}, B ${B.n}; a change needs both`);
  const onlyOne = phases.filter((p) => !p.nA || !p.nB);
  if (onlyOne.length) notes.push(`phases present in only one variant: ${onlyOne.map((p) => p.key).join(', ')}`);
  const e2e = A.endToEndPauseMs || B.endToEndPauseMs ? change('end-to-end', 'end-to-end pause', 'both', A.endToEndPauseMs, B.endToEndPauseMs) : undefined;
  const sd = A.sourceDowntimeMs || B.sourceDowntimeMs ? change('source-downtime', 'source downtime (QEMU)', 'source', A.sourceDowntimeMs, B.sourceDowntimeMs) : undefined;
  return { phases, ...(e2e && { endToEndPauseMs: e2e }), ...(sd && { sourceDowntimeMs: sd }), notes };
}
