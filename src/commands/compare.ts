// `migdown compare`: two variants (two QEMU builds, or one build with different arguments or
// migration parameters), warm-up trials, then measured trials in an order that cancels drift,
// statistics that tell a change from noise, and the table for a mailing-list reply.

import { randomInt, randomUUID } from 'node:crypto';
import { Command, Option } from 'commander';
import { EXIT, Interrupted, UsageError } from '../errors.js';
import { defaultResultsPath, readResults, ResultsWriter } from '../bench/results-file.js';
import { runSeries, type PlannedTrial } from '../bench/series.js';
import type { RunHeader, TrialRecord } from '../bench/types.js';
import type { QemuFacts } from '../qemu/facts.js';
import { probeTracepoints } from '../qemu/features.js';
import { DEFAULT_LABELS } from '../render/format.js';
import { FORMATS, type Format } from '../render/results.js';
import { terminalSafe } from '../render/sanitize.js';
import { mulberry32 } from '../stats/compare.js';
import { parsePositiveInt } from '../util/units.js';
import type { CommandContext } from './context.js';
import { checkGates, addGateOptions, bisectExit, type RawGateOptions } from './gates.js';
import { BUILD_SPEC_HELP, resolveQemuSpec } from './build.js';
import { firmwareFor, firmwareSummary } from './firmware.js';
import { checkMigrationSettings, experimentHeader, finishExperiment, prepare, startProgress, unmetRequirements } from './prepare.js';
import { trialConfigFor } from './run.js';
import { setupRemote } from './remote-setup.js';
import { checkResumable } from './resume-checks.js';
import { pointKey } from '../bench/sweep.js';
import { addVmOptions, type RawVmOptions } from './vm-options.js';
import { plural } from '../util/plural.js';
import { assertResumeMatches, continueCommandLine } from './resume.js';
import { resolveVariantQemu, TWO_VARIANT_KEYS, variantSpecs, type RawVariantOptions } from './variants.js';

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

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

const collect = (value: string, previous: string[]) => [...previous, value];
const DEFAULT_QEMU = process.env.MIGDOWN_QEMU ?? 'qemu-system-x86_64';

export function compareCommand(ctx: CommandContext, setResult: (p: Promise<number>) => void): Command {
  const cmd = new Command('compare')
    .description('compare downtime between QEMU builds (or settings), with statistics and a mailing-list table')
    .option('--qemu-a <path|build:spec>', 'QEMU binary of variant A, e.g. without the patch, or a build spec to build it', DEFAULT_QEMU)
    .option('--qemu-b <path|build:spec>', 'QEMU binary of variant B, e.g. with the patch, or a build spec', DEFAULT_QEMU)
    .option('--label-a <text>', 'name of variant A', DEFAULT_LABELS[0])
    .option('--label-b <text>', 'name of variant B', DEFAULT_LABELS[1])
    .option('--a-arg <arg>', 'extra QEMU argument for variant A only (repeatable)', collect, [])
    .option('--b-arg <arg>', 'extra QEMU argument for variant B only (repeatable)', collect, [])
    .option('--a-param <name=value>', 'migrate_set_parameter for variant A only (repeatable)', collect, [])
    .option('--b-param <name=value>', 'migrate_set_parameter for variant B only (repeatable)', collect, [])
    .option('--variant <label[=qemu]>', 'a variant (repeatable, 2 or more, the first is the baseline; instead of --qemu-a/-b); QEMU defaults to env MIGDOWN_QEMU', collect, [])
    .option('--variant-arg <label=arg>', 'extra QEMU argument for one --variant (repeatable)', collect, [])
    .option('--variant-param <label=n=v>', 'migrate_set_parameter NAME VALUE for one --variant: LABEL=NAME=VALUE (repeatable)', collect, [])
    .option('--warmup <n>', 'warm-up trials per variant, kept in the file, left out of statistics', '1')
    .addOption(new Option('--order <order>', 'order of measured trials').choices(ORDERS).default('alternate'))
    .option('--seed <n>', 'seed for shuffling and the bootstrap (default: random, recorded)')
    .option('--confidence <level>', 'confidence level of the interval and the test', '0.95')
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table'))
    .option('--resume <file>', 'continue an interrupted compare from its results file');
  addVmOptions(cmd, { runsDefault: '10' });
  addGateOptions(cmd);
  cmd.addHelpText('after', BUILD_SPEC_HELP);
  return cmd.action((opts: RawCompareOptions, self: Command) => setResult(bisectExit(compare(opts, self, ctx), opts.bisect)));
}

