// `migdown run`: the seed's reproduction, N times, on one QEMU (at each sweep point).

import { randomUUID } from 'node:crypto';
import { Command, Option } from 'commander';
import { EXIT, Interrupted } from '../errors.js';
import { defaultResultsPath, ResultsWriter } from '../trial/results-file.js';
import { runSeries, type PlannedTrial } from '../trial/series.js';
import type { TrialConfig } from '../trial/trial-config.js';
import type { TrialRecord } from '../trial/types.js';
import type { QemuFacts } from '../qemu/facts.js';
import { probeTracepoints } from '../qemu/features.js';
import type { Firmware } from '../qemu/firmware.js';
import { guestFactory } from '../guest/factory.js';
import type { RemoteDestination } from '../trial/trial-config.js';
import { setupRemote } from './remote-setup.js';
import { FORMATS, type Format } from '../render/formats.js';
import { defaultQemu, type CommandContext } from './context.js';
import { addGateOptions, bisectExit, parseGateOptions, type GateThresholds, type RawGateOptions } from './gates.js';
import { BUILD_SPEC_HELP, planQemuSource, resolveQemuSource, type QemuSource } from './qemu-source.js';
import { firmwareFor, firmwareSummary } from './firmware.js';
import { probeQemuAhead } from './probes.js';
import { checkMigrationSettings, experimentHeader, loadFinish, prefetchFinish, readHostState, startProgress, unmetRequirements } from './experiment.js';
import { gatherExperimentInputs, givenOnCli, planExperiment, planRemote, type ExperimentInputs, type ExperimentPlan } from './experiment-plan.js';
import { addVmOptions, type RawVmOptions } from './vm-options.js';
import type { VmOptions } from './vm-plan.js';
import { plural } from '../util/plural.js';

export interface RawRunOptions extends RawVmOptions, RawGateOptions {
  qemu: string;
  format: Format;
}

/** Everything `run` does, decided from its options before anything is probed or started. */
export interface RunPlan extends ExperimentPlan {
  qemu: QemuSource;
  gates: GateThresholds;
}

/** The plan of `run` (pure): its options after the scenario, with the facts they need. */
export function planRun(opts: RawRunOptions, inputs: ExperimentInputs): RunPlan {
  const shared = planExperiment(opts, inputs);
  const gates = parseGateOptions(opts);
  const remote = planRemote(opts, shared.points[0]!.vm);
  return { ...shared, ...(remote && { remote }), qemu: planQemuSource(opts.qemu), gates };
}

export function runCommand(ctx: CommandContext, setResult: (p: Promise<number>) => void): Command {
  const cmd = new Command('run')
    .description("migrate a VM from one QEMU to another N times and tabulate QEMU's downtime")
    .option('--qemu <path|build:spec>', 'QEMU binary (env MIGDOWN_QEMU), or a build spec to build it', defaultQemu(ctx.env))
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table'));
  addVmOptions(cmd);
  addGateOptions(cmd, { regression: false });
  cmd.addHelpText('after', BUILD_SPEC_HELP);
  return cmd.action((opts: RawRunOptions, self: Command) => setResult(bisectExit(run(opts, self, ctx), opts.bisect)));
}

/** What one trial of `run` or `compare` needs, from the resolved options. */
export interface VariantSettings {
  extraArgs?: string[];
  params?: Record<string, string>;
  trace?: boolean;
  remote?: RemoteDestination;
  firmware?: Firmware;
}

export function trialConfigFor(vm: VmOptions, qemu: QemuFacts, { extraArgs = [], params = {}, trace = false, remote, firmware }: VariantSettings = {}): TrialConfig {
  const guest = guestFactory(vm.guest);
  return {
    trace,
    ...(remote && { remote }),
    qemu,
    accel: vm.accel,
    ramBytes: vm.ramBytes,
    smp: vm.smp,
    speedBytes: vm.speedBytes,
    downtimeMs: vm.downtimeMs,
    ...(vm.port !== undefined && { port: vm.port }),
    extraArgs: [...vm.extraArgs, ...extraArgs],
    params: { ...vm.params, ...params },
    capabilities: vm.capabilities,
    postcopy: vm.postcopy,
    ...(vm.accelProps && { accelProps: vm.accelProps }),
    pollMs: vm.pollMs,
    timeoutMs: vm.timeoutMs,
    ...(guest && { guest }),
    ...(firmware && { firmware }),
  };
}

