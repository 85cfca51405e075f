// The VM half of a `run` or `compare` plan: commander's strings for one sweep point, with the
// facts of this host they are checked against, turned into checked values or one UsageError.
// planVm is pure (testable without QEMU or KVM); probeVmFacts gathers what it needs to know.

import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import os from 'node:os';
import { UsageError } from '../errors.js';
import type { Accel } from '../qemu/facts.js';
import type { GuestSpec } from '../guest/types.js';
import { probeKvm, type KvmProbe } from '../qemu/probe.js';
import { MAX_TIMER_MS, formatBytes, parseDowntime, parseNonNegative, parsePositiveInt, parseRamSize, parseSpeed } from '../util/units.js';
import { compileLinearRegex } from '../util/linear-regex.js';
import { portIsFree } from '../util/net.js';
import { kvmDevice } from './context.js';
import { parseParams, type RawVmOptions } from './vm-options.js';

export interface VmOptions {
  ramBytes: number;
  ramText: string;
  smp: number;
  speedBytes: number;
  speedText: string;
  downtimeMs: number;
  downtimeText: string;
  runs: number;
  port?: number;
  extraArgs: string[];
  pollMs: number;
  accel: Accel;
  accelNote?: string;
  timeoutMs: number;
  params: Record<string, string>;
  capabilities: Record<string, boolean>;
  postcopy: boolean;
  accelProps?: string;
  guest: GuestSpec;
  warnings: string[];
}

/** What this host is, as far as the VM options are checked against it. */
export interface VmFacts {
  hostCpus: number;
  hostMemBytes: number;
  kvm: KvmProbe;
  /** whether --port's loopback port can be listened on (absent: no --port, or not a port) */
  portFree?: boolean;
  /** whether --image can be read (absent: no --image) */
  imageReadable?: boolean;
}

const PORT_TEXT = /^\s*\d+\s*$/;

/** The host facts planVm needs, probed once for every sweep point. */
export async function probeVmFacts(raw: Pick<RawVmOptions, 'port' | 'image'>, env: NodeJS.ProcessEnv): Promise<VmFacts> {
  const port = raw.port !== undefined && PORT_TEXT.test(raw.port) ? Number(raw.port) : undefined;
  const readable = (file: string) =>
    access(file, constants.R_OK).then(
      () => true,
      () => false,
    );
  return {
    hostCpus: os.availableParallelism(),
    hostMemBytes: os.totalmem(),
    kvm: await probeKvm(kvmDevice(env)),
    ...(port !== undefined && port >= 1 && port <= 65535 && { portFree: await portIsFree(port) }),
    ...(raw.image !== undefined && { imageReadable: await readable(raw.image) }),
  };
}

/** A heartbeat slower than a minute measures no downtime worth the name (and stays far below the timer limit). */
const MAX_HEARTBEAT_MS = 60_000;

/** QEMU's pc machine takes at most 255 vCPUs; another -machine has its own limit, which QEMU checks. */
const PC_MAX_CPUS = 255;

/**
 * vCPUs: at most the host's CPUs (more would time-share them and measure the host scheduler),
 * and at most the machine's limit. A value from --smp above that is an error; the default or a
 * scenario's value (which the user did not type for this host) is lowered with a warning.
 */
function resolveSmp(raw: RawVmOptions, smpExplicit: boolean, hostCpus: number, warnings: string[]): number {
  const asked = parsePositiveInt('--smp', raw.smp, { max: 1024 });
  const machineGiven = raw.qemuArg.some((a) => a === '-machine' || a === '-M' || a.startsWith('-machine=') || a.startsWith('-M='));
  if (!machineGiven && asked > PC_MAX_CPUS) throw new UsageError(`--smp: ${asked} is more than QEMU's pc machine takes (${PC_MAX_CPUS})`);
  if (asked <= hostCpus) return asked;
  if (smpExplicit) throw new UsageError(`--smp: ${asked} vCPUs is more than this host's ${hostCpus} CPUs`);
  warnings.push(`${asked} vCPUs asked for, but this host has ${hostCpus} CPUs: using ${hostCpus} (pass --smp to choose)`);
  return hostCpus;
}

