// What `run` and `compare` share of their plan: the scenario, the sweep points with their VM
// options, the output, the gates and the remote destination, all checked before anything is
// probed or started. planExperiment is pure; gatherExperimentInputs does the reading and
// probing it needs (output paths, the scenario file, the host) first.

import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { assertArtifactsWritable, type ArtifactOptions } from '../render/artifacts.js';
import type { Format } from '../render/formats.js';
import { expandSweep, type SweepPoint } from '../trial/sweep.js';
import type { Scenario } from '../scenario/schema.js';
import { migrationEndpoints, parseHostSpec, type SshTarget } from '../remote/host-spec.js';
import type { SshOptions } from '../remote/ssh.js';
import { remoteQemuArgv } from '../remote/wrapper.js';
import type { FirmwareRequest } from '../qemu/firmware.js';
import { checkOptionCombinations, refuseDetachingArguments } from './option-checks.js';
import type { RawVmOptions } from './vm-options.js';
import { planVm, probeVmFacts, type VmFacts, type VmOptions } from './vm-plan.js';

/** Whether an option (commander's name) was typed on this command line. */
export type GivenOnCli = (key: string) => boolean;

export function givenOnCli(cmd: Command): GivenOnCli {
  return (key) => cmd.getOptionValueSource(key) === 'cli';
}

export interface LoadedScenario {
  scenario: Scenario;
  file: string;
}

/** --dest-host and its companions, parsed. */
export interface RemotePlan {
  target: SshTarget;
  ssh: SshOptions;
  /** --dest-qemu */
  qemuPath: string;
  /** --migrate-uri, checked to be tcp:HOST:PORT */
  migrateUri?: string;
}

export interface ExperimentPlan {
  scenario?: LoadedScenario;
  points: Array<{ point: SweepPoint; vm: VmOptions }>;
  format: Format;
  /** --out; absent: a new file under migdown-results/, named when the series starts */
  out?: string;
  artifacts: ArtifactOptions;
  quiet: boolean;
  /** false: --no-breakdown */
  breakdown: boolean;
  firmware: FirmwareRequest;
  remote?: RemotePlan;
  /** the host facts the options were checked against (KVM, for a scenario's requirements) */
  facts: VmFacts;
}

/** The options of run and compare as far as the shared plan reads them. */
export type RawExperimentOptions = RawVmOptions & { format: Format };

/**
 * What planExperiment needs besides the options: the checks that read the file system (output
 * paths), the scenario (applied to `opts` where the command line leaves an option unset), the
 * host. Throws a UsageError for the first problem.
 */
export async function gatherExperimentInputs(
  cmd: Command,
  opts: RawExperimentOptions,
  command: 'run' | 'compare',
  env: NodeJS.ProcessEnv,
): Promise<{ scenario?: LoadedScenario; facts: VmFacts }> {
  checkOptionCombinations(cmd, opts);
  assertArtifactsWritable(opts);
  let scenario: LoadedScenario | undefined;
  if (opts.scenario) {
    // yaml and zod load only for scenarios: every other command starts faster without them.
    const [{ loadScenario }, { applyScenario, scenarioOptionValues }] = await Promise.all([import('../scenario/load.js'), import('../scenario/apply.js')]);
    scenario = await loadScenario(opts.scenario);
    applyScenario(cmd, opts as unknown as Record<string, unknown>, scenarioOptionValues(scenario.scenario, command, scenario.file, env));
  }
  return { ...(scenario && { scenario }), facts: await probeVmFacts(opts, env) };
}

/**
 * The remote destination, checked as far as it can be without connecting: the host spec,
 * --migrate-uri, and QEMU arguments a remote destination cannot take (its stdio carries the
 * monitor), which would otherwise fail each trial rather than the command.
 */
export function planRemote(opts: RawVmOptions, vm: VmOptions, variantArgs: string[][] = []): RemotePlan | undefined {
  if (!opts.destHost) return undefined;
  const target = parseHostSpec(opts.destHost);
  if (vm.guest.kind === 'image') {
    throw new UsageError('--guest image cannot be used with --dest-host: the destination would need the image on shared storage');
  }
  for (const args of variantArgs.length ? variantArgs : [[]]) remoteQemuArgv([...vm.extraArgs, ...args]);
  if (opts.migrateUri !== undefined) migrationEndpoints(target, 0, opts.migrateUri);
  return {
    target,
    ssh: { extraOptions: opts.sshOption ?? [] },
    qemuPath: opts.destQemu ?? 'qemu-system-x86_64',
    ...(opts.migrateUri !== undefined && { migrateUri: opts.migrateUri }),
  };
}

export interface ExperimentInputs {
  given: GivenOnCli;
  scenario?: LoadedScenario;
  facts: VmFacts;
}

/**
 * The shared plan from the options (after the scenario), pure; the remote destination is the
 * command's to add (planRemote), once it knows every variant's arguments. `variantArgs`: the
 * per-variant QEMU argument options, refused like --qemu-arg when they would detach QEMU.
 */
export function planExperiment(
  opts: RawExperimentOptions,
  inputs: ExperimentInputs,
  variantArgs: Array<[option: string, args: string[] | undefined]> = [],
): Omit<ExperimentPlan, 'remote'> {
  refuseDetachingArguments([['--qemu-arg', opts.qemuArg], ...variantArgs]);
  const points = expandSweep(opts as unknown as Record<string, unknown>).map((point) => ({
    point,
    vm: planVm({ ...opts, ...point.overrides }, inputs.facts, { smpExplicit: inputs.given('smp') }),
  }));
  return {
    ...(inputs.scenario && { scenario: inputs.scenario }),
    points,
    format: opts.json ? 'json' : opts.format,
    ...(opts.out !== undefined && { out: opts.out }),
    artifacts: { ...(opts.html && { html: opts.html }), ...(opts.svg && { svg: opts.svg }) },
    quiet: Boolean(opts.quiet),
    breakdown: opts.breakdown !== false,
    firmware: opts.firmware ?? 'auto',
    facts: inputs.facts,
  };
}
