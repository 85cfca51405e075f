// The noise floor and the noisy-host warning as lines for every text format; the verdict
// itself is made in src/stats/noise.ts.

import { noiseNumber as num, type NoiseAssessment, type NoiseFloor } from '../stats/noise.js';

export function describeNoiseFloor(f: NoiseFloor): string {
  const period = f.periodMs !== undefined ? `, heartbeat every ${num(f.periodMs)} ms` : '';
  return (
    `Noise floor: the guest's heartbeat gaps before migrating were median ${num(f.medianGapMs)} ms, p99 ${num(f.p99GapMs)} ms, ` +
    `max ${num(f.maxGapMs)} ms (medians over ${f.trials} trial${f.trials === 1 ? '' : 's'}${period}).`
  );
}

/** [noise floor line, warning line], each only when there is something to say. */
export function noiseLines(a: NoiseAssessment): { floor?: string; warning?: string } {
  return { ...(a.floor && { floor: describeNoiseFloor(a.floor) }), ...(a.warning && { warning: `Warning: ${a.warning}.` }) };
}
