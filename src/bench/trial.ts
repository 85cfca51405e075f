// One trial: the seed's manual steps, done by migdown on real QEMU.
//   destination: qemu-system-x86_64 ... -incoming tcp:127.0.0.1:PORT
//   source:      qemu-system-x86_64 ...
//   (qemu) migrate_set_speed 0              (or migrate_set_parameter max-bandwidth 0)
//   (qemu) migrate_set_downtime 0.01        (or migrate_set_parameter downtime-limit 10)
//   (qemu) migrate -d tcp:127.0.0.1:PORT
//   (qemu) info migrate                     (polled until completed, failed or cancelled)
// then the destination's `info status` must say running, and both QEMUs are stopped.

import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { chooseDialect, helpCommands, type Dialect } from '../qemu/dialect.js';
import { HmpClient, HmpError } from '../qemu/hmp-client.js';
import { parseInfoMigrate, parseInfoStatus, timesNotYetWritten, type MigrationInfo } from '../qemu/info-migrate.js';
import { spawnQemu, stopQemu, type QemuProcess } from '../qemu/process.js';
import { listeningUri, startRemoteQemu, type MigrationEndpoints, type SshOptions, type SshTarget } from '../remote/ssh.js';
import { firmwareArgs, trialFirmware, type Firmware } from '../qemu/firmware.js';
import { readQemuHugePages } from '../qemu/host-facts.js';
import { probeTracePlan } from '../qemu/features.js';
import { computeBreakdown, traceArgs, type DowntimeBreakdown } from '../trace/breakdown.js';
import { freeLoopbackPort } from '../util/net.js';
import { makeRunDir } from '../util/rundir.js';
import { PhaseClock } from './phases.js';
import { clockAgreement } from './clock-agreement.js';
import type { ProgressSample, TrialRecord, TrialStatus } from './types.js';
import type { Accel, MonitorExchange, QemuFacts } from '../qemu/facts.js';
import type { GuestDriver, GuestObservation } from '../guest/types.js';

export interface TrialConfig {
  qemu: QemuFacts;
  accel: Accel;
  ramBytes: number;
  smp: number;
  speedBytes: number;
  downtimeMs: number;
  /** fixed destination port; a free one is picked per trial otherwise */
  port?: number;
  /** extra QEMU arguments, given to both sides */
  extraArgs: string[];
  /** extra `migrate_set_parameter NAME VALUE` pairs, sent to both sides after speed and downtime */
  params: Record<string, string>;
  /** `migrate_set_capability NAME on|off`, sent to both sides */
  capabilities?: Record<string, boolean>;
  /** switch to postcopy (`migrate_start_postcopy`) once the first pass is done */
  postcopy?: boolean;
  /** accelerator properties, e.g. "dirty-ring-size=4096" (KVM only) */
  accelProps?: string;
  pollMs: number;
  /** how long a migration may take before it is cancelled and the trial marked 'timeout' */
  timeoutMs: number;
  /** record QEMU's downtime tracepoints for a breakdown of the pause (needs QEMU 10.0+) */
  trace?: boolean;
  /** The destination on another host, reached over SSH (--dest-host); absent: this host. */
  remote?: RemoteDestination;
  /** the firmware both sides boot; absent: QEMU's default (SeaBIOS) */
  firmware?: Firmware;
  /** Makes the guest workload of one trial; absent: a VM with no OS (firmware only). */
  guest?: () => GuestDriver;
}

/** The hooks a guest workload needs in a trial (see src/guest/). */
export interface RemoteDestination {
  target: SshTarget;
  ssh: SshOptions;
  /** the destination's QEMU as preflight found it */
  qemu: QemuFacts;
  endpoints: MigrationEndpoints;
  /** a private directory on the destination (guest payload, serial sockets) */
  dir: string;
}



