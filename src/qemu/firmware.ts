// Which firmware a trial's QEMUs boot. SeaBIOS, QEMU's default for the pc machine, spends
// seconds under nested KVM in real-mode code (option-ROM scans, kvmvapic) before it hands over
// to -kernel; qboot, which QEMU ships in the same data directory, jumps to the kernel in a
// fraction of a second. Neither is on the migration path (the pause is the same; see
// docs/firmware.md), so `auto` takes qboot where the binary has it.
//
// Where the file is, only the binary knows: `-L help` prints its data directories in the order
// it searches them (build-time defaults, plus any -L it was given, e.g. by a wrapper script).
// `-bios qboot.rom` then makes QEMU look the name up in those same directories.

import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { cachedProbeOutput } from './hash-cache.js';

export const FIRMWARE_CHOICES = ['auto', 'seabios', 'qboot'] as const;
export type FirmwareChoice = (typeof FIRMWARE_CHOICES)[number];
/** A choice, or the path of a firmware file of the user's. */
export type FirmwareRequest = FirmwareChoice | (string & {});

export const QBOOT_ROM = 'qboot.rom';

/** The firmware both sides of every trial boot, as recorded in the header. */
export interface Firmware {
  /** what was asked for: auto, seabios, qboot or a file */
  requested: string;
  /** what the QEMUs boot */
  name: 'seabios' | 'qboot' | 'file';
  /** the file given to -bios: qboot's name (each QEMU finds it in its data directories) or the user's absolute path; absent for SeaBIOS, QEMU's default */
  bios?: string;
  /** qboot.rom as each binary's data directories have it, by binary path */
  found?: Record<string, string>;
  /** why `auto` chose what it chose */
  note?: string;
}

/** The firmware of one trial, as recorded in its record. */
export interface TrialFirmware {
  name: Firmware['name'];
  /** the file this trial's QEMU loads; absent for SeaBIOS */
  path?: string;
}

/** The absolute directories in `-L help` output, in QEMU's search order. */
export function parseDataDirs(output: string): string[] {
  return output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('/'));
}

/** QEMU options that add data directories (`-L DIR`), from an argument list. */
export function dataDirArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-L' && args[i + 1] !== undefined && args[i + 1] !== 'help') out.push('-L', args[++i]!);
  }
  return out;
}

const found = new Map<string, Promise<string | undefined>>();

/**
 * The qboot.rom the binary would load for `-bios qboot.rom`, or undefined: no qboot in its data
 * directories, or a QEMU that cannot list them (`-L help` came with 2.x releases; an older one
 * takes "help" for a directory, so the probe also asks for no machine and is cut off).
 * `extraArgs` are the -L options the trials will add, if any.
 */
export function findQboot(binary: string, extraArgs: readonly string[] = []): Promise<string | undefined> {
  const dirs = dataDirArgs(extraArgs);
  const key = JSON.stringify([binary, dirs]);
  let p = found.get(key);
  if (!p) {
    p = (async () => {
      const args = [...dirs, '-L', 'help', '-machine', 'none', '-nodefaults', '-display', 'none', '-S'];
      const listing = await cachedProbeOutput(binary, args, async () => {
        // execa loads here, not with this module: option definitions import the choices above.
        const { execa } = await import('execa');
        const r = await execa(binary, args, { reject: false, timeout: 3_000, stdin: 'ignore' });
        return { text: String(r.stdout ?? ''), ok: r.exitCode === 0 };
      });
      if (!listing.ok) return undefined;
      for (const dir of parseDataDirs(listing.text)) {
        const file = path.join(dir, QBOOT_ROM);
        if (await readable(file)) return file;
      }
      return undefined;
    })();
    found.set(key, p);
  }
  return p;
}

async function readable(file: string): Promise<boolean> {
  try {
    await access(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** What decides the firmware besides the request. */
export interface FirmwareContext {
  guest: 'builtin' | 'none' | 'image';
  /** every QEMU binary of the experiment (both variants of a compare) */
  binaries: string[];
  /** extra QEMU arguments of the trials (their -L options count) */
  extraArgs?: readonly string[];
  /** the destination runs on another host, whose data directories are not probed */
  remote?: boolean;
}

/**
 * The firmware for every trial of an experiment: one for all binaries and both sides, so that
 * a compare never compares firmware. Bad requests are a UsageError (exit 2).
 */
export async function resolveFirmware(requested: FirmwareRequest, ctx: FirmwareContext): Promise<Firmware> {
  if (requested === 'seabios') return { requested, name: 'seabios' };
  if (requested !== 'auto' && requested !== 'qboot') {
    const file = path.resolve(requested);
    if (!(await readable(file))) throw new UsageError(`--firmware: ${requested} is not auto, seabios, qboot or a readable file`);
    return { requested, name: 'file', bios: file };
  }
  if (ctx.guest === 'image') {
    if (requested === 'qboot') throw new UsageError('--firmware qboot cannot boot a disk image (--guest image); use seabios or auto');
    return { requested, name: 'seabios', note: 'a disk image needs a BIOS that boots disks' };
  }
  if (ctx.remote && requested === 'auto') {
    return { requested, name: 'seabios', note: "the destination host's data directories are not probed; --firmware qboot if both have qboot.rom" };
  }
  const binaries = [...new Set(ctx.binaries)];
  const roms = await Promise.all(binaries.map((b) => findQboot(b, ctx.extraArgs)));
  const missing = binaries.filter((_, i) => !roms[i]);
  if (missing.length) {
    const why = `${missing.join(', ')} has no ${QBOOT_ROM} in its data directories (qemu -L help)`;
    if (requested === 'qboot') throw new UsageError(`--firmware qboot: ${why}`);
    return { requested, name: 'seabios', note: why };
  }
  return { requested, name: 'qboot', bios: QBOOT_ROM, found: Object.fromEntries(binaries.map((b, i) => [b, roms[i]!])) };
}

/** The last `-bios FILE` of extra arguments: it is what QEMU boots. */
function biosInArgs(args: readonly string[]): string | undefined {
  const i = args.lastIndexOf('-bios');
  return i >= 0 ? args[i + 1] : undefined;
}

/**
 * The QEMU arguments that select the firmware: none for SeaBIOS (QEMU's default), and none
 * where the trial's own arguments pass -bios (e.g. one variant's --b-arg): those win.
 */
export function firmwareArgs(fw: Firmware | undefined, extraArgs: readonly string[] = []): string[] {
  return fw?.bios && biosInArgs(extraArgs) === undefined ? ['-bios', fw.bios] : [];
}

/** What one trial with this binary and these extra arguments boots, for its record. */
export function trialFirmware(fw: Firmware, binary: string, extraArgs: readonly string[] = []): TrialFirmware {
  const own = biosInArgs(extraArgs);
  if (own !== undefined) return { name: path.basename(own) === QBOOT_ROM ? 'qboot' : 'file', path: own };
  const file = fw.name === 'qboot' ? fw.found?.[binary] : fw.bios;
  return { name: fw.name, ...(file && { path: file }) };
}