function imageGuest(raw: RawVmOptions, readyTimeoutMs: number, imageReadable: boolean | undefined): GuestSpec {
  if (!raw.image) throw new UsageError('--guest image needs --image PATH');
  if (!imageReadable) throw new UsageError(`--image: ${raw.image} does not exist or is not readable`);
  if (raw.readyPattern === undefined && raw.bootWait === undefined) {
    throw new UsageError('--guest image needs --ready-pattern REGEX or --boot-wait SECONDS to know when the guest is up');
  }
  if (raw.readyPattern !== undefined) {
    try {
      compileLinearRegex(raw.readyPattern, 'm');
    } catch (err) {
      throw new UsageError(`--ready-pattern: ${(err as Error).message}`);
    }
  }
  const bootWaitMs = raw.bootWait === undefined ? undefined : parseNonNegative('--boot-wait', raw.bootWait) * 1000;
  if (bootWaitMs !== undefined && bootWaitMs > MAX_TIMER_MS) {
    throw new UsageError(`--boot-wait: ${raw.bootWait} s is longer than a timer can wait (at most ${Math.floor(MAX_TIMER_MS / 1000)} s)`);
  }
  return {
    kind: 'image',
    image: raw.image,
    ...(raw.readyPattern !== undefined && { readyPattern: raw.readyPattern }),
    ...(bootWaitMs !== undefined && { bootWaitMs }),
    readyTimeoutMs: raw.readyTimeout !== undefined ? readyTimeoutMs : Math.max(readyTimeoutMs, 300_000, (bootWaitMs ?? 0) + 60_000),
  };
}

function builtinGuest(raw: RawVmOptions, ramBytes: number, readyTimeoutMs: number): GuestSpec {
  if (raw.dirtyRate?.trim().startsWith('-')) throw new UsageError(`--dirty-rate: "${raw.dirtyRate}" is negative; a rate is 0 or more MiB/s`);
  const dirtyRateMiBs = parseNonNegative('--dirty-rate', raw.dirtyRate ?? '0');
  // A working set smaller than one second of dirtying rewrites the same pages, and a
  // one-second dirty-rate measurement would then see only the working set.
  const workingSetMiB =
    raw.workingSet !== undefined
      ? parseNonNegative('--working-set', raw.workingSet)
      : Math.min(Math.max(64, Math.ceil(dirtyRateMiBs)), Math.floor(ramBytes / 1024 ** 2 / 2));
  const heartbeatMs = parseNonNegative('--heartbeat', raw.heartbeat ?? '1');
  if (workingSetMiB * 1024 ** 2 > ramBytes) {
    throw new UsageError(`--working-set: ${workingSetMiB} MiB is larger than the guest's RAM (${formatBytes(ramBytes)})`);
  }
  // The guest counts its period in µs; below 0.1 ms the serial path cannot keep up (docs/measures.md).
  if (Math.abs(heartbeatMs * 1000 - Math.round(heartbeatMs * 1000)) > 1e-6) throw new UsageError(`--heartbeat: ${heartbeatMs} is not a whole number of µs`);
  // 0 would silently turn the heartbeats off, and with them the guest-observed downtime.
  if (heartbeatMs < 0.1 || heartbeatMs > MAX_HEARTBEAT_MS) {
    throw new UsageError(`--heartbeat: ${heartbeatMs} is out of range (0.1 to ${MAX_HEARTBEAT_MS} ms)`);
  }
  return { kind: 'builtin', touch: raw.touch ?? 'read', dirtyRateMiBs, workingSetMiB, heartbeatMs, readyTimeoutMs };
}

function resolveGuest(raw: RawVmOptions, ramBytes: number, accel: Accel, imageReadable: boolean | undefined): GuestSpec {
  const kind = raw.guest ?? 'builtin';
  const gib = ramBytes / 1024 ** 3;
  // Touching RAM runs at roughly 1 s/GiB under KVM and far slower under TCG.
  const readyTimeoutMs =
    raw.readyTimeout !== undefined
      ? parsePositiveInt('--ready-timeout', raw.readyTimeout, { max: 86_400 }) * 1000
      : Math.round((accel === 'kvm' ? 30 + 5 * gib : 60 + 60 * gib) * 1000);
  if (kind === 'none') return { kind };
  if (kind === 'image') return imageGuest(raw, readyTimeoutMs, imageReadable);
  return builtinGuest(raw, ramBytes, readyTimeoutMs);
}

function parseCapabilities(list: string[]): Record<string, boolean> {
  const caps: Record<string, boolean> = {};
  for (const [name, value] of Object.entries(parseParams('--capability', list))) {
    if (!/^(on|off|true|false)$/.test(value)) throw new UsageError(`--capability: ${name}=${value}: the value must be on or off`);
    caps[name] = value === 'on' || value === 'true';
  }
  return caps;
}

