// A series of trials, run one after another (parallel VMs would disturb each other's
// timings), each appended to the results file as soon as it ends.

import { Interrupted } from '../errors.js';
import type { ResultsWriter } from './results-file.js';
import { removeStaleRunDirs } from '../util/rundir.js';
import { runTrial, type TrialConfig, type TrialContext } from './trial.js';
import { sampleNoise } from './host-noise-read.js';
import { trialNoise } from './host-noise.js';
import type { TrialRecord } from './types.js';

export interface PlannedTrial {
  variant: string;
  index: number;
  warmup: boolean;
  point?: Record<string, string | number>;
  config: TrialConfig;
}

export interface SeriesHooks {
  onTrialStart?: (plan: PlannedTrial, position: number, total: number) => void;
  onTrialDone?: (record: TrialRecord, position: number, total: number) => void;
  onPhase?: TrialContext['onPhase'];
  onSample?: TrialContext['onSample'];
}

export async function runSeries(
  runId: string,
  plan: PlannedTrial[],
  writer: ResultsWriter,
  signal: AbortSignal,
  hooks: SeriesHooks = {},
): Promise<TrialRecord[]> {
  await removeStaleRunDirs();
  const done: TrialRecord[] = [];
  for (const [i, p] of plan.entries()) {
    if (signal.aborted) throw signal.reason instanceof Interrupted ? signal.reason : new Interrupted('SIGINT');
    hooks.onTrialStart?.(p, i + 1, plan.length);
    // Sampled around the trial, when none of migdown's own QEMUs is running.
    const before = await sampleNoise();
    const record = await runTrial(p.config, {
      runId,
      variant: p.variant,
      index: p.index,
      warmup: p.warmup,
      ...(p.point && { point: p.point }),
      signal,
      ...(hooks.onPhase && { onPhase: hooks.onPhase }),
      ...(hooks.onSample && { onSample: hooks.onSample }),
    });
    // A trial cut short by the signal measured nothing; one that finished before it did.
    if (signal.aborted && record.status !== 'completed') break;
    record.noise = trialNoise(before, await sampleNoise());
    writer.append(record);
    done.push(record);
    hooks.onTrialDone?.(record, i + 1, plan.length);
  }
  if (signal.aborted) throw signal.reason instanceof Interrupted ? signal.reason : new Interrupted('SIGINT');
  return done;
}