export interface TrialContext {
  runId: string;
  variant: string;
  index: number;
  warmup: boolean;
  point?: Record<string, string | number>;
  signal?: AbortSignal;
  /** called with each `info migrate` sample while the migration runs (progress display) */
  onSample?: (sample: ProgressSample, info: MigrationInfo) => void;
  /** called when the trial moves to a new phase */
  onPhase?: (phase: string) => void;
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** The machine both sides run; identical except for -incoming, as migration requires. */
export function qemuArgv(cfg: TrialConfig, dialect: Dialect, monitorPath: string, extra: string[]): string[] {
  return [
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    ...dialect.accelArgs(cfg.accel, cfg.accel === 'kvm' ? cfg.accelProps : undefined),
    '-m',
    `${Math.round(cfg.ramBytes / 1024 ** 2)}M`,
    '-smp',
    String(cfg.smp),
    '-monitor',
    `unix:${monitorPath},${dialect.serverFlags}`,
    ...firmwareArgs(cfg.firmware, cfg.extraArgs),
    ...extra,
    ...cfg.extraArgs,
  ];
}

function sampleOf(atMs: number, info: MigrationInfo): ProgressSample {
  return {
    atMs,
    status: info.status,
    transferredRamBytes: info.transferredRamBytes,
    remainingRamBytes: info.remainingRamBytes,
    throughputMbps: info.throughputMbps,
    dirtyPagesRate: info.dirtyPagesRate,
    expectedDowntimeMs: info.expectedDowntimeMs,
    dirtySyncCount: info.dirtySyncCount,
  };
}

/** Why a QEMU that exited early failed: its own last stderr line is the best explanation. */
function exitExplanation(proc: QemuProcess): string {
  const lines = proc.stderr().trim().split('\n').filter(Boolean);
  const last = lines.slice(-3).join(' | ');
  return `${proc.role} QEMU ${proc.exitInfo?.reason ?? 'exited'}${last ? `: ${last}` : ''}`;
}

export async function runTrial(cfg: TrialConfig, ctx: TrialContext): Promise<TrialRecord> {
  const t0 = performance.now();
  const at = () => Math.round((performance.now() - t0) * 10) / 10;
  const phases = new PhaseClock();
  phases.enter('boot');
  const startedAt = new Date().toISOString();
  const monitor: MonitorExchange[] = [];
  const samples: ProgressSample[] = [];
  const runDir = await makeRunDir();
  let dialect = chooseDialect(cfg.qemu.versionLine);
  const guestDriver = cfg.guest?.();
  const port = cfg.port ?? (await freeLoopbackPort());
  const dstMonPath = path.join(runDir, 'dst.monitor');
  const srcMonPath = path.join(runDir, 'src.monitor');
  const capabilities = Object.entries(cfg.capabilities ?? {});
  const params = Object.entries(cfg.params);
  // The seed's `-incoming tcp:...` listens at once. Capabilities and parameters must be set on
  // the destination before it accepts the stream, which `-incoming defer` allows.
  const deferIncoming = capabilities.length > 0 || params.length > 0;
  const srcTrace = path.join(runDir, 'src.trace.log');
  const dstTrace = path.join(runDir, 'dst.trace.log');
  const remote = cfg.remote;
  const remotePaths = remote && { dir: remote.dir, trial: path.basename(runDir) };
  const incomingUri = remote ? remote.endpoints.incoming : `tcp:127.0.0.1:${port}`;
  let migrateUri = remote ? remote.endpoints.migrate : `tcp:127.0.0.1:${port}`;
  const dstDialect = remote ? chooseDialect(remote.qemu.versionLine) : dialect;
  // The checkpoints where the binary has them, else the older events (src/trace/breakdown.ts).
  const traceEvents = cfg.trace ? (await probeTracePlan(cfg.qemu)).events : [];
  const destinationArgv = [
    ...qemuArgv(cfg, dstDialect, dstMonPath, [
      ...(guestDriver?.qemuArgs('destination', runDir, remotePaths) ?? []),
      // Trace logs stay local only: a remote breakdown would need clocks we cannot compare.
      ...(cfg.trace && !remote ? traceArgs(dstTrace, traceEvents) : []),
    ]),
    '-incoming',
    deferIncoming ? 'defer' : incomingUri,
  ];
  const sourceArgv = qemuArgv(cfg, dialect, srcMonPath, [...(guestDriver?.qemuArgs('source', runDir) ?? []), ...(cfg.trace ? traceArgs(srcTrace, traceEvents) : [])]);

  let dst: QemuProcess | undefined;
  let src: QemuProcess | undefined;
  let dstMon: HmpClient | undefined;
  let srcMon: HmpClient | undefined;
  let status: TrialStatus = 'error';
  let reason: string | undefined;
  let info: MigrationInfo | undefined;
  let rawInfo: string | undefined;
  let destinationStatus: string | undefined;
  let guest: GuestObservation | undefined;
  let breakdown: DowntimeBreakdown | undefined;
  let hugePages: TrialRecord['hugePages'];

  const send = async (side: 'source' | 'destination', mon: HmpClient, command: string, timeoutMs?: number) => {
    try {
      const reply = await mon.command(command, timeoutMs);
      monitor.push({ side, command, reply, atMs: at() });
      return reply;
    } catch (err) {
      const reply = err instanceof HmpError ? err.qemuMessage : `(${(err as Error).message})`;
      monitor.push({ side, command, reply, atMs: at() });
      throw err;
    }
  };

  try {
    await guestDriver?.prepare?.(runDir);
    ctx.onPhase?.('starting QEMU');
    dst = remote
      ? await startRemoteQemu(remote.target, remote.qemu.path, destinationArgv, {
          ...remote.ssh,
          role: 'destination',
          monitorPath: dstMonPath,
          extraSshArgs: guestDriver?.remoteSshArgs?.(runDir, remotePaths!) ?? [],
        })
      : spawnQemu('destination', cfg.qemu.path, destinationArgv);
    src = spawnQemu('source', cfg.qemu.path, sourceArgv);
    const connect = async (proc: QemuProcess, monPath: string) => {
      try {
        return await HmpClient.connect(monPath, { connectTimeoutMs: 30_000, processExited: proc.exited });
      } catch (err) {
        // Give QEMU a moment to finish writing why it exited.
        await Promise.race([proc.exited, sleep(500)]);
        throw new Error(proc.exitInfo ? exitExplanation(proc) : `${proc.role}: ${(err as Error).message}`);
      }
    };
    [dstMon, srcMon] = await Promise.all([connect(dst, dstMonPath), connect(src, srcMonPath)]);

    // The monitor's own command list is the authority on which commands exist.
    const help = await send('source', srcMon, 'help');
    monitor[monitor.length - 1]!.reply = '(help listing omitted)';
    dialect = chooseDialect(cfg.qemu.versionLine, help);

    if (guestDriver) {
      phases.enter('ready');
      ctx.onPhase?.('waiting for the guest');
      await guestDriver.waitReady(runDir, src, ctx.signal);
    }

    phases.enter('configure');

    for (const [side, mon] of [['destination', dstMon], ['source', srcMon]] as const) {
      if (side === 'destination' && !deferIncoming) continue;
      for (const [name, on] of capabilities) await send(side, mon, `migrate_set_capability ${name} ${on ? 'on' : 'off'}`);
    }
    await send('source', srcMon, dialect.setSpeed(cfg.speedBytes));
    await send('source', srcMon, dialect.setDowntime(cfg.downtimeMs));
    for (const [side, mon] of [['destination', dstMon], ['source', srcMon]] as const) {
      for (const [name, value] of params) await send(side, mon, `migrate_set_parameter ${name} ${value}`);
    }
    if (deferIncoming) await send('destination', dstMon, `migrate_incoming ${incomingUri}`);
    if (remote && remote.endpoints.port === 0) {
      // The destination's kernel chose this trial's port: ask the destination which.
      const uri = listeningUri(await send('destination', dstMon, 'info migrate'), remote.endpoints);
      if (!uri) throw new Error(`the destination QEMU does not say which port it listens on for ${incomingUri}`);
      migrateUri = uri;
    }
    if (guestDriver?.beforeMigrate) {
      ctx.onPhase?.('measuring the guest');
      await guestDriver.beforeMigrate(srcMon, (command, reply) => monitor.push({ side: 'source', command, reply, atMs: at() }), helpCommands(help));
    }

    phases.enter('migrate');
    ctx.onPhase?.('migrating');
    hugePages = await hugePagesNow(src, remote ? undefined : dst);
    await send('source', srcMon, `migrate -d ${migrateUri}`);
    const deadline = performance.now() + cfg.timeoutMs;
    let postcopyStarted = false;
    for (;;) {
      if (ctx.signal?.aborted) throw ctx.signal.reason;
      if (src.exitInfo) throw new Error(exitExplanation(src));
      if (dst.exitInfo && remote) {
        // A lost link leaves the source 'active' until TCP gives up, minutes later: end it now.
        await send('source', srcMon, 'migrate_cancel').catch(() => undefined);
        status = 'failed';
        reason = exitExplanation(dst);
        break;
      }
      rawInfo = await srcMon.command('info migrate');
      info = parseInfoMigrate(rawInfo);
      const sample = sampleOf(at(), info);
      samples.push(sample);
      ctx.onSample?.(sample, info);
      if (info.status && TERMINAL.has(info.status)) {
        // QEMU sets 'completed' a moment before it writes the final times (7.2's
        // migration_completion() sets the state, migration_calculate_complete() the times after):
        // an `info migrate` in that window says total time and downtime 0 ms. Ask again.
        for (let again = 0; again < 50 && timesNotYetWritten(info); again++) {
          await sleep(10);
          rawInfo = await srcMon.command('info migrate');
          info = parseInfoMigrate(rawInfo);
        }
        break;
      }
      // Postcopy starts once the first pass over RAM is done (the second dirty sync).
      if (cfg.postcopy && !postcopyStarted && info.status === 'active' && (info.dirtySyncCount ?? 0) >= 2) {
        await send('source', srcMon, 'migrate_start_postcopy');
        postcopyStarted = true;
      }
      if (performance.now() > deadline) {
        await send('source', srcMon, 'migrate_cancel').catch(() => undefined);
        status = 'timeout';
        reason = `migration did not finish within ${Math.round(cfg.timeoutMs / 1000)} s (last status: ${info.status ?? 'none'})`;
        break;
      }
      await sleep(cfg.pollMs);
    }
    monitor.push({ side: 'source', command: 'info migrate', reply: rawInfo ?? '', atMs: at() });
    phases.enter('verify');

    if (status !== 'timeout' && status !== 'failed' && info?.status) {
      status = info.status as TrialStatus;
      if (status === 'failed') reason = info.failureReason ?? 'QEMU reported failed without a reason';
      if (status === 'cancelled') reason = 'migration was cancelled';
    }

    if (status === 'completed') {
      ctx.onPhase?.('checking the destination');
      // The destination resumes a little after the source reports completion.
      const until = performance.now() + 10_000;
      for (;;) {
        if (dst.exitInfo) {
          status = 'failed';
          reason = exitExplanation(dst);
          break;
        }
        const reply = await send('destination', dstMon, 'info status');
        destinationStatus = parseInfoStatus(reply).status;
        if (parseInfoStatus(reply).running || performance.now() > until) break;
        await sleep(50);
      }
      if (status === 'completed' && destinationStatus !== 'running') {
        status = 'failed';
        reason = `destination did not resume: VM status ${destinationStatus ?? 'unknown'}`;
      }
    }
    if (guestDriver) guest = await guestDriver.finish(status === 'completed');
  } catch (err) {
    if (ctx.signal?.aborted) throw ctx.signal.reason ?? err;
    status = 'error';
    reason = (err as Error).message;
    // A QEMU that died explains the failure better than the monitor error it caused.
    await sleep(100);
    if (src?.exitInfo && src.exitInfo.code !== 0) reason = exitExplanation(src);
    else if (dst?.exitInfo && dst.exitInfo.code !== 0 && !info) reason = exitExplanation(dst);
  } finally {
    phases.enter('stop');
    ctx.onPhase?.('stopping QEMU');
    guestDriver?.close();
    await Promise.all([src && stopQemu(src, srcMon), dst && stopQemu(dst, dstMon)]);
    if (cfg.trace && status === 'completed') {
      // QEMU flushes each trace line as it writes it; after exit both logs are whole.
      const read = (f: string) => readFile(f, 'utf8').catch(() => '');
      breakdown = computeBreakdown(await read(srcTrace), await read(dstTrace), { sameHost: true });
    }
    await rm(runDir, { recursive: true, force: true });
  }
  const phaseMs = phases.finish();

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
    startedAt,
    wallMs: Math.round(performance.now() - t0),
    phaseMs,
    ...(info && { info }),
    ...(rawInfo !== undefined && { rawInfo }),
    ...(destinationStatus !== undefined && { destinationStatus }),
    ...(guest && { guest }),
    ...(breakdown && { breakdown }),
    ...(hugePages && { hugePages }),
    ...withClocks(guest, breakdown),
    samples,
    monitor,
    sourceArgv: [cfg.qemu.path, ...sourceArgv],
    destinationArgv: remote && dst && 'remoteArgv' in dst ? [remote.qemu.path, ...(dst.remoteArgv as string[])] : [cfg.qemu.path, ...destinationArgv],
    qemu: cfg.qemu,
    ...(cfg.firmware && { firmware: trialFirmware(cfg.firmware, cfg.qemu.path, cfg.extraArgs) }),
  };
}

/** Both measures of the pause side by side, where the trial has the heartbeats and the trace. */
function withClocks(guest: GuestObservation | undefined, breakdown: DowntimeBreakdown | undefined): Pick<TrialRecord, 'clocks'> {
  const clocks = clockAgreement(guest, breakdown);
  return clocks ? { clocks } : {};
}

/** Each local QEMU's AnonHugePages at the moment of migrating (THP decides what KVM must split). */
async function hugePagesNow(src: QemuProcess, dst: QemuProcess | undefined): Promise<TrialRecord['hugePages']> {
  const [source, destination] = await Promise.all([readQemuHugePages(src.pid), readQemuHugePages(dst?.pid)]);
  if (!source && !destination) return undefined;
  return { ...(source && { source }), ...(destination && { destination }) };
}
