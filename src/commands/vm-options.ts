// Options shared by `run` and `compare`: the seed's knobs, the accelerator, the output.
// Commander gives strings; resolveVmOptions turns them into checked values or a UsageError.

import { InvalidArgumentError, Option, type Command } from 'commander';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import os from 'node:os';
import { UsageError } from '../errors.js';
import type { Accel } from '../qemu/facts.js';
import { TOUCH_CHOICES, type GuestSpec } from '../guest/types.js';
import { FIRMWARE_CHOICES, type FirmwareChoice, type FirmwareRequest } from '../qemu/firmware.js';
import { probeKvm } from '../qemu/probe.js';
import { MAX_TIMER_MS, parseDowntime, parsePositiveInt, parseRamSize, parseSpeed, formatBytes } from '../util/units.js';
import { compileLinearRegex } from '../util/linear-regex.js';
import { portIsFree } from '../util/net.js';
import { visible } from '../util/visible.js';
import { hmpNameProblem, hmpValueProblem } from '../qemu/hmp-safe.js';

export const ACCEL_CHOICES = ['auto', 'kvm', 'tcg'] as const;
export const GUEST_CHOICES = ['builtin', 'none', 'image'] as const;
export type AccelChoice = (typeof ACCEL_CHOICES)[number];

export interface RawVmOptions {
  ram: string;
  smp: string;
  speed: string;
  downtime: string;
  runs: string;
  port?: string;
  qemuArg: string[];
  poll: string;
  accel: AccelChoice;
  timeout?: string;
  out?: string;
  json?: boolean;
  quiet?: boolean;
  scenario?: string;
  param: string[];
  capability: string[];
  postcopy?: boolean;
  dirtyRing?: string;
  breakdown: boolean;
  html?: string;
  svg?: string;
  destHost?: string;
  destQemu?: string;
  migrateUri?: string;
  sshOption: string[];
  guest: (typeof GUEST_CHOICES)[number];
  touch: (typeof TOUCH_CHOICES)[number];
  dirtyRate: string;
  workingSet: string;
  heartbeat: string;
  image?: string;
  readyPattern?: string;
  bootWait?: string;
  readyTimeout?: string;
  firmware: FirmwareRequest;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** One of the choices, or a file (a path: it has a slash or an extension). */
function parseFirmware(value: string): FirmwareRequest {
  if ((FIRMWARE_CHOICES as readonly string[]).includes(value)) return value as FirmwareChoice;
  if (/[/.]/.test(value)) return value;
  throw new InvalidArgumentError(`Allowed choices are ${FIRMWARE_CHOICES.join(', ')}, or the path of a firmware file.`);
}

export function addVmOptions(cmd: Command, { runsDefault = '5' } = {}): Command {
  return cmd
    .option('--ram <size>', 'guest RAM, QEMU -m syntax (8G, 8192M, 512 = MiB; a list sweeps: 1G,2G)', '8G')
    .option('--smp <n>', 'vCPUs (a list sweeps: 1,2)', '4')
    .option('--speed <bytes/s>', 'bandwidth limit: bytes/s with K/M/G suffix, 0 = unlimited (migrate_set_speed; a list sweeps)', '0')
    .option('--downtime <limit>', 'allowed downtime: seconds as migrate_set_downtime takes them (0.01), or 10ms (a list sweeps)', '0.01')
    .option('--runs <n>', 'measured migrations', runsDefault)
    .option('--port <port>', 'destination TCP port on 127.0.0.1 (default: a free one per trial)')
    .option('--qemu-arg <arg>', 'extra QEMU argument for both sides (repeatable)', collect, [])
    .option('--param <name=value>', 'migrate_set_parameter for both sides (repeatable), e.g. multifd-channels=4; NAME=V1,V2 sweeps (\\, is a comma)', collect, [])
    .option('--capability <name=on|off>', 'migrate_set_capability for both sides (repeatable), e.g. multifd=on; NAME=on,off sweeps', collect, [])
    .option('--postcopy', 'switch to postcopy after the first pass (sets the postcopy-ram capability)')
    .option('--dirty-ring <entries>', 'use the KVM dirty ring of this size instead of the dirty bitmap')
    .option('--no-breakdown', "don't record QEMU's downtime tracepoints (recorded where the QEMU has them)")
    .option('--scenario <name|file>', 'take defaults from a scenario (see migdown scenarios); flags override it')
    .addOption(new Option('--guest <kind>', "guest: migdown's built-in payload, none (firmware only) or your disk image").choices(GUEST_CHOICES).default('builtin'))
    .addOption(
      new Option('--firmware <name|path>', 'firmware of both QEMUs: auto = qboot where the QEMU has it (fast boot), else SeaBIOS; or a file for -bios')
        .choices(FIRMWARE_CHOICES)
        .argParser(parseFirmware)
        .default('auto'),
    )
    .addOption(new Option('--touch <mode>', 'how the built-in guest touches its RAM before migrating').choices(TOUCH_CHOICES).default('read'))
    .option('--dirty-rate <MiB/s>', 'MiB/s the built-in guest dirties while migrating, 0 = idle (a list sweeps: 0,64,256)', '0')
    .option('--working-set <MiB>', 'MiB of RAM the built-in guest dirties (default: 64, or one second of --dirty-rate if larger)')
    .option('--heartbeat <ms>', 'built-in guest heartbeat period, for guest-observed downtime', '1')
    .option('--image <path>', 'disk image for --guest image (used through a temporary overlay; never written)')
    .option('--ready-pattern <regex>', 'for --guest image: text on the serial console that means the guest is up')
    .option('--boot-wait <seconds>', 'for --guest image: wait this long instead of --ready-pattern')
    .option('--dest-host <[user@]host[:port]>', 'run the destination QEMU on another host, over SSH (key authentication)')
    .option('--dest-qemu <path>', 'QEMU binary on the destination host', 'qemu-system-x86_64')
    .option('--migrate-uri <tcp:HOST:PORT>', 'with --dest-host: migrate to this address (default: the SSH host)')
    .option('--ssh-option <NAME=VALUE>', 'extra ssh -o option for --dest-host (repeatable)', collect, [])
    .option('--ready-timeout <seconds>', 'how long to wait for the guest to be ready (default scales with RAM)')
    .option('--poll <ms>', 'info migrate poll interval', '100')
    .addOption(new Option('--accel <accel>', 'accelerator').choices(ACCEL_CHOICES).default('auto'))
    .option('--timeout <seconds>', 'give up on one migration after this long (default scales with RAM)')
    .option('--out <file>', 'results file, JSON lines (default ./migdown-results/<UTC time>.jsonl)')
    .option('--json', 'print one JSON document with every trial instead of tables (= --format json)')
    .option('-q, --quiet', 'no progress lines on stderr')
    .option('--html <file>', 'also write a self-contained HTML report when done')
    .option('--svg <dir>', 'also write the charts as SVG files into this directory');
}

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


/** A heartbeat slower than a minute measures no downtime worth the name (and stays far below the timer limit). */
const MAX_HEARTBEAT_MS = 60_000;

/** QEMU's pc machine takes at most 255 vCPUs; another -machine has its own limit, which QEMU checks. */
const PC_MAX_CPUS = 255;

/**
 * vCPUs: at most the host's CPUs (more would time-share them and measure the host scheduler),
 * and at most the machine's limit. A value from --smp above that is an error; the default or a
 * scenario's value (which the user did not type for this host) is lowered with a warning.
 */
function resolveSmp(raw: RawVmOptions, smpExplicit: boolean, warnings: string[]): number {
  const asked = parsePositiveInt('--smp', raw.smp, { max: 1024 });
  const hostCpus = os.availableParallelism();
  const machineGiven = raw.qemuArg.some((a) => a === '-machine' || a === '-M' || a.startsWith('-machine=') || a.startsWith('-M='));
  if (!machineGiven && asked > PC_MAX_CPUS) throw new UsageError(`--smp: ${asked} is more than QEMU's pc machine takes (${PC_MAX_CPUS})`);
  if (asked <= hostCpus) return asked;
  if (smpExplicit) throw new UsageError(`--smp: ${asked} vCPUs is more than this host's ${hostCpus} CPUs`);
  warnings.push(`${asked} vCPUs asked for, but this host has ${hostCpus} CPUs: using ${hostCpus} (pass --smp to choose)`);
  return hostCpus;
}

function parseNonNegative(option: string, text: string): number {
  const v = Number(text);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(text) || !Number.isFinite(v)) {
    throw new UsageError(`${option}: "${text}" is not a non-negative number`);
  }
  return v;
}

