// Options shared by `run` and `compare`: the seed's knobs, the accelerator, the output.
// Commander gives strings; planVm (vm-plan.ts) turns them into checked values or a UsageError.

import { InvalidArgumentError, Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { TOUCH_CHOICES } from '../guest/types.js';
import { FIRMWARE_CHOICES, type FirmwareChoice, type FirmwareRequest } from '../qemu/firmware.js';
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

