// A `migdown run`'s downtimes in brief: how many trials completed, and the median and range of
// QEMU's downtime, the guest-observed one and the total time.

import { max, median, min } from 'simple-statistics';
import type { TrialRecord } from '../trial/types.js';

export interface RunSummary {
  n: number;
  completed: number;
  downtimeMs?: { median: number; min: number; max: number };
  guestDowntimeMs?: { median: number; min: number; max: number };
  totalTimeMs?: { median: number; min: number; max: number };
}

function spread(values: number[]) {
  return values.length ? { median: median(values), min: min(values), max: max(values) } : undefined;
}

export function summarizeRun(trials: readonly TrialRecord[]): RunSummary {
  const measured = trials.filter((t) => !t.warmup);
  const done = measured.filter((t) => t.status === 'completed');
  const pick = (f: (t: TrialRecord) => number | undefined) =>
    done.map(f).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const s: RunSummary = { n: measured.length, completed: done.length };
  const dt = spread(pick((t) => t.info?.downtimeMs));
  const gt = spread(pick((t) => t.guest?.observedDowntimeMs));
  const tt = spread(pick((t) => t.info?.totalTimeMs));
  if (dt) s.downtimeMs = dt;
  if (gt) s.guestDowntimeMs = gt;
  if (tt) s.totalTimeMs = tt;
  return s;
}
