// The plain data of one migration's pause breakdown (JSON round-trips it): phases, checkpoints,
// device handler times, when dirty logging stopped. Produced by computeBreakdown (breakdown.ts).

export type PhaseSide = 'source' | 'destination' | 'both';

export interface BreakdownPhase {
  /** stable identity for summaries: "FROM>TO" checkpoint names */
  key: string;
  /** human label, e.g. "save device state (non-iterable)" */
  name: string;
  /** which QEMU the phase happens in; 'both' spans the two (needs the shared clock) */
  side: PhaseSide;
  from: string;
  to: string;
  /**
   * µs from the pause start (src-downtime-start). With `clock: 'per-side'` (two hosts)
   * destination phases count from the destination's first checkpoint instead.
   */
  startUs: number;
  /** ms, rounded to µs */
  durationMs: number;
  /**
   * µs spent in device handlers that finished inside this phase: saves (vmstate_downtime_save)
   * for source phases, loads (vmstate_downtime_load) for destination and spanning ones. The
   * rest of the phase is QEMU's own work (e.g. synchronising vCPU state) or waiting.
   */
  deviceUs: number;
}

export interface BreakdownCheckpoint {
  name: string;
  side: 'source' | 'destination';
  /** µs from the pause start, on the clock named by DowntimeBreakdown.clock */
  atUs: number;
}

export interface DeviceTime {
  idstr: string;
  instance: number;
  /** "iterable" (RAM ...) or "non-iterable" (device state) */
  type: string;
  us: number;
}

export interface DirtyLogStop {
  /**
   * Was dirty logging for migration switched off inside the pause? false also when it was
   * still on at the end of the source's trace; undefined when the trace cannot tell (no
   * global_dirty_changed events, or no pause window to compare with).
   */
  inPause?: boolean;
  /** when it was switched on, ms relative to the pause start (negative: before) */
  startedAtMsRelativeToPauseStart?: number;
  /** when it was switched off, ms relative to the pause start */
  atMsRelativeToPauseStart?: number;
  /** from switching it off to the last KVM slot update that dropped dirty logging, ms */
  durationMs?: number;
  note: string;
}

/** The pause as QEMU before 8.2 shows it: from run-state changes, not downtime checkpoints. */
export interface LegacyPause {
  /** the event that opened it: the source's runstate_set running → finish-migrate */
  from: string;
  /** the event that closed it: the destination's runstate_set → running (one host), else the source's migrate_set_state completed */
  to: string;
  ms: number;
}

export interface DowntimeBreakdown {
  /** false: no breakdown (see notes); phases are then empty */
  available: boolean;
  /** without checkpoints (QEMU < 8.2): the pause bracketed by run-state tracepoints */
  legacyPause?: LegacyPause;
  sameHost: boolean;
  /** 'shared': every offset is on one timeline; 'per-side': destination offsets have their own origin */
  clock: 'shared' | 'per-side';
  /** consecutive, in time order; their durations add up to endToEndPauseMs when that is set */
  phases: BreakdownPhase[];
  checkpoints: BreakdownCheckpoint[];
  /** src-downtime-start → src-downtime-end: the span QEMU's reported downtime measures, in µs precision */
  sourceDowntimeMs?: number;
  /** src-downtime-start → dst VM started; only on one host */
  endToEndPauseMs?: number;
  /**
   * src-downtime-start → the source's vm_state_notify "running 0" (all vCPUs paused): how long
   * the guest still ran inside the traced pause. Absent when not traced.
   */
  vcpusStoppedAfterMs?: number;
  /** the slowest device handlers, top 5 each, by µs */
  topDevices: { save: DeviceTime[]; load: DeviceTime[] };
  /** all device handler time, µs */
  deviceTotalsUs: { save: number; load: number };
  dirtyLogStop: DirtyLogStop;
  /**
   * Trace lines both QEMUs wrote inside the pause. Each is a formatted write and flush, a few
   * µs: the cost of observing.
   */
  traceLinesInPause?: number;
  notes: string[];
}

export interface BreakdownOptions {
  /** both QEMUs ran on this host, so their trace timestamps share one clock */
  sameHost: boolean;
}

/** Phase labels by checkpoint pair ("FROM>TO"); a results file keeps the label it was recorded with. */
export const PHASE_NAMES: Record<string, string> = {
  // Not just the vCPUs: global_state_store, the VM-state change handlers and the block drain
  // run between these two checkpoints too (migration_stop_vm, do_vm_stop).
  'src-downtime-start>src-vm-stopped': 'stop the VM (vCPUs, handlers, drain)',
  // The switchover start and every iterable section (RAM, dirty bitmaps, VFIO ...), not RAM alone.
  'src-vm-stopped>src-iterable-saved': 'save iterables (switchover, RAM)',
  'src-iterable-saved>src-non-iterable-saved': 'save device state (non-iterable)',
  'src-non-iterable-saved>src-downtime-end': 'end of stream on the source',
  'src-downtime-end>dst-precopy-loadvm-completed': 'destination finishes loading',
  'dst-precopy-loadvm-completed>dst-precopy-bh-enter': 'bottom half scheduled',
  'dst-precopy-bh-enter>dst-precopy-bh-announced': 'announce',
  'dst-precopy-bh-announced>dst-precopy-bh-vm-started': 'start VM',
};

/** How many of the slowest device handlers a breakdown (and a summary) keeps. */
export const TOP_N = 5;
