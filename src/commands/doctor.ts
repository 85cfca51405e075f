// `migdown doctor`: what this host and QEMU can do, before anyone waits for a benchmark.
// Each line is one fact with ok / note / problem; problems make the exit code 1.

import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import { Command } from 'commander';
import { EXIT } from '../errors.js';
import { probeDirtyRing, probeFeatures, probeTracePlan } from '../qemu/features.js';
import { hostFacts, probeKvm, probeQemu, type KvmProbe } from '../qemu/probe.js';
import type { QemuFacts } from '../qemu/facts.js';
import { deathSignalSupport } from '../qemu/process.js';
import { GUEST_PAYLOAD } from '../guest/builtin.js';
import { formatBytes } from '../util/units.js';
import { readHostNoise, sampleNoise } from '../trial/host-noise-read.js';
import { trialNoise } from '../trial/host-noise.js';
import { hostNoiseFigures, noiseReasons, noiseWarning, noiseNumber } from '../stats/noise.js';
import { defaultQemu, kvmDevice, type CommandContext } from './context.js';

type Level = 'ok' | 'note' | 'problem';
type Say = (level: Level, what: string, detail: string) => void;

/** What `doctor` checks: the QEMU of --qemu (a path, never built), the KVM device of the environment. */
export interface DoctorPlan {
  qemu: string;
  kvmDevice: string;
}

export function planDoctor(opts: { qemu: string }, env: NodeJS.ProcessEnv): DoctorPlan {
  return { qemu: opts.qemu, kvmDevice: kvmDevice(env) };
}

export function doctorCommand(ctx: CommandContext, setResult: (p: Promise<number>) => void): Command {
  return new Command('doctor')
    .description('check this host and QEMU: KVM, monitor commands, capabilities, tracepoints')
    .option('--qemu <path>', 'QEMU binary (env MIGDOWN_QEMU)', defaultQemu(ctx.env))
    .action((opts: { qemu: string }) => setResult(doctor(planDoctor(opts, ctx.env), ctx)));
}

/** The host's lines; returns the KVM probe, which decides whether the dirty ring is probed. */
async function checkHost(plan: DoctorPlan, say: Say): Promise<KvmProbe> {
  const host = await hostFacts();
  say('ok', 'host', `${host.cpuModel}, ${host.cpus} CPUs, ${formatBytes(host.memBytes)} (${formatBytes(os.freemem())} free), ${host.kernel}`);
  const k = host.kvm;
  if (k) {
    say('ok', 'KVM module', k.vendorModule ?? 'none loaded');
    say('ok', 'KVM MMU', k.tdpMmu === undefined ? 'tdp_mmu not reported by this kernel' : `tdp_mmu=${k.tdpMmu}${k.tdpMmu === 'N' ? ' (shadow paging)' : ''}, eager_page_split=${k.eagerPageSplit ?? '?'}`);
    say('ok', 'transparent huge pages', `enabled=${k.thpEnabled ?? '?'}, defrag=${k.thpDefrag ?? '?'} (each QEMU's AnonHugePages is recorded when it migrates)`);
  }
  const kvm = await probeKvm(plan.kvmDevice);
  say(kvm.usable ? 'ok' : 'note', 'KVM', kvm.usable ? kvm.reason : `${kvm.reason}; runs will use TCG, whose downtimes are not KVM downtimes`);
  const death = deathSignalSupport();
  say(death.setpriv ? 'ok' : 'note', 'setpriv', death.setpriv ? 'QEMU dies with migdown even on kill -9' : `${death.reason}: a migdown killed with -9 would leave its QEMUs running`);
  say(existsSync(GUEST_PAYLOAD) ? 'ok' : 'problem', 'built-in guest', existsSync(GUEST_PAYLOAD) ? GUEST_PAYLOAD : `${GUEST_PAYLOAD} is missing`);
  return kvm;
}

