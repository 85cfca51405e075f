// `migdown compare`: two variants (two QEMU builds, or one build with different arguments or
// migration parameters), warm-up trials, then measured trials in an order that cancels drift,
// statistics that tell a change from noise, and the table for a mailing-list reply.
// The options become one plan first (compare-plan.ts); this module runs it.

import { randomInt, randomUUID } from 'node:crypto';
import { Command, Option } from 'commander';
import { EXIT, Interrupted, UsageError } from '../errors.js';
import { defaultResultsPath, ResultsWriter } from '../trial/results-file.js';
import { runSeries, type PlannedTrial } from '../trial/series.js';
import type { RunHeader } from '../trial/types.js';
import type { QemuFacts } from '../qemu/facts.js';
import type { Firmware } from '../qemu/firmware.js';
import { probeTracepoints } from '../qemu/features.js';
import { DEFAULT_LABELS } from '../render/format.js';
import { FORMATS } from '../render/formats.js';
import { terminalSafe } from '../render/sanitize.js';
import { defaultQemu, type CommandContext } from './context.js';
import { addGateOptions, bisectExit } from './gates.js';
import { BUILD_SPEC_HELP, resolveQemuSource } from './qemu-source.js';
import { gatherExperimentInputs, givenOnCli } from './experiment-plan.js';
import { firmwareFor, firmwareSummary } from './firmware.js';
import { checkMigrationSettings, experimentHeader, loadFinish, prefetchFinish, readHostState, startProgress, unmetRequirements, type HostState } from './experiment.js';
import { trialConfigFor } from './run.js';
import { setupRemote, type RemoteSetup } from './remote-setup.js';
import { pointKey } from '../trial/sweep.js';
import { addVmOptions } from './vm-options.js';
import { plural } from '../util/plural.js';
import { ORDERS, planCompare, planOrder, readResumeFile, type ComparePlan, type RawCompareOptions } from './compare-plan.js';
import { resolveVariantQemu } from './variants.js';

export { ORDERS, planOrder, type DoneCounts, type Order, type RawCompareOptions } from './compare-plan.js';

const collect = (value: string, previous: string[]) => [...previous, value];

