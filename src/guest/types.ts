// The guest layer's contract with a trial: what a guest is asked to be (GuestSpec, from the
// options), the hooks a trial calls (GuestDriver) and what it observed (GuestObservation).

import type { HmpClient } from '../qemu/hmp-client.js';
import type { QemuProcess } from '../qemu/process.js';

export const TOUCH_CHOICES = ['read', 'write', 'none'] as const;
export type TouchMode = (typeof TOUCH_CHOICES)[number];

/** What guest a trial boots, as the options asked for it. */
export type GuestSpec =
  | { kind: 'none' }
  | { kind: 'builtin'; touch: TouchMode; dirtyRateMiBs: number; workingSetMiB: number; heartbeatMs: number; readyTimeoutMs: number }
  | { kind: 'image'; image: string; readyPattern?: string; bootWaitMs?: number; readyTimeoutMs: number };

/** Where the destination's files live when it runs on another host. */
export interface RemotePaths {
  /** the run's private directory on the destination (holds the guest payload) */
  dir: string;
  /** unique per trial, for socket names in `dir` */
  trial: string;
}

export interface GuestDriver {
  /** called before QEMU starts, e.g. to listen on the serial sockets QEMU will connect to */
  prepare?(runDir: string): Promise<void>;
  /** QEMU arguments for one side, given its private run directory (and, for a remote destination, its directory there) */
  qemuArgs(side: 'source' | 'destination', runDir: string, remote?: RemotePaths): string[];
  /** ssh arguments the remote destination session needs (e.g. a -R forward of the serial socket) */
  remoteSshArgs?(runDir: string, remote: RemotePaths): string[];
  /** called once both QEMUs are up; resolves when the guest is ready to be migrated */
  waitReady(runDir: string, source: QemuProcess, signal?: AbortSignal): Promise<void>;
  /** optional measurement before migrating (e.g. calc_dirty_rate) */
  beforeMigrate?(monitor: HmpClient, record: (command: string, reply: string) => void, commands: Set<string>): Promise<void>;
  /** called after the migration ended; returns what the guest observed */
  finish(migrationCompleted: boolean): Promise<GuestObservation>;
  /** releases sockets etc.; must not throw */
  close(): void;
}

/** What the built-in guest (or a booted image) let migdown observe; see src/guest/. */
export interface GuestObservation {
  /** longest heartbeat gap across the switchover, ms */
  observedDowntimeMs?: number;
  /**
   * What the heartbeats' sequence numbers say (guest protocol 2): beats lost or read together
   * on each side while migrating, and the numbers either side of the switchover
   * (unseenAcrossSwitchover > 0: beats were written that never arrived).
   */
  beats?: {
    source: { lost: number; merged: number };
    destination: { lost: number; merged: number };
    lastSourceSeq?: number;
    firstDestinationSeq?: number;
    unseenAcrossSwitchover?: number;
    /** beats that arrived in the same chunk as the source's last one (1: read on time) */
    lastSourceChunkBeats?: number;
    /** beats that arrived in the same chunk as the destination's first one (1: read on time) */
    firstDestinationChunkBeats?: number;
  };
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