async function resolveGuest(raw: RawVmOptions, ramBytes: number, accel: Accel): Promise<GuestSpec> {
  const kind = raw.guest ?? 'builtin';
  const gib = ramBytes / 1024 ** 3;
  // Touching RAM runs at roughly 1 s/GiB under KVM and far slower under TCG.
  const readyTimeoutMs =
    raw.readyTimeout !== undefined
      ? parsePositiveInt('--ready-timeout', raw.readyTimeout, { max: 86_400 }) * 1000
      : Math.round((accel === 'kvm' ? 30 + 5 * gib : 60 + 60 * gib) * 1000);
  if (kind === 'none') return { kind };
  if (kind === 'image') {
    if (!raw.image) throw new UsageError('--guest image needs --image PATH');
    try {
      await access(raw.image, constants.R_OK);
    } catch {
      throw new UsageError(`--image: ${raw.image} does not exist or is not readable`);
    }
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
      kind,
      image: raw.image,
      ...(raw.readyPattern !== undefined && { readyPattern: raw.readyPattern }),
      ...(bootWaitMs !== undefined && { bootWaitMs }),
      readyTimeoutMs: raw.readyTimeout !== undefined ? readyTimeoutMs : Math.max(readyTimeoutMs, 300_000, (bootWaitMs ?? 0) + 60_000),
    };
  }
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
  return { kind, touch: raw.touch ?? 'read', dirtyRateMiBs, workingSetMiB, heartbeatMs, readyTimeoutMs };
}

