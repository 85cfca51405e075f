// Steps `run` and `compare` share once their plan is made: a check that the QEMUs and host
// can do what was asked, the results header and the progress display. The end is finish.ts.

import { UsageError } from '../errors.js';
import type { RunHeader, TrialRecord } from '../trial/types.js';
import type { QemuFacts } from '../qemu/facts.js';
import { hostFacts, type KvmProbe } from '../qemu/probe.js';
import { RESULTS_SCHEMA_VERSION } from '../trial/results-file.js';
import { readHostNoise } from '../trial/host-noise-read.js';
import { createProgress, loadLiveDisplay, progressEnabled, type Progress } from '../render/progress.js';
import { MIGDOWN_VERSION } from '../version.js';
import type { CommandContext } from './context.js';
import { probeDirtyRing, probeFeatures } from '../qemu/features.js';
import type { Scenario } from '../scenario/schema.js';
import type { ExperimentPlan } from './experiment-plan.js';
import type { VmOptions } from './vm-plan.js';

const CAPABILITY_OF: Record<string, string> = { multifd: 'multifd', postcopy: 'postcopy-ram', 'auto-converge': 'auto-converge' };

/**
 * A scenario's `requires` the QEMUs or host do not meet, each as one sentence. The caller
 * skips the scenario with these as its note.
 */
export async function unmetRequirements(requires: Scenario['requires'], qemus: QemuFacts[], vm: VmOptions, kvm: KvmProbe): Promise<string[]> {
  const unmet: string[] = [];
  for (const need of requires ?? []) {
    if (need === 'kvm') {
      if (!kvm.usable || vm.accel !== 'kvm') unmet.push(`needs KVM: ${kvm.usable ? 'TCG was chosen' : kvm.reason}`);
      continue;
    }
    for (const q of qemus) {
      if (need === 'dirty-ring') {
        if (vm.accel !== 'kvm') unmet.push('the KVM dirty ring needs KVM');
        else {
          const ring = await probeDirtyRing(q);
          if (!ring.ok) unmet.push(`QEMU ${q.version} (${q.path}) cannot use the KVM dirty ring: ${ring.reason}`);
        }
      } else if (need === 'tracepoints') {
        // checked by the breakdown itself, which says so when they are missing
      } else {
        const f = await probeFeatures(q);
        const cap = CAPABILITY_OF[need]!;
        if (!f.capabilities.has(cap)) unmet.push(`QEMU ${q.version} (${q.path}) has no '${cap}' migration capability`);
      }
    }
  }
  return [...new Set(unmet)];
}

/** Capabilities and parameters asked for by flags must exist in every QEMU: exit 2 otherwise. */
export async function checkMigrationSettings(qemus: QemuFacts[], vm: VmOptions, perVariantParams: Array<Record<string, string>> = []): Promise<void> {
  const caps = Object.keys(vm.capabilities);
  const params = Object.keys(vm.params);
  if (caps.length === 0 && params.length === 0 && perVariantParams.every((p) => Object.keys(p).length === 0)) return;
  for (const [i, q] of qemus.entries()) {
    const f = await probeFeatures(q);
    for (const c of caps) {
      if (f.capabilities.size && !f.capabilities.has(c)) {
        throw new UsageError(`QEMU ${q.version} (${q.path}) has no migration capability '${c}' (it has: ${[...f.capabilities].join(', ')})`);
      }
    }
    for (const p of [...params, ...Object.keys(perVariantParams[i] ?? {})]) {
      if (f.parameters.size && !f.parameters.has(p)) {
        throw new UsageError(`QEMU ${q.version} (${q.path}) has no migration parameter '${p}'`);
      }
    }
  }
}

export interface HostState {
  host: RunHeader['host'];
  hostNoise: RunHeader['hostNoise'];
}

/**
 * The host's facts and its noise for the header. Both read /proc and /sys (every process's stat
 * for the noise): together, and a command starts them alongside its QEMU probes. Those probes'
 * QEMUs are this process's children, which the noise does not count.
 */
export async function readHostState(): Promise<HostState> {
  const [host, hostNoise] = await Promise.all([hostFacts(), readHostNoise()]);
  return { host, hostNoise };
}

