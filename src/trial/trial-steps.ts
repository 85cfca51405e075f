// The steps of one trial, in the order trial.ts runs them: launch (both QEMUs, their
// monitors, the guest ready), configure (the seed's settings), migrate (`migrate -d`, polled
// to a final status), verify (the destination runs, the guest's view) and teardown (both
// QEMUs stopped, the trace read, the run directory removed). Each reads the plan and writes
// what it finds to the trial's state (trial-state.ts).

import { readFile, rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { chooseDialect, helpCommands } from '../qemu/dialect.js';
import { HmpClient } from '../qemu/hmp-client.js';
import { readQemuHugePages } from '../qemu/host-facts.js';
import { parseInfoMigrate, parseInfoStatus, timesNotYetWritten, type MigrationInfo } from '../qemu/info-migrate.js';
import { exitExplanation, spawnQemu, stopQemu, type QemuProcess } from '../qemu/process.js';
import { computeBreakdown } from '../trace/breakdown.js';
import type { Launched, Outcome, Running, TrialPlan } from './trial-state.js';
import type { ProgressSample, TrialStatus } from './types.js';

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** Start both QEMUs and connect their monitors; with a guest, wait until it is ready. */
export async function launch(plan: TrialPlan, run: Running): Promise<Launched> {
  const { cfg, ctx, guest, log, monitorPaths } = plan;
  await guest?.prepare?.(plan.runDir);
  ctx.onPhase?.('starting QEMU');
  const dst = (run.dst = await plan.dest.start(plan.argv.destination, monitorPaths.destination, guest));
  const src = (run.src = spawnQemu('source', cfg.qemu.path, plan.argv.source));
  ctx.onQemuStarted?.();
  const [dstMon, srcMon] = await Promise.all([connectMonitor(dst, monitorPaths.destination), connectMonitor(src, monitorPaths.source)]);
  run.dstMon = dstMon;
  run.srcMon = srcMon;

  // The monitor's own command list is the authority on which commands exist.
  const help = await log.send('source', srcMon, 'help');
  log.replaceLastReply('(help listing omitted)');
  const dialect = chooseDialect(cfg.qemu.versionLine, help);

  if (guest) {
    plan.phases.enter('ready');
    ctx.onPhase?.('waiting for the guest');
    await guest.waitReady(plan.runDir, src, ctx.signal);
  }
  return { src, dst, srcMon, dstMon, dialect, help };
}

async function connectMonitor(proc: QemuProcess, monitorPath: string): Promise<HmpClient> {
  try {
    return await HmpClient.connect(monitorPath, { connectTimeoutMs: 30_000, processExited: proc.exited });
  } catch (err) {
    // Give QEMU a moment to finish writing why it exited.
    await Promise.race([proc.exited, sleep(500)]);
    throw new Error(proc.exitInfo ? exitExplanation(proc) : `${proc.role}: ${(err as Error).message}`);
  }
}

/** The seed's settings on both sides; resolves to the URI the source migrates to. */
export async function configure(plan: TrialPlan, { srcMon, dstMon, dialect, help }: Launched): Promise<string> {
  const { cfg, ctx, guest, log } = plan;
  plan.phases.enter('configure');
  for (const [side, mon] of [['destination', dstMon], ['source', srcMon]] as const) {
    if (side === 'destination' && !plan.deferIncoming) continue;
    for (const [name, on] of plan.capabilities) await log.send(side, mon, `migrate_set_capability ${name} ${on ? 'on' : 'off'}`);
  }
  await log.send('source', srcMon, dialect.setSpeed(cfg.speedBytes));
  await log.send('source', srcMon, dialect.setDowntime(cfg.downtimeMs));
  for (const [side, mon] of [['destination', dstMon], ['source', srcMon]] as const) {
    for (const [name, value] of plan.params) await log.send(side, mon, `migrate_set_parameter ${name} ${value}`);
  }
  if (plan.deferIncoming) await log.send('destination', dstMon, `migrate_incoming ${plan.dest.incomingUri}`);
  const migrateUri = await plan.dest.migrateUri((command) => log.send('destination', dstMon, command));
  if (guest?.beforeMigrate) {
    ctx.onPhase?.('measuring the guest');
    await guest.beforeMigrate(srcMon, (command, reply) => log.record('source', command, reply), helpCommands(help));
  }
  return migrateUri;
}

/**
 * `migrate -d`, then `info migrate` every pollMs until a final status; a timeout or a lost
 * destination cancels it. The last `info migrate` is in the outcome either way.
 */
export async function migrate(plan: TrialPlan, { src, dst, srcMon }: Launched, migrateUri: string, outcome: Outcome): Promise<void> {
  const { cfg, ctx, log } = plan;
  plan.phases.enter('migrate');
  ctx.onPhase?.('migrating');
  outcome.hugePages = await hugePagesNow(plan, src, dst);
  await log.send('source', srcMon, `migrate -d ${migrateUri}`);
  const deadline = performance.now() + cfg.timeoutMs;
  let postcopyStarted = false;
  for (;;) {
    if (ctx.signal?.aborted) throw ctx.signal.reason;
    if (src.exitInfo) throw new Error(exitExplanation(src));
    const lost = plan.dest.lost(dst);
    if (lost) {
      // The source would wait for TCP to give up: end the migration now.
      await log.send('source', srcMon, 'migrate_cancel').catch(() => undefined);
      outcome.status = 'failed';
      outcome.reason = lost;
      break;
    }
    const info = await askInfoMigrate(srcMon, outcome);
    const sample = sampleOf(plan.at(), info);
    plan.samples.push(sample);
    ctx.onSample?.(sample, info);
    if (info.status && TERMINAL.has(info.status)) {
      await untilTimesWritten(srcMon, outcome);
      break;
    }
    // Postcopy starts once the first pass over RAM is done (the second dirty sync).
    if (cfg.postcopy && !postcopyStarted && info.status === 'active' && (info.dirtySyncCount ?? 0) >= 2) {
      await log.send('source', srcMon, 'migrate_start_postcopy');
      postcopyStarted = true;
    }
    if (performance.now() > deadline) {
      await log.send('source', srcMon, 'migrate_cancel').catch(() => undefined);
      outcome.status = 'timeout';
      outcome.reason = `migration did not finish within ${Math.round(cfg.timeoutMs / 1000)} s (last status: ${info.status ?? 'none'})`;
      break;
    }
    await sleep(cfg.pollMs);
  }
  log.record('source', 'info migrate', outcome.rawInfo ?? '');
}

async function askInfoMigrate(srcMon: HmpClient, outcome: Outcome): Promise<MigrationInfo> {
  outcome.rawInfo = await srcMon.command('info migrate');
  return (outcome.info = parseInfoMigrate(outcome.rawInfo));
}

/**
 * QEMU sets 'completed' a moment before it writes the final times (7.2's
 * migration_completion() sets the state, migration_calculate_complete() the times after): an
 * `info migrate` in that window says total time and downtime 0 ms. Ask again.
 */
async function untilTimesWritten(srcMon: HmpClient, outcome: Outcome): Promise<void> {
  for (let again = 0; again < 50 && timesNotYetWritten(outcome.info!); again++) {
    await sleep(10);
    await askInfoMigrate(srcMon, outcome);
  }
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

/** Each QEMU's AnonHugePages at the moment of migrating, where this host sees it (THP decides what KVM must split). */
async function hugePagesNow(plan: TrialPlan, src: QemuProcess, dst: QemuProcess): Promise<Outcome['hugePages']> {
  const [source, destination] = await Promise.all([readQemuHugePages(src.pid), plan.dest.hugePages(dst)]);
  if (!source && !destination) return undefined;
  return { ...(source && { source }), ...(destination && { destination }) };
}

/** The trial's status from QEMU's final one; a completed migration also needs a running destination. */
export async function verify(plan: TrialPlan, launched: Launched, outcome: Outcome): Promise<void> {
  plan.phases.enter('verify');
  const { info } = outcome;
  if (outcome.status !== 'timeout' && outcome.status !== 'failed' && info?.status) {
    outcome.status = info.status as TrialStatus;
    if (outcome.status === 'failed') outcome.reason = info.failureReason ?? 'QEMU reported failed without a reason';
    if (outcome.status === 'cancelled') outcome.reason = 'migration was cancelled';
  }
  if (outcome.status === 'completed') await checkDestinationRuns(plan, launched, outcome);
  if (plan.guest) outcome.guest = await plan.guest.finish(outcome.status === 'completed');
}

async function checkDestinationRuns(plan: TrialPlan, { dst, dstMon }: Launched, outcome: Outcome): Promise<void> {
  plan.ctx.onPhase?.('checking the destination');
  // The destination resumes a little after the source reports completion.
  const until = performance.now() + 10_000;
  for (;;) {
    if (dst.exitInfo) {
      outcome.status = 'failed';
      outcome.reason = exitExplanation(dst);
      break;
    }
    const reply = await plan.log.send('destination', dstMon, 'info status');
    outcome.destinationStatus = parseInfoStatus(reply).status;
    if (parseInfoStatus(reply).running || performance.now() > until) break;
    await sleep(50);
  }
  if (outcome.status === 'completed' && outcome.destinationStatus !== 'running') {
    outcome.status = 'failed';
    outcome.reason = `destination did not resume: VM status ${outcome.destinationStatus ?? 'unknown'}`;
  }
}

/** A step threw: the trial is an error, explained by a QEMU that died if one did. */
export async function explainError(err: unknown, run: Running, outcome: Outcome): Promise<void> {
  outcome.status = 'error';
  outcome.reason = (err as Error).message;
  // A QEMU that died explains the failure better than the monitor error it caused.
  await sleep(100);
  if (run.src?.exitInfo && run.src.exitInfo.code !== 0) outcome.reason = exitExplanation(run.src);
  else if (run.dst?.exitInfo && run.dst.exitInfo.code !== 0 && !outcome.info) outcome.reason = exitExplanation(run.dst);
}

/** Stop whatever was started, read the trace of a completed migration, remove the run directory. */
export async function teardown(plan: TrialPlan, run: Running, outcome: Outcome): Promise<void> {
  plan.phases.enter('stop');
  plan.ctx.onPhase?.('stopping QEMU');
  plan.guest?.close();
  await Promise.all([run.src && stopQemu(run.src, run.srcMon), run.dst && stopQemu(run.dst, run.dstMon)]);
  if (plan.cfg.trace && outcome.status === 'completed') {
    // QEMU flushes each trace line as it writes it; after exit both logs are whole.
    const read = async (f: string | undefined) => (f === undefined ? '' : readFile(f, 'utf8').catch(() => ''));
    outcome.breakdown = computeBreakdown(await read(plan.sourceTrace), await read(plan.dest.traceLog), { sameHost: true });
  }
  await rm(plan.runDir, { recursive: true, force: true });
}