/** The QEMU's lines. Every probe starts the QEMU; one that exits at once is a problem to show, not a crash. */
async function checkQemu(qemu: QemuFacts, kvm: KvmProbe, say: Say): Promise<void> {
  try {
    const f = await probeFeatures(qemu);
    const legacy = f.commands.has('migrate_set_speed');
    say('ok', 'monitor', legacy ? 'migrate_set_speed / migrate_set_downtime (as in the seed)' : 'migrate_set_parameter max-bandwidth / downtime-limit');
    for (const [cap, why] of [
      ['multifd', 'multifd scenario'],
      ['postcopy-ram', 'postcopy scenario'],
      ['auto-converge', 'auto-converge scenario'],
    ] as const) {
      say(f.capabilities.has(cap) ? 'ok' : 'note', `capability ${cap}`, f.capabilities.has(cap) ? 'available' : `not in this QEMU (the ${why} will be skipped)`);
    }
    say(
      f.commands.has('calc_dirty_rate') ? 'ok' : 'note',
      'calc_dirty_rate',
      f.commands.has('calc_dirty_rate') ? "the guest's dirty rate is measured" : 'not in this QEMU: requested dirty rates are not measured',
    );
    const plan = await probeTracePlan(qemu);
    say(
      plan.mode === 'checkpoints' ? 'ok' : 'note',
      'downtime tracepoints',
      plan.mode === 'checkpoints'
        ? 'pause breakdown available'
        : plan.mode === 'legacy'
          ? `no checkpoints (8.2 or later has them): no phase breakdown; whether dirty logging stopped inside the pause comes from ${plan.events.join(', ')}`
          : 'not in this QEMU (8.2 or later has them): no pause breakdown',
    );
    if (kvm.usable) {
      const ring = await probeDirtyRing(qemu);
      say(ring.ok ? 'ok' : 'note', 'KVM dirty ring', ring.ok ? 'available' : ring.reason);
    }
  } catch (err) {
    say('problem', 'QEMU start', (err as Error).message);
  }
}

/** The host noise line, over the window that began with `start`. */
async function checkNoise(start: Awaited<ReturnType<typeof sampleNoise>>, say: Say, ctx: CommandContext): Promise<void> {
  const window = trialNoise(start, await sampleNoise());
  const facts = await readHostNoise();
  const figures = hostNoiseFigures(facts, {
    ...(window.stealPct !== undefined && { stealPct: window.stealPct }),
    ...(window.othersCpus !== undefined && { othersCpus: window.othersCpus }),
  });
  const warning = noiseWarning(noiseReasons(figures));
  const measured = [
    `load ${facts.loadAvg.map(noiseNumber).join(' ')} on ${facts.cpus} CPUs`,
    `${facts.otherQemus.length} other QEMU${facts.otherQemus.length === 1 ? '' : 's'}`,
    ...(window.othersCpus !== undefined ? [`others used ${noiseNumber(window.othersCpus)} CPU`] : []),
    ...(window.stealPct !== undefined ? [`steal ${noiseNumber(window.stealPct)}%`] : []),
    `governor ${facts.governors?.join('/') ?? 'none (no cpufreq)'}`,
    `SMT ${facts.smt ?? 'unknown'}`,
  ].join(', ');
  say(warning ? 'note' : 'ok', 'host noise', warning ?? measured);
  if (warning) ctx.stdout.write(`        (${measured})\n`);
}

async function doctor(plan: DoctorPlan, ctx: CommandContext): Promise<number> {
  const c = ctx.chalk;
  let problems = 0;
  const say: Say = (level, what, detail) => {
    if (level === 'problem') problems++;
    const mark = level === 'ok' ? c.green('ok     ') : level === 'note' ? c.yellow('note   ') : c.red('problem');
    ctx.stdout.write(`${mark} ${what}: ${detail}\n`);
  };

  // Steal and others' CPU are measured over the whole check (at least a second): it runs QEMU
  // briefly, which counts as migdown's own.
  const noiseStart = await sampleNoise();
  const noiseWindow = sleep(1000);
  const kvm = await checkHost(plan, say);
  let qemu;
  try {
    qemu = await probeQemu(plan.qemu);
  } catch (err) {
    say('problem', 'QEMU', (err as Error).message.replace(/^--qemu: /, ''));
    return EXIT.failure;
  }
  say('ok', 'QEMU', `${qemu.versionLine} (${qemu.path})`);
  await checkQemu(qemu, kvm, say);
  await noiseWindow;
  await checkNoise(noiseStart, say, ctx);
  return problems ? EXIT.failure : EXIT.ok;
}