export function compareCommand(ctx: CommandContext, setResult: (p: Promise<number>) => void): Command {
  const cmd = new Command('compare')
    .description('compare downtime between QEMU builds (or settings), with statistics and a mailing-list table')
    .option('--qemu-a <path|build:spec>', 'QEMU binary of variant A, e.g. without the patch, or a build spec to build it', defaultQemu(ctx.env))
    .option('--qemu-b <path|build:spec>', 'QEMU binary of variant B, e.g. with the patch, or a build spec', defaultQemu(ctx.env))
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

interface Variant {
  label: string;
  qemu: QemuFacts;
  extraArgs: string[];
  params: Record<string, string>;
}

/** The plan of this command line: the resume file and the scenario read, the host probed. */
async function comparePlanFor(cli: RawCompareOptions, self: Command, ctx: CommandContext): Promise<ComparePlan> {
  const typed = structuredClone(cli) as unknown as Record<string, unknown>; // before --scenario fills in: what to retype to continue
  const resume = cli.resume ? await readResumeFile(cli.resume) : undefined;
  const outFile = cli.resume ? cli.resume : (cli.out ?? defaultResultsPath());
  const inputs = await gatherExperimentInputs(self, cli, 'compare', ctx.env);
  return planCompare(cli, {
    ...inputs,
    given: givenOnCli(self),
    cmd: self,
    typed,
    outFile,
    randomSeed: randomInt(2 ** 31),
    defaultQemu: defaultQemu(ctx.env),
    ...(resume && { resume }),
  });
}

export async function compare(cli: RawCompareOptions, self: Command, ctx: CommandContext): Promise<number> {
  return comparePlanned(await comparePlanFor(cli, self, ctx), ctx);
}

/**
 * Every variant's binary: a build spec is built (or found in the cache) first, in order, so
 * later variants reuse the first one's objects through ccache; then all are probed at once,
 * the first variant's error first when several are bad.
 */
async function probeVariants(plan: ComparePlan, ctx: CommandContext): Promise<Variant[]> {
  const shared = plan.points[0]!.vm.extraArgs;
  const binaries: string[] = [];
  for (const v of plan.variants) binaries.push(await resolveQemuSource(v.source, ctx, plan.quiet));
  const probed = await Promise.allSettled(plan.variants.map((v, i) => resolveVariantQemu({ ...v, qemu: binaries[i]! }, shared)));
  return plan.variants.map((v, i) => {
    const r = probed[i]!;
    if (r.status === 'rejected') throw r.reason;
    return { label: v.label, qemu: r.value, extraArgs: v.extraArgs, params: v.params };
  });
}

/** A resumed file must go on with the same binaries it began with. */
function checkResumedVariants(plan: ComparePlan, variants: Variant[]): void {
  const previous = plan.resume?.header;
  if (!previous) return;
  if (previous.variants.length !== variants.length) {
    throw new UsageError(`--resume: ${plan.outFile} records ${previous.variants.length} variants, its options give ${variants.length}`);
  }
  previous.variants.forEach((pv, i) => {
    const now = variants[i]!.qemu;
    if (pv.qemu.sha256 && now.sha256 && pv.qemu.sha256 !== now.sha256) {
      throw new UsageError(`--resume: ${now.path} changed since the run began (sha256 differs); start a new compare`);
    }
  });
}

/** The trials still to run, at every sweep point, in the planned order. */
function plannedTrials(plan: ComparePlan, variants: Variant[], settings: { trace: boolean; firmware: Firmware; remoteSetup: RemoteSetup | undefined }): PlannedTrial[] {
  const had = plan.resume?.trials ?? [];
  const swept = plan.points.length > 1;
  const { trace, firmware, remoteSetup } = settings;
  return plan.points.flatMap(({ point, vm: pvm }) => {
    const key = pointKey(point.label);
    const countOf = (variant: string, w: boolean) =>
      had.filter((t) => t.variant === variant && t.warmup === w && pointKey(t.point) === key).length;
    const done = { warmups: variants.map((v) => countOf(v.label, true)), measured: variants.map((v) => countOf(v.label, false)) };
    return planOrder(pvm.runs, plan.warmup, plan.order, plan.seed, done, variants.length).map((p) => {
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
}

async function compareHeader(
  plan: ComparePlan,
  variants: Variant[],
  trace: boolean,
  firmware: Firmware,
  remoteSetup: RemoteSetup | undefined,
  hostState: Promise<HostState>,
): Promise<RunHeader> {
  if (plan.resume) return plan.resume.header;
  return experimentHeader(
    'compare',
    randomUUID(),
    plan,
    trace,
    { firmware, warmup: plan.warmup, order: plan.order, seed: plan.seed, confidence: plan.confidence, options: plan.recordedOptions },
    variants.map((v) => ({ label: v.label, qemu: v.qemu, extraArgs: v.extraArgs, params: v.params })),
    remoteSetup?.facts,
    hostState,
  );
}

async function comparePlanned(plan: ComparePlan, ctx: CommandContext): Promise<number> {
  const { scenario, points, outFile } = plan;
  const vm = points[0]!.vm;
  for (const w of plan.resume?.warnings ?? []) ctx.stderr.write(`${ctx.chalkErr.yellow('migdown: warning:')} ${w}\n`);
  const hostState = readHostState();
  hostState.catch(() => undefined); // awaited by compareHeader below
  const variants = await probeVariants(plan, ctx);
  checkResumedVariants(plan, variants);
  const unmet = await unmetRequirements(scenario?.scenario.requires, variants.map((v) => v.qemu), vm, plan.facts.kvm);
  if (unmet.length) {
    ctx.stderr.write(`migdown: skipped scenario ${scenario!.scenario.name}: ${unmet.join('; ')}\n`);
    return EXIT.ok;
  }
  await checkMigrationSettings(variants.map((v) => v.qemu), vm, variants.map((v) => v.params));
  // Every variant traced or none: a phase table with one side missing compares nothing.
  const traced = await Promise.all(variants.map((v) => probeTracepoints(v.qemu)));
  const trace = plan.breakdown && !plan.remote && traced.every(Boolean);
  const firmware = await firmwareFor(plan.firmware, Boolean(plan.remote), vm, variants.map((v) => v.qemu));
  const remoteSetup = await setupRemote(plan.remote, vm);

  let say = (line: string) => {
    if (!plan.quiet) ctx.stderr.write(`${line}\n`);
  };
  if (vm.accelNote) ctx.stderr.write(`${ctx.chalkErr.yellow('migdown:')} ${vm.accelNote}\n`);
  for (const w of new Set(points.flatMap((p) => p.vm.warnings))) ctx.stderr.write(`${ctx.chalkErr.yellow('migdown: warning:')} ${w}\n`);

  const writer = new ResultsWriter(outFile);
  const header = await compareHeader(plan, variants, trace, firmware, remoteSetup, hostState);
  if (!plan.resume) writer.start(header);
  const trials = plannedTrials(plan, variants, { trace, firmware, remoteSetup });
  say(
    `migdown: ${plan.resume ? `resuming ${outFile}: ${plural(trials.length, 'trial')} to go` : plural(trials.length, 'trial')} ` +
      `(${plural(variants.length, 'variant')}, ${plan.warmup} warm-up + ${vm.runs} measured each${points.length > 1 ? ` at ${points.length} points` : ''}, ${plan.order}, seed ${plan.seed}), ` +
      `${terminalSafe(String(header.config.ram))} VM, ${vm.accel.toUpperCase()}, ${firmwareSummary(firmware)}${scenario ? `, scenario ${scenario.scenario.name}` : ''}; results in ${outFile}`,
  );

  const had = plan.resume?.trials ?? [];
  const records = [...had];
  const { progress, release } = await startProgress(ctx, plan, trials.length, 'compare', (t) => (t.warmup ? plan.warmup : vm.runs));
  say = progress.log;
  try {
    await runSeries(header.runId, trials, writer, ctx.signal, {
      onTrialStart: progress.onTrialStart,
      onPhase: progress.onPhase,
      onSample: progress.onSample,
      onQemuStarted: prefetchFinish,
      onTrialDone: (t, i, n) => {
        records.push(t);
        progress.onTrialDone(t, i, n);
      },
    });
  } catch (err) {
    progress.stop();
    if (err instanceof Interrupted) {
      ctx.stderr.write(`migdown: interrupted; ${plural(records.length - had.length, 'trial')} of this session are in ${outFile}; continue with: ${plan.continueWith}\n`);
    }
    throw err;
  } finally {
    release();
    await remoteSetup?.cleanup();
  }

  return (await loadFinish()).finishExperiment(ctx, { ...plan.artifacts, gates: plan.gates }, plan.format, header, records, outFile, say, writer.failure);
}
