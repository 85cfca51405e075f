// One finished trial as a line, as the progress display prints it: apart from the run table,
// whose cli-table3 a command then need not load before its first trial.

import type { TrialRecord } from '../trial/types.js';

export const ms = (v: number | undefined) => (v === undefined ? '-' : `${Number(v.toFixed(1))} ms`);

/** One line per finished trial, for logs and non-TTY progress. */
export function trialLine(t: TrialRecord, of: number): string {
  const what =
    t.status === 'completed'
      ? `downtime ${ms(t.info?.downtimeMs)}${t.guest?.observedDowntimeMs !== undefined ? `, guest-observed ${ms(t.guest.observedDowntimeMs)}` : ''}, total ${ms(t.info?.totalTimeMs)}`
      : `${t.status}: ${t.reason ?? ''}`;
  return `${t.variant === 'run' ? '' : `[${t.variant}] `}trial ${t.index}/${of}${t.warmup ? ' (warm-up)' : ''}: ${what}`;
}
