// The plan of `compare` (and `reproduce`, and `compare --resume`): its options, after the
// scenario, turned into one checked value before any QEMU is built, probed or started.
// planCompare is pure; readResumeFile is the one read it needs for --resume.

import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { readResults } from '../trial/results-file.js';
import type { ResultsContent } from '../trial/results-read.js';
import type { RunHeader, TrialRecord } from '../trial/types.js';
import type { FirmwareRequest } from '../qemu/firmware.js';
import type { Format } from '../render/formats.js';
import { mulberry32 } from '../stats/compare.js';
import { parsePositiveInt } from '../util/units.js';
import { planQemuSource, type QemuSource } from './qemu-source.js';
import { planExperiment, planRemote, type ExperimentInputs, type ExperimentPlan } from './experiment-plan.js';
import { parseGateOptions, type GateThresholds, type RawGateOptions } from './gates.js';
import { assertResumeMatches, continueCommandLine } from './resume.js';
import { checkResumable } from './resume-checks.js';
import { TWO_VARIANT_KEYS, variantSpecs, type RawVariantOptions, type VariantSpec } from './variants.js';
import type { RawVmOptions } from './vm-options.js';

export const ORDERS = ['alternate', 'shuffle'] as const;
export type Order = (typeof ORDERS)[number];

export interface RawCompareOptions extends RawVmOptions, RawGateOptions, RawVariantOptions {
  warmup: string;
  order: Order;
  seed?: string;
  format: Format;
  confidence: string;
  resume?: string;
}

/** An interrupted compare's results file, read for --resume. */
export interface ResumeFile {
  file: string;
  content: ResultsContent;
  header: RunHeader;
  /** the options the file recorded (not yet checked against this command line) */
  recorded: object;
}

export interface ComparePlan extends ExperimentPlan {
  variants: Array<VariantSpec & { source: QemuSource }>;
  warmup: number;
  order: Order;
  /** the bootstrap and shuffle seed: the resumed file's, else --seed, else a random one */
  seed: number;
  confidence: number;
  gates: GateThresholds;
  /** where the trials go: the resumed file, --out, or a new file */
  outFile: string;
  /** the options the header records, for a later --resume */
  recordedOptions: Record<string, unknown>;
  /** the command line that continues this compare, said when it is interrupted */
  continueWith: string;
  resume?: { header: RunHeader; trials: TrialRecord[]; warnings: string[] };
}

/** What planCompare needs besides the options and the shared inputs. */
export interface CompareInputs extends ExperimentInputs {
  /** the command: its option table (for --resume's comparison) and where each value came from */
  cmd: Command;
  /** the options as typed, before the scenario filled any in */
  typed: Record<string, unknown>;
  /** --out, or the new file's name */
  outFile: string;
  /** the seed when --seed is not given */
  randomSeed: number;
  /** QEMU of a --variant LABEL without one */
  defaultQemu: string;
  resume?: ResumeFile;
}

/** The compare run of a --resume file and the options it recorded, or a UsageError. */
export async function readResumeFile(file: string): Promise<ResumeFile> {
  const content = await readResults(file);
  const header = content.headers.find((h) => h.command === 'compare');
  if (!header) throw new UsageError(`--resume: ${file} holds no compare run`);
  const recorded = header.config.options;
  if (!recorded || typeof recorded !== 'object') throw new UsageError(`--resume: ${file} does not record its options`);
  return { file, content, header, recorded };
}

export function parseConfidence(text: string): number {
  const c = Number(text);
  if (!/^0?\.\d+$/.test(text.trim()) || !(c > 0.5 && c < 1)) {
    throw new UsageError(`--confidence: "${text}" is not a level between 0.5 and 1 (e.g. 0.95)`);
  }
  return c;
}

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The file's trials and the warnings to say, once this command line is known to match it. */
function planResume(opts: RawCompareOptions, inputs: CompareInputs): ComparePlan['resume'] {
  const r = inputs.resume;
  if (!r) return undefined;
  // The file's options are never run: this command line's must be the same (src/commands/resume.ts).
  assertResumeMatches(inputs.cmd, r.file, r.recorded, opts as unknown as Record<string, unknown>);
  // Then what the file itself lacks: workload options an older migdown did not record, a cut line.
  const warnings = checkResumable(r.file, r.content, r.recorded as Record<string, unknown>);
  return { header: r.header, trials: r.content.trials.filter((t) => t.runId === r.header.runId), warnings };
}

