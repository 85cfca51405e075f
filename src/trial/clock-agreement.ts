// The same pause measured by two independent clocks: the guest's heartbeats (host arrival
// times of the last source beat and the first destination beat) and QEMU's own trace (from
// src-downtime-start on the source to the destination's VM-started checkpoint). What each
// spans is written down in docs/measures.md.
//
// With a heartbeat period P the guest-observed gap reads up to P more than the pause (the last
// beat comes up to P before the vCPUs stop, the first up to P after they start), and a little
// less when a beat slips out between src-downtime-start and the vCPUs actually stopping. An
// honest pair therefore differs by 0 to P; migdown allows 0.5 ms either side for the reader's
// and the trace's own resolution. Further apart than two periods, one of the clocks is wrong for
// that trial, and every output format flags it.

import type { DowntimeBreakdown } from '../trace/breakdown.js';
import type { ClockAgreement } from './types.js';
import type { GuestObservation } from '../guest/types.js';

export type { ClockAgreement } from './types.js';

/** Slack either side of [0, P] for what a reader thread and a trace line can resolve, ms. */
export const HONEST_SLACK_MS = 0.5;
/** Disagreement beyond this many heartbeat periods flags the trial. */
export const FLAG_PERIODS = 2;


const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** Both measures and their difference, or undefined when a trial lacks either. */
export function clockAgreement(guest: GuestObservation | undefined, breakdown: DowntimeBreakdown | undefined): ClockAgreement | undefined {
  const g = guest?.observedDowntimeMs;
  const t = breakdown?.endToEndPauseMs;
  const p = guest?.heartbeatPeriodMs;
  if (g === undefined || t === undefined || p === undefined || !(p > 0)) return undefined;
  const d = r3(g - t);
  return {
    guestObservedMs: g,
    tracedPauseMs: t,
    differenceMs: d,
    heartbeatPeriodMs: p,
    honest: d >= -HONEST_SLACK_MS && d <= p + HONEST_SLACK_MS,
    flagged: Math.abs(d) > FLAG_PERIODS * p,
    ...(breakdown?.vcpusStoppedAfterMs !== undefined && { vcpusStoppedAfterMs: breakdown.vcpusStoppedAfterMs }),
    ...edges(guest),
  };
}

function edges(guest: GuestObservation | undefined): Pick<ClockAgreement, 'edgesReadOnTime'> {
  const b = guest?.beats;
  if (b?.lastSourceChunkBeats === undefined || b.firstDestinationChunkBeats === undefined) return {};
  return { edgesReadOnTime: b.lastSourceChunkBeats === 1 && b.firstDestinationChunkBeats === 1 };
}

export interface ClockAgreementSummary {
  /** trials with both measures */
  n: number;
  honest: number;
  flagged: number;
  /** median of the differences, ms */
  medianDifferenceMs?: number;
  minDifferenceMs?: number;
  maxDifferenceMs?: number;
}

export function summarizeClockAgreement(cs: ReadonlyArray<ClockAgreement | undefined>): ClockAgreementSummary {
  const xs = cs.filter((c): c is ClockAgreement => c !== undefined);
  const ds = xs.map((c) => c.differenceMs).sort((a, b) => a - b);
  const mid = ds.length ? (ds.length % 2 ? ds[(ds.length - 1) / 2]! : (ds[ds.length / 2 - 1]! + ds[ds.length / 2]!) / 2) : undefined;
  return {
    n: xs.length,
    honest: xs.filter((c) => c.honest).length,
    flagged: xs.filter((c) => c.flagged).length,
    ...(mid !== undefined && { medianDifferenceMs: r3(mid), minDifferenceMs: ds[0]!, maxDifferenceMs: ds.at(-1)! }),
  };
}
