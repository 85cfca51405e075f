// Where a trial's wall time goes, phase by phase, so the next slow one is visible in every
// record: boot (QEMUs started, monitors answering), ready (the guest touched its RAM and
// took its heartbeat baseline), configure (speed, downtime, capabilities, parameters, and any
// measurement before migrating), migrate (`migrate -d` to a final status), verify (the
// destination running, the guest's heartbeats), stop (both QEMUs gone, files read and removed).

import { performance } from 'node:perf_hooks';

export const TRIAL_PHASES = ['boot', 'ready', 'configure', 'migrate', 'verify', 'stop'] as const;
export type TrialPhase = (typeof TRIAL_PHASES)[number];

/** ms spent in each phase the trial reached; a phase it never entered is absent. */
export type PhaseTimes = Partial<Record<TrialPhase, number>>;

export class PhaseClock {
  private current?: TrialPhase;
  private since = 0;
  private readonly times: PhaseTimes = {};

  /** End the running phase (if any) and start `phase`. */
  enter(phase: TrialPhase): void {
    const now = performance.now();
    if (this.current) this.times[this.current] = (this.times[this.current] ?? 0) + (now - this.since);
    this.current = phase;
    this.since = now;
  }

  /** End the running phase; the times, rounded to 0.1 ms. */
  finish(): PhaseTimes {
    if (this.current) this.enter(this.current);
    this.current = undefined;
    const out: PhaseTimes = {};
    for (const p of TRIAL_PHASES) if (this.times[p] !== undefined) out[p] = Math.round(this.times[p]! * 10) / 10;
    return out;
  }
}