function planVariants(opts: RawCompareOptions, inputs: CompareInputs): ComparePlan['variants'] {
  if (!inputs.resume && (opts.variant ?? []).length) {
    const both = TWO_VARIANT_KEYS.filter((k) => inputs.given(k));
    if (both.length) throw new UsageError(`--variant names every variant; drop --${both.map(kebab).join(', --')} (the two-variant form)`);
  }
  return variantSpecs(opts, inputs.defaultQemu).map((spec) => ({ ...spec, source: planQemuSource(spec.qemu) }));
}

/** The plan of `compare` (pure), checked in the order the checks always ran. */
export function planCompare(opts: RawCompareOptions, inputs: CompareInputs): ComparePlan {
  const shared = planExperiment(opts, inputs, [['--a-arg', opts.aArg], ['--b-arg', opts.bArg]]);
  const resume = planResume(opts, inputs);
  const vm = shared.points[0]!.vm;
  if (vm.runs < 3) throw new UsageError(`--runs: ${vm.runs} is too few to compare; the rank test needs at least 3 per variant`);
  const warmup = parsePositiveInt('--warmup', opts.warmup, { min: 0, max: 1000 });
  const confidence = parseConfidence(opts.confidence);
  const seed = opts.seed !== undefined ? parsePositiveInt('--seed', opts.seed, { min: 0, max: 2 ** 32 - 1 }) : inputs.randomSeed;
  const gates = parseGateOptions(opts);
  const variants = planVariants(opts, inputs);
  const remote = planRemote(opts, vm, variants.map((v) => v.extraArgs));
  // A file from before --firmware ran SeaBIOS: a resumed compare must not switch mid-way.
  const firmware: FirmwareRequest = resume && opts.firmware === undefined ? 'seabios' : shared.firmware;
  return {
    ...shared,
    ...(remote && { remote }),
    firmware,
    variants,
    warmup,
    order: opts.order,
    seed: resume?.header.config.seed ?? seed,
    confidence,
    gates,
    outFile: inputs.outFile,
    // Everything needed to --resume: the options after the scenario was applied.
    recordedOptions: { ...opts, seed: String(seed), out: undefined, resume: undefined, scenario: undefined },
    continueWith: continueCommandLine(inputs.cmd, inputs.outFile, inputs.typed),
    ...(resume && { resume }),
  };
}

/** Trials of each variant already in the file (index: variant), for --resume. */
export interface DoneCounts {
  warmups: number[];
  measured: number[];
}

/**
 * Warm-ups first (A, B, C, A, B, C ...), then the measured trials: interleaved in that order,
 * or shuffled with the recorded seed. Two variants give the same order as migdown 0.1, so its
 * files resume where they stopped.
 */
export function planOrder(
  runs: number,
  warmup: number,
  order: Order,
  seed: number,
  done: DoneCounts = { warmups: [], measured: [] },
  variantCount = 2,
): Array<{ variant: number; index: number; warmup: boolean }> {
  const all = Array.from({ length: variantCount }, (_, v) => v);
  const out: Array<{ variant: number; index: number; warmup: boolean }> = [];
  for (let w = 1; w <= warmup; w++) {
    for (const v of all) if (w > (done.warmups[v] ?? 0)) out.push({ variant: v, index: w, warmup: true });
  }
  const measured: number[] = [];
  for (let i = 0; i < runs; i++) measured.push(...all);
  if (order === 'shuffle') {
    // Fisher-Yates with the recorded seed: the same seed gives the same order on resume.
    const rand = mulberry32(seed);
    for (let i = measured.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [measured[i], measured[j]] = [measured[j]!, measured[i]!];
    }
  }
  const count = all.map(() => 0);
  for (const v of measured) {
    count[v]!++;
    if (count[v]! > (done.measured[v] ?? 0)) out.push({ variant: v, index: count[v]!, warmup: false });
  }
  return out;
}
