// Two stored runs as one compare: CI measures each build once (`migdown run ... --out
// BUILD.jsonl`) and compares any two later (`migdown report OLD.jsonl NEW.jsonl`). Pure: the
// records are relabelled, never changed otherwise.

import type { RunConfig, RunHeader, TrialRecord } from './types.js';

export interface StoredRun {
  /** where it was read from, for notes */
  file: string;
  header: RunHeader;
  trials: TrialRecord[];
}

export interface CombinedRuns {
  header: RunHeader;
  trials: TrialRecord[];
  /** what a reader should know: which variant of a compare was taken, how the runs differ */
  notes: string[];
}

/** The settings that make two runs comparable; a difference is named in a note. */
// The guest's touch mode, dirty rate and working set are fields of `guest`.
const SETTINGS = ['ram', 'smp', 'speed', 'downtime', 'guest', 'params', 'capabilities', 'postcopy', 'extraArgs', 'sweep'] as const satisfies ReadonlyArray<keyof RunConfig>;

const show = (v: unknown) => (v === undefined ? '(unset)' : typeof v === 'string' ? v : JSON.stringify(v));

/**
 * OLD becomes variant A (the baseline), NEW variant B. From a compare file the last variant
 * (its build under test) is taken.
 */
export function combineRuns(old: StoredRun, neu: StoredRun, labels: readonly [string, string]): CombinedRuns {
  const notes: string[] = [];
  const runId = `${old.header.runId}+${neu.header.runId}`;
  const pick = (run: StoredRun, label: string) => {
    const v = run.header.variants.at(-1);
    if (!v) throw new Error(`${run.file}: its header names no variant`);
    if (run.header.variants.length > 1) notes.push(`${run.file} is a compare: its last variant "${v.label}" is taken.`);
    const trials = run.trials.filter((t) => t.variant === v.label).map((t) => ({ ...t, runId, variant: label }));
    return { variant: { ...v, label }, trials };
  };
  const a = pick(old, labels[0]);
  const b = pick(neu, labels[1]);

  for (const key of SETTINGS) {
    const [x, y] = [old.header.config[key], neu.header.config[key]];
    if (JSON.stringify(x) !== JSON.stringify(y)) notes.push(`The runs differ in ${key}: ${show(x)} in ${old.file}, ${show(y)} in ${neu.file}.`);
  }
  if (old.header.accel !== neu.header.accel) notes.push(`The runs used different accelerators: ${old.header.accel} and ${neu.header.accel}.`);
  const host = (h: RunHeader) => `${h.host.hostname} (${h.host.cpuModel})`;
  if (host(old.header) !== host(neu.header)) notes.push(`The runs were measured on different hosts: ${host(old.header)} and ${host(neu.header)}.`);

  const seed = neu.header.config.seed;
  const header: RunHeader = {
    ...neu.header,
    runId,
    command: 'compare',
    config: {
      ...neu.header.config,
      seed: typeof seed === 'number' ? seed : 1,
      combined: [old, neu].map((r) => ({ file: r.file, runId: r.header.runId, createdAt: r.header.createdAt })),
    },
    variants: [a.variant, b.variant],
  };
  return { header, trials: [...a.trials, ...b.trials], notes };
}

/** Rename variants, by position (A, B): for `report --label-a/--label-b`. */
export function relabel(header: RunHeader, trials: TrialRecord[], labels: Array<string | undefined>): { header: RunHeader; trials: TrialRecord[] } {
  const map = new Map<string, string>();
  header.variants.forEach((v, i) => {
    const to = labels[i];
    if (to !== undefined && to !== '') map.set(v.label, to);
  });
  if (map.size === 0) return { header, trials };
  return {
    header: { ...header, variants: header.variants.map((v) => ({ ...v, label: map.get(v.label) ?? v.label })) },
    trials: trials.map((t) => (map.has(t.variant) ? { ...t, variant: map.get(t.variant)! } : t)),
  };
}