/** The header fields `run` and `compare` share: what was asked for, on what machine. */
export async function experimentHeader(
  command: 'run' | 'compare',
  runId: string,
  plan: Pick<ExperimentPlan, 'scenario' | 'points' | 'breakdown'>,
  trace: boolean,
  extraConfig: Partial<RunHeader['config']>,
  variants: RunHeader['variants'],
  destination?: RunHeader['destination'],
  hostState: Promise<HostState> = readHostState(),
): Promise<RunHeader> {
  const { scenario, points } = plan;
  const vm = points[0]!.vm;
  const swept = points.length > 1;
  // A swept setting is recorded as its list, not as the first point's value.
  const keys = new Set(points.flatMap((p) => Object.keys(p.point.label)));
  const listOr = <T>(key: string, one: T, each: (v: VmOptions) => string): T | string =>
    keys.has(key) ? [...new Set(points.map((p) => each(p.vm)))].join(',') : one;
  const { host, hostNoise } = await hostState;
  return {
    kind: 'header',
    schemaVersion: RESULTS_SCHEMA_VERSION,
    runId,
    command,
    migdownVersion: MIGDOWN_VERSION,
    createdAt: new Date().toISOString(),
    host,
    hostNoise,
    accel: vm.accel,
    ...(vm.accelNote && { accelNote: vm.accelNote }),
    config: {
      ram: listOr('ram', vm.ramText, (v) => v.ramText),
      ramBytes: vm.ramBytes,
      smp: listOr('smp', vm.smp, (v) => String(v.smp)),
      speed: listOr('speed', vm.speedText, (v) => v.speedText),
      speedBytes: vm.speedBytes,
      downtime: listOr('downtime', vm.downtimeText, (v) => v.downtimeText),
      downtimeMs: vm.downtimeMs,
      runs: vm.runs,
      pollMs: vm.pollMs,
      timeoutMs: vm.timeoutMs,
      extraArgs: vm.extraArgs,
      params: vm.params,
      capabilities: vm.capabilities,
      postcopy: vm.postcopy,
      guest: vm.guest,
      // 'unavailable' makes every report say why there is no breakdown; 'off' was asked for.
      breakdown: trace ? 'recorded' : plan.breakdown ? 'unavailable' : 'off',
      ...(vm.accelProps && { accelProps: vm.accelProps }),
      ...(swept && { sweep: points.map((p) => p.point.label) }),
      ...(scenario && { scenario: scenario.scenario, scenarioFile: scenario.file }),
      ...(scenario?.scenario.reference && { reference: scenario.scenario.reference }),
      ...extraConfig,
    },
    variants,
    ...(destination && { destination }),
  };
}

/**
 * The progress display for a series, stopped on a signal so that what follows (the table of
 * finished trials, the interrupted message) starts on a clean line. Use `progress.log` for
 * progress lines from here on.
 */
export async function startProgress(
  ctx: CommandContext,
  opts: { quiet: boolean },
  total: number,
  label: 'run' | 'compare',
  trialOf: (t: TrialRecord) => number,
): Promise<{ progress: Progress; release(): void }> {
  const enabled = progressEnabled(ctx.stderr, { quiet: opts.quiet }, ctx.env);
  if (enabled) await loadLiveDisplay();
  const progress = createProgress({
    stream: ctx.stderr,
    enabled,
    quiet: Boolean(opts.quiet),
    color: ctx.chalkErr.level > 0,
    total,
    label,
    trialOf,
  });
  const stopOnAbort = () => progress.stop();
  ctx.signal.addEventListener('abort', stopOnAbort, { once: true });
  return {
    progress,
    release: () => {
      progress.stop();
      ctx.signal.removeEventListener('abort', stopOnAbort);
    },
  };
}

/**
 * The end of a command (finish.ts: the analysis, the renderers, the gates), loaded while the
 * first trial's QEMUs start: compiling it is then off the path to the first QEMU, which
 * waits for nothing else (see docs/benchmarks.md, issue 13).
 */
let finishing: Promise<typeof import('./finish.js')> | undefined;
export function loadFinish(): Promise<typeof import('./finish.js')> {
  return (finishing ??= import('./finish.js'));
}

/** loadFinish() started early; a failure to load surfaces where the module is awaited. */
export function prefetchFinish(): void {
  loadFinish().catch(() => undefined);
}