export function parseParams(option: string, list: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`${option}: "${visible(item, 80)}" is not NAME=VALUE (e.g. downtime-limit=300)`);
    // Both go to the monitor: strict patterns, so no byte can edit the command line there.
    const [name, value] = [item.slice(0, eq), item.slice(eq + 1)];
    const problem = hmpNameProblem(name) ?? hmpValueProblem(value);
    if (problem) throw new UsageError(`${option}: ${hmpNameProblem(name) ? problem : `${name}: ${problem}`}`);
    params[name] = value;
  }
  return params;
}

function parseCapabilities(list: string[]): Record<string, boolean> {
  const caps: Record<string, boolean> = {};
  for (const [name, value] of Object.entries(parseParams('--capability', list))) {
    if (!/^(on|off|true|false)$/.test(value)) throw new UsageError(`--capability: ${name}=${value}: the value must be on or off`);
    caps[name] = value === 'on' || value === 'true';
  }
  return caps;
}

export async function resolveVmOptions(raw: RawVmOptions, { smpExplicit = true } = {}): Promise<VmOptions> {
  const ramBytes = parseRamSize(raw.ram);
  const warnings: string[] = [];
  const smp = resolveSmp(raw, smpExplicit, warnings);
  const speedBytes = parseSpeed(raw.speed);
  const downtimeMs = parseDowntime(raw.downtime);
  const runs = parsePositiveInt('--runs', raw.runs, { max: 100_000 });
  const pollMs = parsePositiveInt('--poll', raw.poll, { min: 1, max: 60_000 });

  let port: number | undefined;
  if (raw.port !== undefined) {
    port = parsePositiveInt('--port', raw.port, { min: 1, max: 65535 });
    if (!(await portIsFree(port))) throw new UsageError(`--port: 127.0.0.1:${port} is already in use`);
  }

  const params = parseParams('--param', raw.param ?? []);
  const capabilities = parseCapabilities(raw.capability ?? []);
  const postcopy = Boolean(raw.postcopy);
  if (postcopy) capabilities['postcopy-ram'] = true;
  const dirtyRing = raw.dirtyRing === undefined ? undefined : parsePositiveInt('--dirty-ring', raw.dirtyRing, { min: 1024, max: 65536 });
  // KVM takes only a power of two (QEMU: "dirty ring size must be a power of 2").
  if (dirtyRing !== undefined && (dirtyRing & (dirtyRing - 1)) !== 0) {
    throw new UsageError(`--dirty-ring: ${dirtyRing} is not a power of two (e.g. 4096, 8192, 65536)`);
  }

  const hostMem = os.totalmem();
  if (ramBytes > hostMem) {
    throw new UsageError(`--ram: ${raw.ram} is more than this host's memory (${formatBytes(hostMem)})`);
  }
  if (2 * ramBytes > hostMem) {
    warnings.push(
      `source and destination together may need ${formatBytes(2 * ramBytes)} once the guest touches its memory; this host has ${formatBytes(hostMem)}`,
    );
  }

  let accel: Accel;
  let accelNote: string | undefined;
  const kvm = await probeKvm();
  if (raw.accel === 'kvm') {
    if (!kvm.usable) throw new UsageError(`--accel kvm: KVM is not usable: ${kvm.reason}`);
    accel = 'kvm';
  } else if (raw.accel === 'tcg') {
    accel = 'tcg';
    accelNote = 'TCG (software emulation) chosen: TCG downtimes are not KVM downtimes';
  } else if (kvm.usable || dirtyRing !== undefined) {
    accel = 'kvm';
  } else {
    accel = 'tcg';
    accelNote = `KVM not usable (${kvm.reason}); using TCG: TCG downtimes are not KVM downtimes`;
  }

  const gib = ramBytes / 1024 ** 3;
  let timeoutMs: number;
  if (raw.timeout !== undefined) {
    timeoutMs = parsePositiveInt('--timeout', raw.timeout, { max: 86_400 }) * 1000;
  } else {
    // Generous: a timeout is for a stuck migration, not a slow one.
    timeoutMs = (accel === 'kvm' ? 60 + 15 * gib : 120 + 60 * gib) * 1000;
    if (speedBytes > 0) timeoutMs += (3 * ramBytes * 1000) / speedBytes;
  }

  const guest = await resolveGuest(raw, ramBytes, accel);

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
    timeoutMs: Math.round(timeoutMs),
    params,
    capabilities,
    postcopy,
    ...(dirtyRing !== undefined && { accelProps: `dirty-ring-size=${dirtyRing}` }),
    guest,
    warnings,
  };
}