async function run(opts: RawRunOptions, self: Command, ctx: CommandContext): Promise<number> {
  const inputs = await gatherExperimentInputs(self, opts, 'run', ctx.env);
  return runPlanned(planRun(opts, { given: givenOnCli(self), ...inputs }), ctx);
}

async function runPlanned(plan: RunPlan, ctx: CommandContext): Promise<number> {
  const { scenario, points, format } = plan;
  const vm = points[0]!.vm;
  const hostState = readHostState();
  hostState.catch(() => undefined); // awaited by experimentHeader below
  const qemu = await probeQemuAhead(await resolveQemuSource(plan.qemu, ctx, plan.quiet), '--qemu', vm.extraArgs);
  let say = (line: string) => {
    if (!plan.quiet) ctx.stderr.write(`${line}\n`);
  };

  const unmet = await unmetRequirements(scenario?.scenario.requires, [qemu], vm, plan.facts.kvm);
  if (unmet.length) {
    ctx.stderr.write(`migdown: skipped scenario ${scenario!.scenario.name}: ${unmet.join('; ')}\n`);
    return EXIT.ok;
  }
  await checkMigrationSettings([qemu], vm);
  // The breakdown needs both trace logs on one clock: local destinations only.
  const trace = plan.breakdown && !plan.remote && (await probeTracepoints(qemu));
  const firmware = await firmwareFor(plan.firmware, Boolean(plan.remote), vm, [qemu]);
  const remoteSetup = await setupRemote(plan.remote, vm);
  if (vm.accelNote) ctx.stderr.write(`${ctx.chalkErr.yellow('migdown:')} ${vm.accelNote}\n`);
  for (const w of new Set(points.flatMap((p) => p.vm.warnings))) ctx.stderr.write(`${ctx.chalkErr.yellow('migdown: warning:')} ${w}\n`);

  const runId = randomUUID();
  const outFile = plan.out ?? defaultResultsPath();
  const writer = new ResultsWriter(outFile);
  const swept = points.length > 1;
  const header = await experimentHeader('run', runId, plan, trace, { firmware }, [{ label: 'run', qemu, extraArgs: vm.extraArgs, params: vm.params }], remoteSetup?.facts, hostState);
  writer.start(header);
  const total = points.length * vm.runs;
  say(
    `migdown: ${plural(total, 'migration')} of a ${header.config.ram} VM with QEMU ${qemu.version} (${vm.accel.toUpperCase()}, ${firmwareSummary(firmware)})` +
      `${scenario ? `, scenario ${scenario.scenario.name}` : ''}; results in ${outFile}`,
  );

  const trials: PlannedTrial[] = points.flatMap(({ point, vm: pvm }) =>
    Array.from({ length: pvm.runs }, (_, i) => ({
      variant: 'run',
      index: i + 1,
      warmup: false,
      ...(swept && { point: point.label }),
      config: trialConfigFor(pvm, qemu, { trace, firmware, ...(remoteSetup && { remote: remoteSetup.remote }) }),
    })),
  );

  const finished: TrialRecord[] = [];
  const { progress, release } = await startProgress(ctx, plan, total, 'run', () => vm.runs);
  say = progress.log;
  try {
    await runSeries(runId, trials, writer, ctx.signal, {
      onTrialStart: progress.onTrialStart,
      onPhase: progress.onPhase,
      onSample: progress.onSample,
      onQemuStarted: prefetchFinish,
      onTrialDone: (t, i, n) => {
        finished.push(t);
        progress.onTrialDone(t, i, n);
      },
    });
  } catch (err) {
    progress.stop();
    if (err instanceof Interrupted) {
      // What was measured is in the file already; show it before leaving.
      if (finished.length && format === 'table' && !swept) ctx.stdout.write(`${(await loadFinish()).interruptedRunTable(ctx, header, finished)}\n`);
      ctx.stderr.write(`migdown: interrupted after ${finished.length} of ${plural(total, 'trial')}; results in ${outFile}\n`);
    }
    throw err;
  } finally {
    release();
    await remoteSetup?.cleanup();
  }

  return (await loadFinish()).finishExperiment(ctx, { ...plan.artifacts, gates: plan.gates }, format, header, finished, outFile, say, writer.failure);
}
