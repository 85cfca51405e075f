// What one trial is asked to do (TrialConfig, TrialContext) and the machine both of its
// QEMUs run (qemuArgv). Plain inputs: trial.ts runs them.

import type { Dialect } from '../qemu/dialect.js';
import type { Accel, QemuFacts } from '../qemu/facts.js';
import { firmwareArgs, type Firmware } from '../qemu/firmware.js';
import type { MigrationInfo } from '../qemu/info-migrate.js';
import type { GuestDriver } from '../guest/types.js';
import type { MigrationEndpoints, SshTarget } from '../remote/host-spec.js';
import type { SshOptions } from '../remote/ssh.js';
import type { ProgressSample } from './types.js';

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

/** The destination host of --dest-host, as preflight found it. */
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
  /** called once both QEMUs are started, while their monitors come up: time the caller may use */
  onQemuStarted?: () => void;
}

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