function parseConfidence(text: string): number {
  const c = Number(text);
  if (!/^0?\.\d+$/.test(text.trim()) || !(c > 0.5 && c < 1)) {
    throw new UsageError(`--confidence: "${text}" is not a level between 0.5 and 1 (e.g. 0.95)`);
  }
  return c;
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

interface Variant {
  label: string;
  qemu: QemuFacts;
  extraArgs: string[];
  params: Record<string, string>;
}

export async function compare(cli: RawCompareOptions, self: Command, ctx: CommandContext): Promise<number> {
  const opts = cli;
  const typed = structuredClone(cli); // before --scenario fills in: what to retype to continue
  let previous: { header: RunHeader; trials: TrialRecord[] } | undefined;
  let recorded: unknown;
  let resumeWarnings = (): string[] => [];
  let outFile = cli.out ?? defaultResultsPath();
  if (cli.resume) {
    const content = await readResults(cli.resume);
    const header = content.headers.find((h) => h.command === 'compare');
    if (!header) throw new UsageError(`--resume: ${cli.resume} holds no compare run`);
    recorded = header.config.options;
    if (!recorded || typeof recorded !== 'object') throw new UsageError(`--resume: ${cli.resume} does not record its options`);
    resumeWarnings = () => checkResumable(cli.resume!, content, recorded as Record<string, unknown>);
    previous = { header, trials: content.trials.filter((t) => t.runId === header.runId) };
    outFile = cli.resume;
  }
  const prepared = await prepare(self, opts, 'compare', ctx.env);
  // The file's options are never run: this command line's must be the same (src/commands/resume.ts).
  if (previous) {
    assertResumeMatches(self, outFile, recorded, opts as unknown as Record<string, unknown>);
    // Then what the file itself lacks: workload options an older migdown did not record, a cut line.
    for (const w of resumeWarnings()) ctx.stderr.write(`${ctx.chalkErr.yellow('migdown: warning:')} ${w}\n`);
  }
  const { scenario, points } = prepared;
  const format: Format = opts.json ? 'json' : opts.format;
  const vm = points[0]!.vm;
  if (vm.runs < 3) throw new UsageError(`--runs: ${vm.runs} is too few to compare; the rank test needs at least 3 per variant`);
  const warmup = parsePositiveInt('--warmup', opts.warmup, { min: 0, max: 1000 });
  const confidence = parseConfidence(opts.confidence);
  const seed = opts.seed !== undefined ? parsePositiveInt('--seed', opts.seed, { min: 0, max: 2 ** 32 - 1 }) : randomInt(2 ** 31);
  checkGates(opts); // validate gate values before anything runs
  if (!previous && (opts.variant ?? []).length) {
    const both = TWO_VARIANT_KEYS.filter((k) => self.getOptionValueSource(k) === 'cli');
    if (both.length) throw new UsageError(`--variant names every variant; drop --${both.map(kebab).join(', --')} (the two-variant form)`);
  }
  // Every binary at once; the first variant's error first when several are bad.
  const specs = variantSpecs(opts, DEFAULT_QEMU);
  // A build spec is built (or found in the cache) first, in order: later variants then reuse
  // the first one's objects through ccache.
  const binaries: string[] = [];
  for (const spec of specs) binaries.push(await resolveQemuSpec(spec.qemu, ctx, opts.quiet));
  const probed = await Promise.allSettled(specs.map((spec, i) => resolveVariantQemu({ ...spec, qemu: binaries[i]! }, vm.extraArgs)));
  const variants: Variant[] = specs.map((spec, i) => {
    const r = probed[i]!;
    if (r.status === 'rejected') throw r.reason;
    return { label: spec.label, qemu: r.value, extraArgs: spec.extraArgs, params: spec.params };
  });
  if (previous) {
    if (previous.header.variants.length !== variants.length) {
      throw new UsageError(`--resume: ${outFile} records ${previous.header.variants.length} variants, its options give ${variants.length}`);
    }
    previous.header.variants.forEach((pv, i) => {
      const now = variants[i]!.qemu;
      if (pv.qemu.sha256 && now.sha256 && pv.qemu.sha256 !== now.sha256) {
        throw new UsageError(`--resume: ${now.path} changed since the run began (sha256 differs); start a new compare`);
      }
    });
  }
  const unmet = await unmetRequirements(scenario?.scenario.requires, variants.map((v) => v.qemu), vm);
  if (unmet.length) {
    ctx.stderr.write(`migdown: skipped scenario ${scenario!.scenario.name}: ${unmet.join('; ')}\n`);
    return EXIT.ok;
  }
  await checkMigrationSettings(variants.map((v) => v.qemu), vm, variants.map((v) => v.params));
  // Every variant traced or none: a phase table with one side missing compares nothing.
  const traced = await Promise.all(variants.map((v) => probeTracepoints(v.qemu)));
  const trace = opts.breakdown !== false && !opts.destHost && traced.every(Boolean);
  // A file from before --firmware ran SeaBIOS: a resumed compare must not switch mid-way.
  const firmware = await firmwareFor(previous && opts.firmware === undefined ? { ...opts, firmware: 'seabios' } : opts, vm, variants.map((v) => v.qemu));
  const remoteSetup = await setupRemote(opts, vm);

  let say = (line: string) => {
    if (!opts.quiet) ctx.stderr.write(`${line}\n`);
  };
  if (vm.accelNote) ctx.stderr.write(`${ctx.chalkErr.yellow('migdown:')} ${vm.accelNote}\n`);
  for (const w of new Set(points.flatMap((p) => p.vm.warnings))) ctx.stderr.write(`${ctx.chalkErr.yellow('migdown: warning:')} ${w}\n`);

  const writer = new ResultsWriter(outFile);
  const swept = points.length > 1;
  const header: RunHeader =
    previous?.header ??
    (await experimentHeader(
      'compare',
      randomUUID(),
      opts,
      prepared,
      trace,
      {
        firmware,
        warmup,
        order: opts.order,
        seed,
        confidence,
        // Everything needed to --resume: the options after the scenario was applied.
        options: { ...opts, seed: String(seed), out: undefined, resume: undefined, scenario: undefined },
      },
      variants.map((v) => ({ label: v.label, qemu: v.qemu, extraArgs: v.extraArgs, params: v.params })),
      remoteSetup?.facts,
    ));
  if (!previous) writer.start(header);
  const recordedSeed = header.config.seed ?? seed;

  const had = previous?.trials ?? [];
  const plan: PlannedTrial[] = points.flatMap(({ point, vm: pvm }) => {
    const key = pointKey(point.label);
    const countOf = (variant: string, w: boolean) =>
      had.filter((t) => t.variant === variant && t.warmup === w && pointKey(t.point) === key).length;
    const done = { warmups: variants.map((v) => countOf(v.label, true)), measured: variants.map((v) => countOf(v.label, false)) };
    return planOrder(pvm.runs, warmup, opts.order, recordedSeed, done, variants.length).map((p) => {
      const v = variants[p.variant]!;
      return {
        variant: v.label,
        index: p.index,
        warmup: p.warmup,
        ...(swept && { point: point.label }),
        config: trialConfigFor(pvm, v.qemu, { extraArgs: v.extraArgs, params: v.params, trace, firmware, ...(remoteSetup && { remote: remoteSetup.remote }) }),
      };
    });
  });

  say(
    `migdown: ${previous ? `resuming ${outFile}: ${plural(plan.length, 'trial')} to go` : plural(plan.length, 'trial')} ` +
      `(${plural(variants.length, 'variant')}, ${warmup} warm-up + ${vm.runs} measured each${swept ? ` at ${points.length} points` : ''}, ${opts.order}, seed ${recordedSeed}), ` +
      `${terminalSafe(String(header.config.ram))} VM, ${vm.accel.toUpperCase()}, ${firmwareSummary(firmware)}${scenario ? `, scenario ${scenario.scenario.name}` : ''}; results in ${outFile}`,
  );

  const trials = [...had];
  const { progress, release } = await startProgress(ctx, opts, plan.length, 'compare', (t) => (t.warmup ? warmup : vm.runs));
  say = progress.log;
  try {
    await runSeries(header.runId, plan, writer, ctx.signal, {
      onTrialStart: progress.onTrialStart,
      onPhase: progress.onPhase,
      onSample: progress.onSample,
      onTrialDone: (t, i, n) => {
        trials.push(t);
        progress.onTrialDone(t, i, n);
      },
    });
  } catch (err) {
    progress.stop();
    if (err instanceof Interrupted) {
      const again = continueCommandLine(self, outFile, typed as unknown as Record<string, unknown>);
      ctx.stderr.write(`migdown: interrupted; ${plural(trials.length - had.length, 'trial')} of this session are in ${outFile}; continue with: ${again}\n`);
    }
    throw err;
  } finally {
    release();
    await remoteSetup?.cleanup();
  }

  return finishExperiment(ctx, opts, format, header, trials, outFile, say, writer.failure);
}
