// What `compare --resume FILE` must refuse or say before it appends to a file it did not
// write in this session.

import { UsageError } from '../errors.js';
import type { ResultsContent } from '../trial/results-file.js';

/**
 * Options that shape the workload and have a default today. A file that does not record one
 * was written before migdown had it; resuming would silently run the new trials with today's
 * default, so they would not measure the same thing as the recorded ones.
 */
export const WORKLOAD_OPTIONS = ['ram', 'smp', 'speed', 'downtime', 'runs', 'poll', 'accel', 'guest', 'touch', 'dirtyRate', 'heartbeat', 'qemuArg', 'param', 'capability'] as const;

export function missingWorkloadOptions(recorded: Record<string, unknown>): string[] {
  return WORKLOAD_OPTIONS.filter((k) => recorded[k] === undefined).map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
}

/** Throws for a file that cannot be resumed faithfully; returns the warnings to print. */
export function checkResumable(file: string, content: ResultsContent, recorded: Record<string, unknown>): string[] {
  const missing = missingWorkloadOptions(recorded);
  if (missing.length) {
    throw new UsageError(
      `--resume: ${file} does not record ${missing.join(', ')} (written by an older migdown); today's defaults could change the workload: start a new compare`,
    );
  }
  const warnings: string[] = [];
  if (content.cutLastLine) {
    warnings.push(`${file}: the last line was cut short (a writer killed mid-line); it stays as an unreadable line and the new trials start on a line of their own`);
  }
  return warnings;
}
