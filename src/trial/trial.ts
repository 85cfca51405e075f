// One trial: the seed's manual steps, done by migdown on real QEMU.
//   destination: qemu-system-x86_64 ... -incoming tcp:127.0.0.1:PORT
//   source:      qemu-system-x86_64 ...
//   (qemu) migrate_set_speed 0              (or migrate_set_parameter max-bandwidth 0)
//   (qemu) migrate_set_downtime 0.01        (or migrate_set_parameter downtime-limit 10)
//   (qemu) migrate -d tcp:127.0.0.1:PORT
//   (qemu) info migrate                     (polled until completed, failed or cancelled)
// then the destination's `info status` must say running, and both QEMUs are stopped.
// The destination may be on another host (destination.ts); the steps are in trial-steps.ts.

import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { chooseDialect } from '../qemu/dialect.js';
import { trialFirmware } from '../qemu/firmware.js';
import { probeTracePlan } from '../qemu/features.js';
import type { GuestObservation } from '../guest/types.js';
import { traceArgs, type DowntimeBreakdown } from '../trace/breakdown.js';
import { makeRunDir } from '../util/rundir.js';
import { clockAgreement } from './clock-agreement.js';
import { openDestination } from './destination.js';
import { PhaseClock, type PhaseTimes } from './phases.js';
import { qemuArgv, type TrialConfig, type TrialContext } from './trial-config.js';
import { MonitorLog, type Outcome, type Running, type TrialPlan } from './trial-state.js';
import { configure, explainError, launch, migrate, teardown, verify } from './trial-steps.js';
import type { TrialRecord } from './types.js';

export async function runTrial(cfg: TrialConfig, ctx: TrialContext): Promise<TrialRecord> {
  const t0 = performance.now();
  const phases = new PhaseClock();
  phases.enter('boot');
  const startedAt = new Date().toISOString();
  const plan = await planTrial(cfg, ctx, phases, () => Math.round((performance.now() - t0) * 10) / 10);
  const run: Running = {};
  const outcome: Outcome = { status: 'error' };
  try {
    const launched = await launch(plan, run);
    const migrateUri = await configure(plan, launched);
    await migrate(plan, launched, migrateUri, outcome);
    await verify(plan, launched, outcome);
  } catch (err) {
    if (ctx.signal?.aborted) throw ctx.signal.reason ?? err;
    await explainError(err, run, outcome);
  } finally {
    await teardown(plan, run, outcome);
  }
  const phaseMs = phases.finish();
  return trialRecord(plan, run, outcome, { startedAt, wallMs: Math.round(performance.now() - t0), phaseMs });
}

/** The run directory, the destination and both command lines, before anything starts. */
async function planTrial(cfg: TrialConfig, ctx: TrialContext, phases: PhaseClock, at: () => number): Promise<TrialPlan> {
  const runDir = await makeRunDir();
  const dialect = chooseDialect(cfg.qemu.versionLine);
  const guest = cfg.guest?.();
  const dest = await openDestination(cfg, runDir);
  const monitorPaths = { destination: path.join(runDir, 'dst.monitor'), source: path.join(runDir, 'src.monitor') };
  const capabilities = Object.entries(cfg.capabilities ?? {});
  const params = Object.entries(cfg.params);
  const deferIncoming = capabilities.length > 0 || params.length > 0;
  const sourceTrace = path.join(runDir, 'src.trace.log');
  // The checkpoints where the binary has them, else the older events (src/trace/breakdown.ts).
  const traceEvents = cfg.trace ? (await probeTracePlan(cfg.qemu)).events : [];
  const destination = [
    ...qemuArgv(cfg, chooseDialect(dest.qemu.versionLine), monitorPaths.destination, [
      ...(guest?.qemuArgs('destination', runDir, dest.guestPaths) ?? []),
      ...(cfg.trace && dest.traceLog ? traceArgs(dest.traceLog, traceEvents) : []),
    ]),
    '-incoming',
    deferIncoming ? 'defer' : dest.incomingUri,
  ];
  const source = qemuArgv(cfg, dialect, monitorPaths.source, [...(guest?.qemuArgs('source', runDir) ?? []), ...(cfg.trace ? traceArgs(sourceTrace, traceEvents) : [])]);
  return {
    cfg,
    ctx,
    runDir,
    dest,
    ...(guest && { guest }),
    phases,
    at,
    log: new MonitorLog(at),
    samples: [],
    argv: { source, destination },
    monitorPaths,
    sourceTrace,
    capabilities,
    params,
    deferIncoming,
  };
}

function trialRecord(
  { cfg, ctx, argv, log, samples }: TrialPlan,
  run: Running,
  { status, reason, info, rawInfo, destinationStatus, guest, breakdown, hugePages }: Outcome,
  times: { startedAt: string; wallMs: number; phaseMs: PhaseTimes },
): TrialRecord {
  return {
    kind: 'trial',
    runId: ctx.runId,
    variant: ctx.variant,
    index: ctx.index,
    ...(ctx.point && { point: ctx.point }),
    warmup: ctx.warmup,
    status,
    ...(reason !== undefined && { reason }),
    accel: cfg.accel,
    ...times,
    ...(info && { info }),
    ...(rawInfo !== undefined && { rawInfo }),
    ...(destinationStatus !== undefined && { destinationStatus }),
    ...(guest && { guest }),
    ...(breakdown && { breakdown }),
    ...(hugePages && { hugePages }),
    ...withClocks(guest, breakdown),
    samples,
    monitor: log.exchanges,
    sourceArgv: [cfg.qemu.path, ...argv.source],
    // as it ran: a remote destination's QEMU and argv are the destination host's
    destinationArgv: run.dst ? run.dst.argv : [cfg.qemu.path, ...argv.destination],
    qemu: cfg.qemu,
    ...(cfg.firmware && { firmware: trialFirmware(cfg.firmware, cfg.qemu.path, cfg.extraArgs) }),
  };
}

/** Both measures of the pause side by side, where the trial has the heartbeats and the trace. */
function withClocks(guest: GuestObservation | undefined, breakdown: DowntimeBreakdown | undefined): Pick<TrialRecord, 'clocks'> {
  const clocks = clockAgreement(guest, breakdown);
  return clocks ? { clocks } : {};
}
