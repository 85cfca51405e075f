// What a QEMU binary can do, asked of the binary itself before any VM starts: a QEMU with
// `-machine none` has a monitor but no guest, so this costs a fraction of a second.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { cachedProbeOutput } from './hash-cache.js';
import type { QemuFacts } from './facts.js';
import { tracePlanOf, type TracePlan } from '../trace/breakdown.js';
import { chooseDialect, helpCommands } from './dialect.js';
import { HmpClient } from './hmp-client.js';
import { RuntimeFailure } from '../errors.js';
import { spawnQemu, stopQemu, type QemuProcess } from './process.js';

export interface QemuFeatures {
  helpText: string;
  commands: Set<string>;
  capabilities: Set<string>;
  parameters: Set<string>;
  /** accelerator properties QEMU accepted, e.g. dirty-ring-size */
  dirtyRing?: boolean;
}

/** `name: value` lines, as `info migrate_capabilities` / `info migrate_parameters` print them. */
export function namesOfListing(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^([a-z][a-z0-9-]*):/.exec(line.trim());
    if (m) names.add(m[1]!);
  }
  return names;
}

const cache = new Map<string, Promise<QemuFeatures>>();

/** A QEMU that would not start: what it said on stderr is the explanation. */
async function startFailure(qemu: QemuFacts, proc: QemuProcess, err: unknown): Promise<RuntimeFailure> {
  // Give QEMU a moment to finish writing why it exited.
  await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 500))]);
  const said = proc.stderr().trim().split('\n').filter(Boolean).slice(-3).join(' | ');
  const why = proc.exitInfo ? `${proc.exitInfo.reason}${said ? `: ${said}` : ''}` : (err as Error).message;
  return new RuntimeFailure(`QEMU ${qemu.path} did not start: ${why}`);
}

async function probeOnce(qemu: QemuFacts): Promise<QemuFeatures> {
  const dialect = chooseDialect(qemu.versionLine);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'migdown-probe-'));
  const mon = path.join(dir, 'probe.monitor');
  const proc = spawnQemu('probe', qemu.path, ['-machine', 'none', '-nodefaults', '-no-user-config', '-display', 'none', '-S', '-monitor', `unix:${mon},${dialect.serverFlags}`]);
  let client: HmpClient | undefined;
  try {
    try {
      client = await HmpClient.connect(mon, { connectTimeoutMs: 15_000, processExited: proc.exited });
    } catch (err) {
      throw await startFailure(qemu, proc, err);
    }
    const helpText = await client.command('help');
    const commands = helpCommands(helpText);
    const info = async (what: string) => {
      try {
        return namesOfListing(await client!.command(`info ${what}`));
      } catch {
        return new Set<string>();
      }
    };
    return { helpText, commands, capabilities: await info('migrate_capabilities'), parameters: await info('migrate_parameters') };
  } finally {
    await stopQemu(proc, client);
    await rm(dir, { recursive: true, force: true });
  }
}

export function probeFeatures(qemu: QemuFacts): Promise<QemuFeatures> {
  const key = `${qemu.path}:${qemu.sha256 ?? ''}`;
  let p = cache.get(key);
  if (!p) {
    p = probeOnce(qemu);
    cache.set(key, p);
  }
  return p;
}

/** KVM's dirty ring needs kernel and QEMU support: try to start KVM with it. */
export async function probeDirtyRing(qemu: QemuFacts, size = 4096): Promise<{ ok: boolean; reason: string }> {
  const proc = spawnQemu('probe', qemu.path, ['-machine', 'none', '-nodefaults', '-no-user-config', '-display', 'none', '-S', '-accel', `kvm,dirty-ring-size=${size}`]);
  const exited = await Promise.race([proc.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 1500))]);
  if (exited) {
    const why = proc.stderr().trim().split('\n').at(-1) ?? exited.reason;
    return { ok: false, reason: why };
  }
  await stopQemu(proc, undefined, 0);
  return { ok: true, reason: 'KVM accepted dirty-ring-size' };
}

const traceCache = new Map<string, Promise<TracePlan>>();

/**
 * What to trace, from `-trace help`: the downtime checkpoints (QEMU 8.2 and later, log
 * backend) for the full breakdown, or the older run-state and KVM slot events for the
 * dirty-log question alone.
 */
export function probeTracePlan(qemu: Pick<QemuFacts, 'path'>): Promise<TracePlan> {
  // By path alone: it is asked while --version still runs (src/commands/probes.ts).
  const key = qemu.path;
  let p = traceCache.get(key);
  if (!p) {
    // 5.2 prints the list on stderr, later releases on stdout: read both.
    const path = qemu.path;
    p = cachedProbeOutput(path, ['-trace', 'help'], async () => {
      const r = await execa(path, ['-trace', 'help'], { reject: false, all: true, timeout: 15_000, stdin: 'ignore' });
      return { text: String(r.all ?? ''), ok: r.exitCode === 0 };
    }).then(({ text }) => tracePlanOf(text));
    traceCache.set(key, p);
  }
  return p;
}

/** Whether tracing this QEMU tells anything: a breakdown, or at least the dirty-log stop. */
export async function probeTracepoints(qemu: Pick<QemuFacts, 'path'>): Promise<boolean> {
  return (await probeTracePlan(qemu)).mode !== 'none';
}