function parseDirtyRing(text: string | undefined): number | undefined {
  const dirtyRing = text === undefined ? undefined : parsePositiveInt('--dirty-ring', text, { min: 1024, max: 65536 });
  // KVM takes only a power of two (QEMU: "dirty ring size must be a power of 2").
  if (dirtyRing !== undefined && (dirtyRing & (dirtyRing - 1)) !== 0) {
    throw new UsageError(`--dirty-ring: ${dirtyRing} is not a power of two (e.g. 4096, 8192, 65536)`);
  }
  return dirtyRing;
}

function resolveAccel(asked: RawVmOptions['accel'], kvm: KvmProbe, dirtyRing: number | undefined): { accel: Accel; accelNote?: string } {
  if (asked === 'kvm') {
    if (!kvm.usable) throw new UsageError(`--accel kvm: KVM is not usable: ${kvm.reason}`);
    return { accel: 'kvm' };
  }
  if (asked === 'tcg') return { accel: 'tcg', accelNote: 'TCG (software emulation) chosen: TCG downtimes are not KVM downtimes' };
  if (kvm.usable || dirtyRing !== undefined) return { accel: 'kvm' };
  return { accel: 'tcg', accelNote: `KVM not usable (${kvm.reason}); using TCG: TCG downtimes are not KVM downtimes` };
}

function resolveTimeoutMs(text: string | undefined, accel: Accel, ramBytes: number, speedBytes: number): number {
  if (text !== undefined) return parsePositiveInt('--timeout', text, { max: 86_400 }) * 1000;
  // Generous: a timeout is for a stuck migration, not a slow one.
  const gib = ramBytes / 1024 ** 3;
  let timeoutMs = (accel === 'kvm' ? 60 + 15 * gib : 120 + 60 * gib) * 1000;
  if (speedBytes > 0) timeoutMs += (3 * ramBytes * 1000) / speedBytes;
  return Math.round(timeoutMs);
}

/** One sweep point's VM options; the first problem found is the UsageError thrown. */
export function planVm(raw: RawVmOptions, facts: VmFacts, { smpExplicit = true } = {}): VmOptions {
  const ramBytes = parseRamSize(raw.ram);
  const warnings: string[] = [];
  const smp = resolveSmp(raw, smpExplicit, facts.hostCpus, warnings);
  const speedBytes = parseSpeed(raw.speed);
  const downtimeMs = parseDowntime(raw.downtime);
  const runs = parsePositiveInt('--runs', raw.runs, { max: 100_000 });
  const pollMs = parsePositiveInt('--poll', raw.poll, { min: 1, max: 60_000 });
  const port = raw.port === undefined ? undefined : parsePositiveInt('--port', raw.port, { min: 1, max: 65535 });
  if (port !== undefined && facts.portFree === false) throw new UsageError(`--port: 127.0.0.1:${port} is already in use`);

  const params = parseParams('--param', raw.param ?? []);
  const capabilities = parseCapabilities(raw.capability ?? []);
  const postcopy = Boolean(raw.postcopy);
  if (postcopy) capabilities['postcopy-ram'] = true;
  const dirtyRing = parseDirtyRing(raw.dirtyRing);

  if (ramBytes > facts.hostMemBytes) {
    throw new UsageError(`--ram: ${raw.ram} is more than this host's memory (${formatBytes(facts.hostMemBytes)})`);
  }
  if (2 * ramBytes > facts.hostMemBytes) {
    warnings.push(
      `source and destination together may need ${formatBytes(2 * ramBytes)} once the guest touches its memory; this host has ${formatBytes(facts.hostMemBytes)}`,
    );
  }
  const { accel, accelNote } = resolveAccel(raw.accel, facts.kvm, dirtyRing);
  const timeoutMs = resolveTimeoutMs(raw.timeout, accel, ramBytes, speedBytes);
  const guest = resolveGuest(raw, ramBytes, accel, facts.imageReadable);

  return {
    ramBytes,
    ramText: raw.ram,
    smp,
    speedBytes,
    speedText: raw.speed,
    downtimeMs,
    downtimeText: raw.downtime,
    runs,
    ...(port !== undefined && { port }),
    extraArgs: raw.qemuArg,
    pollMs,
    accel,
    ...(accelNote && { accelNote }),
    timeoutMs,
    params,
    capabilities,
    postcopy,
    ...(dirtyRing !== undefined && { accelProps: `dirty-ring-size=${dirtyRing}` }),
    guest,
    warnings,
  };
}
