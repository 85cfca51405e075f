// The records migdown writes to its JSONL results file and passes between its layers.
// Everything here is plain data (JSON round-trips it unchanged), so renderers and statistics
// can work from a results file exactly as they work from a live run.

import type { TrialFirmware } from '../qemu/firmware.js';
import type { MigrationInfo } from '../qemu/info-migrate.js';
import type { PhaseTimes } from './phases.js';
import type { DowntimeBreakdown } from '../trace/breakdown.js';
import type { HostNoise, TrialNoise } from './host-noise.js';
import type { QemuHugePages } from '../qemu/host-facts.js';
import type { Accel, HostFacts, MonitorExchange, QemuFacts } from '../qemu/facts.js';
import type { GuestObservation, GuestSpec } from '../guest/types.js';
import type { Firmware } from '../qemu/firmware.js';
import type { Scenario, ScenarioReference } from '../scenario/schema.js';

export type TrialStatus = 'completed' | 'failed' | 'cancelled' | 'timeout' | 'error';




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
  /** wallMs by phase (boot, ready, configure, migrate, verify, stop); absent in files before 0.2 */
  phaseMs?: PhaseTimes;
  info?: MigrationInfo;
  /** the final `info migrate` text as QEMU printed it */
  rawInfo?: string;
  destinationStatus?: string;
  guest?: GuestObservation;
  /** the pause's phases from QEMU's tracepoints, where the binary has them */
  breakdown?: DowntimeBreakdown;
  /** each local QEMU's huge pages right before `migrate` was sent */
  hugePages?: { source?: QemuHugePages; destination?: QemuHugePages };
  /** guest-observed downtime against the traced pause, where the trial has both */
  clocks?: ClockAgreement;
  samples?: ProgressSample[];
  /** what else the host did over this trial: load, other QEMUs, steal, others' CPU */
  noise?: TrialNoise;
  monitor: MonitorExchange[];
  sourceArgv: string[];
  destinationArgv: string[];
  qemu: QemuFacts;
  /** what both QEMUs of this trial booted; absent: QEMU's default (files before --firmware) */
  firmware?: TrialFirmware;
}

/**
 * What a run asked for: the resolved options as the header records them. Every field is
 * optional because a results file read back may come from an older migdown (or be edited);
 * the writer (commands/experiment.ts) fills them all. A swept setting holds its list ("1G,2G").
 */
export interface RunConfig {
  ram?: string;
  /** the first sweep point's RAM in bytes; a RAM sweep's points carry their own */
  ramBytes?: number;
  smp?: number | string;
  speed?: string;
  speedBytes?: number;
  downtime?: string;
  downtimeMs?: number;
  runs?: number;
  pollMs?: number;
  timeoutMs?: number;
  extraArgs?: string[];
  params?: Record<string, string>;
  capabilities?: Record<string, boolean>;
  postcopy?: boolean;
  /** the guest as asked for (a GuestSpec when migdown wrote it; a reader checks only `kind`) */
  guest?: GuestSpec | { kind: string; [field: string]: unknown };
  /** 'recorded': tracepoints on; 'off': --no-breakdown; 'unavailable': the QEMU has none */
  breakdown?: string;
  accelProps?: string;
  /** the sweep's points in the order planned */
  sweep?: Array<Record<string, string | number>>;
  scenario?: Scenario;
  scenarioFile?: string;
  /** a scenario's published figures, shown beside the measured ones */
  reference?: RecordedReference[];
  firmware?: Firmware;
  /** compare only: warm-up trials per variant, the order, the bootstrap seed and confidence */
  warmup?: number;
  order?: string;
  seed?: number;
  confidence?: number;
  /** compare only: the options after the scenario was applied, for --resume */
  options?: Record<string, unknown>;
  /** report OLD NEW: the two files combined */
  combined?: Array<{ file: string; runId: string; createdAt: string }>;
}

/**
 * A scenario's published figure as the header keeps it: what the scenario schema checked when
 * written, but a reader checks only the outline (render/html-tables.ts drops malformed ones).
 */
export type RecordedReference = Omit<ScenarioReference, 'metric'> & { metric?: string };

/** The first line of every results file: what was asked for and on what machine. */
export interface RunHeader {
  kind: 'header';
  /** the results format (RESULTS_SCHEMA_VERSION, 1 and up); absent in files of migdown 0.1 */
  schemaVersion?: number;
  runId: string;
  command: 'run' | 'compare';
  migdownVersion: string;
  createdAt: string;
  host: HostFacts;
  /** load, other QEMUs, CPU governor and SMT before the first trial */
  hostNoise?: HostNoise;
  accel: Accel;
  accelNote?: string;
  config: RunConfig;
  variants: Array<{ label: string; qemu: QemuFacts; extraArgs: string[]; params: Record<string, string> }>;
  /** the destination host's facts, when it was another host (--dest-host) */
  destination?: { target: string; host: HostFacts; qemu: QemuFacts };
}

export type ResultLine = RunHeader | TrialRecord;

/** Guest-observed downtime against the traced pause (computed in clock-agreement.ts). */
export interface ClockAgreement {
  /** the heartbeat gap across the switchover, ms */
  guestObservedMs: number;
  /** src-downtime-start → destination VM started, from both QEMUs' traces, ms */
  tracedPauseMs: number;
  /** guestObservedMs − tracedPauseMs */
  differenceMs: number;
  heartbeatPeriodMs: number;
  /** the difference lies within [−0.5 ms, P + 0.5 ms] */
  honest: boolean;
  /** |difference| > 2 P: the two clocks disagree for this trial */
  flagged: boolean;
  /**
   * how long after src-downtime-start the vCPUs were all paused (vm_state_notify): the guest
   * ran, and could beat, that long inside the traced pause, which can pull the difference below 0
   */
  vcpusStoppedAfterMs?: number;
  /**
   * Both beats at the gap's edges arrived alone (not read together with later ones): the reader
   * stamped them on time, so a large difference is time the guest really did not run, outside
   * the traced pause (a vCPU waiting for a host CPU, or slow to enter the guest again). false:
   * the reader was late at an edge. Absent without sequence numbers.
   */
  edgesReadOnTime?: boolean;
}
