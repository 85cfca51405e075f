// The records migdown writes to its JSONL results file and passes between its layers.
// Everything here is plain data (JSON round-trips it unchanged), so renderers and statistics
// can work from a results file exactly as they work from a live run.

import type { MigrationInfo } from '../qemu/info-migrate.js';
import type { DowntimeBreakdown } from '../trace/breakdown.js';

export type Accel = 'kvm' | 'tcg';
export type TrialStatus = 'completed' | 'failed' | 'cancelled' | 'timeout' | 'error';

/** One QEMU binary as migdown found it. */
export interface QemuFacts {
  path: string;
  /** e.g. "7.2.22" */
  version: string;
  /** the whole first line of `--version` */
  versionLine: string;
  sha256?: string;
}

export interface HostFacts {
  hostname: string;
  cpuModel: string;
  kernel: string;
  memBytes: number;
  cpus: number;
}

/** One monitor command as sent, with what QEMU answered. */
export interface MonitorExchange {
  side: 'source' | 'destination';
  command: string;
  reply: string;
  /** ms since the trial started */
  atMs: number;
}

/** A sample of `info migrate` taken while polling (for progress plots). */
export interface ProgressSample {
  atMs: number;
  status?: string;
  transferredRamBytes?: number;
  remainingRamBytes?: number;
  throughputMbps?: number;
  dirtyPagesRate?: number;
  expectedDowntimeMs?: number;
  dirtySyncCount?: number;
}

/** What the built-in guest (or a booted image) let migdown observe; see src/guest/. */
export interface GuestObservation {
  /** longest heartbeat gap across the switchover, ms */
  observedDowntimeMs?: number;
  /** heartbeat gap statistics before migration started: noise floor */
  baselineGapMs?: { median: number; p99: number; max: number; n: number };
  heartbeatPeriodMs?: number;
  requestedDirtyRateMiBs?: number;
  measuredDirtyRateMiBs?: number;
  /** from starting QEMU to the guest's READY, ms */
  readyAfterMs?: number;
  /** of which touching RAM (banner to READY), ms */
  touchMs?: number;
  note?: string;
}

export interface TrialRecord {
  kind: 'trial';
  /** identifies the run/compare this trial belongs to */
  runId: string;
  /** label of the variant ("A"/"B" or the user's label); "run" for a plain run */
  variant: string;
  /** 1-based index among this variant's trials (at this sweep point) */
  index: number;
  /** the sweep point, e.g. { ram: '2G' }; absent when nothing is swept */
  point?: Record<string, string | number>;
  warmup: boolean;
  status: TrialStatus;
  /** QEMU's reason for a failure, or migdown's for an error/timeout */
  reason?: string;
  accel: Accel;
  startedAt: string;
  wallMs: number;
  info?: MigrationInfo;
  /** the final `info migrate` text as QEMU printed it */
  rawInfo?: string;
  destinationStatus?: string;
  guest?: GuestObservation;
  /** the pause's phases from QEMU's tracepoints, where the binary has them */
  breakdown?: DowntimeBreakdown;
  samples?: ProgressSample[];
  monitor: MonitorExchange[];
  sourceArgv: string[];
  destinationArgv: string[];
  qemu: QemuFacts;
}

/** The first line of every results file: what was asked for and on what machine. */
export interface RunHeader {
  kind: 'header';
  /** the results format (RESULTS_SCHEMA_VERSION); absent in files of migdown 0.1 */
  schemaVersion?: number;
  runId: string;
  command: 'run' | 'compare';
  migdownVersion: string;
  createdAt: string;
  host: HostFacts;
  accel: Accel;
  accelNote?: string;
  config: Record<string, unknown>;
  variants: Array<{ label: string; qemu: QemuFacts; extraArgs: string[]; params: Record<string, string> }>;
  /** the destination host's facts, when it was another host (--dest-host) */
  destination?: { target: string; host: HostFacts; qemu: QemuFacts };
}

export type ResultLine = RunHeader | TrialRecord;
