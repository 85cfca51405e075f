// A series of trials, run one after another (parallel VMs would disturb each other's
// timings), each appended to the results file as soon as it ends.

import { CouldNotMeasure, Interrupted } from '../errors.js';
import type { ResultsWriter } from './results-file.js';
import { removeStaleRunDirs } from '../util/rundir.js';
import { runTrial } from './trial.js';
import type { TrialConfig, TrialContext } from './trial-config.js';
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
  onQemuStarted?: TrialContext['onQemuStarted'];
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
  /** per variant and QEMU binary, the error of its last trial (none when that one worked) */
  const lastError = new Map<string, { reason: string; position: number }>();
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
      ...(hooks.onQemuStarted && { onQemuStarted: hooks.onQemuStarted }),
    });
    // A trial cut short by the signal measured nothing; one that finished before it did.
    if (signal.aborted && record.status !== 'completed') break;
    record.noise = trialNoise(before, await sampleNoise());
    const saved = writer.append(record);
    done.push(record);
    hooks.onTrialDone?.(record, i + 1, plan.length);
    // The results file cannot take more: stop measuring what could not be kept; the caller
    // shows what was measured and says which file failed (writer.failure).
    if (!saved) break;
    // The same error twice in a row from the same QEMU will not go away by itself: a third
    // try would only repeat it (and its QEMU's start-up cost). Per variant, so that a compare's
    // alternating A B A B stops as well when only one of them is broken.
    const qemu = p.config.qemu.path;
    const variantKey = `${p.variant}\0${qemu}`;
    const lastFailure = lastError.get(variantKey);
    if (record.status === 'error' && lastFailure && lastFailure.reason === (record.reason ?? '')) {
      throw new CouldNotMeasure(
        `trials ${lastFailure.position} and ${i + 1} failed the same way with ${qemu}: ${record.reason ?? 'no reason given'}; stopped (both are in the results file)`,
      );
    }
    if (record.status === 'error') lastError.set(variantKey, { reason: record.reason ?? '', position: i + 1 });
    else lastError.delete(variantKey);
  }
  if (signal.aborted) throw signal.reason instanceof Interrupted ? signal.reason : new Interrupted('SIGINT');
  return done;
}
