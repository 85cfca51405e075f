// Where the pause goes, from QEMU's own checkpoints (the vmstate_downtime_* tracepoints of
// QEMU ≥ 8.2). Pure: it takes the text of the two `-D` logs and returns plain data (JSON
// round-trips it), so a breakdown can be recomputed from saved logs and rendered from a results
// file like everything else.
//
// The pause runs from the source's `src-downtime-start` (just before the vCPUs are stopped,
// where QEMU starts its own downtime clock) to the destination's `dst-precopy-bh-vm-started`.
// Its phases are the gaps between consecutive checkpoints of both QEMUs on one timeline, so they
// add up to the end-to-end pause exactly (up to rounding). That needs one clock: both QEMUs on
// one host (the trace timestamps are the wall clock). On two hosts each side is broken down on
// its own and nothing spans them.
//
// Normal order (QEMU 10.0, precopy over TCP without a return path):
//   src-downtime-start → src-vm-stopped → src-iterable-saved → src-non-iterable-saved →
//   src-downtime-end → dst-precopy-loadvm-completed → dst-precopy-bh-enter →
//   dst-precopy-bh-announced → dst-precopy-bh-vm-started
// The order is taken from the timestamps, not assumed: with a return path the source closes its
// downtime only after the destination answered, and then `src-downtime-end` lands later.

import { median } from 'simple-statistics';
import {
  checkpointOf,
  deviceTimeOf,
  dirtyBitmaskOf,
  kvmSlotUpdateOf,
  parseTraceLog,
  type TraceEvent,
  type TraceLog,
} from './trace-log.js';

export const NO_TRACEPOINTS_NOTE = 'breakdown needs a QEMU with the vmstate_downtime tracepoints';

/** The tracepoints a breakdown reads (see traceArgs). */
export const TRACE_EVENTS = [
  'vmstate_downtime_checkpoint',
  'vmstate_downtime_save',
  'vmstate_downtime_load',
  'global_dirty_changed',
  // KVM memory-slot updates: when dirty logging is switched off the slots are re-registered
  // without KVM_MEM_LOG_DIRTY_PAGES, so these show how long stopping it took. On the
  // destination they also show the slot remapping that loading chipset state (PAM) causes.
  // A handful of lines per migration.
  'kvm_set_user_memory',
  // "running 0 reason finish-migrate" is printed once pause_all_vcpus() returned: the moment
  // the guest stopped running, which src-downtime-start precedes by global_state_store and the
  // vCPU kick. One line per side.
  'vm_state_notify',
] as const;

/**
 * What QEMU before 8.2 (no vmstate_downtime_checkpoint) can still tell about the pause, each
 * enabled only where `-trace help` lists it (5.2 lacks global_dirty_changed and
 * migration_completion_vm_stop):
 *   runstate_set           source running → finish-migrate: the vCPUs are being stopped (after
 *                          downtime_start, global_state_store and the wakeup request); on the
 *                          destination inmigrate → running: the VM starts
 *   vm_state_notify        the same edges, after the VM-state change handlers ran
 *   migrate_set_state      source → completed: the stream is finished
 *   migration_completion_vm_stop, savevm_state_complete_precopy: markers inside the pause
 *   global_dirty_changed, kvm_set_user_memory: when dirty logging stopped and how long it took
 * savevm_section_start/_end would bracket each device's save too, but they are written for every
 * iteration of every section while RAM is sent, and about 60 lines inside the pause: the
 * question asked here does not need them.
 */
export const LEGACY_TRACE_EVENTS = [
  'runstate_set',
  'vm_state_notify',
  'migrate_set_state',
  'migration_completion_vm_stop',
  'savevm_state_complete_precopy',
  'global_dirty_changed',
  'kvm_set_user_memory',
] as const;

export interface TracePlan {
  /** checkpoints: the full breakdown; legacy: the pause bracketed by run states, dirty-log stop only */
  mode: 'checkpoints' | 'legacy' | 'none';
  /** the -trace events to enable */
  events: string[];
}

/** Which events to trace, from the output of `qemu-system-x86_64 -trace help`. */
export function tracePlanOf(traceHelpOutput: string): TracePlan {
  if (typeof traceHelpOutput !== 'string') return { mode: 'none', events: [] };
  const listed = new Set(traceHelpOutput.split('\n').map((l) => l.trim()));
  if (listed.has('vmstate_downtime_checkpoint')) return { mode: 'checkpoints', events: [...TRACE_EVENTS] };
  const events = LEGACY_TRACE_EVENTS.filter((e) => listed.has(e));
  // Without the run-state edges there is no pause to bracket, without slot updates no stop to find.
  if (!listed.has('runstate_set') || !listed.has('kvm_set_user_memory')) return { mode: 'none', events: [] };
  return { mode: 'legacy', events };
}

/** Bit 0 of global_dirty_tracking: dirty logging for migration (GLOBAL_DIRTY_MIGRATION). */
const GLOBAL_DIRTY_MIGRATION = 0x1;
/** KVM_MEM_LOG_DIRTY_PAGES in kvm_set_user_memory's flags. */
const KVM_MEM_LOG_DIRTY_PAGES = 0x1;

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

interface Stamp {
  name: string;
  side: 'source' | 'destination';
  t: number;
}

const SRC_START = 'src-downtime-start';
const SRC_END = 'src-downtime-end';

/** The checkpoints in their usual order; ties in time are broken by this order. */
const CANONICAL = [
  SRC_START,
  'src-vm-stopped',
  'src-iterable-saved',
  'src-non-iterable-saved',
  SRC_END,
  'dst-precopy-loadvm-completed',
  'dst-precopy-bh-enter',
  'dst-precopy-bh-announced',
  'dst-precopy-bh-vm-started',
];

const PHASE_NAMES: Record<string, string> = {
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

const TOP_N = 5;

const ms3 = (us: number) => Math.round(us) / 1000;
const isVmStarted = (name: string) => name.startsWith('dst-') && name.endsWith('-vm-started');
const sideOf = (name: string): 'source' | 'destination' | undefined =>
  name.startsWith('src-') ? 'source' : name.startsWith('dst-') ? 'destination' : undefined;

/** The QEMU arguments that make one side write the log computeBreakdown reads. */
export function traceArgs(logPath: string, events: readonly string[] = TRACE_EVENTS): string[] {
  return [
    ...events.flatMap((e) => ['-trace', e]),
    // Without it trace lines carry no time at all.
    '-msg',
    'timestamp=on',
    '-D',
    logPath,
  ];
}

/** Does `qemu-system-x86_64 -trace help` (one event name per line) list the checkpoints? */
export function hasDowntimeTracepoints(traceHelpOutput: string): boolean {
  if (typeof traceHelpOutput !== 'string') return false;
  return traceHelpOutput.split('\n').some((l) => l.trim() === 'vmstate_downtime_checkpoint');
}

/** First occurrence of every checkpoint in one log, plus names seen more than once. */
function stampsOf(log: TraceLog, side: 'source' | 'destination'): { stamps: Stamp[]; repeated: string[]; untimed: boolean } {
  const seen = new Map<string, Stamp>();
  const repeated = new Set<string>();
  let untimed = false;
  for (const ev of log.events) {
    const name = checkpointOf(ev);
    if (!name) continue;
    if (ev.timeUs === undefined) {
      untimed = true;
      continue;
    }
    // The side comes from the name (src-/dst-), not from the file, so swapped logs show up
    // as misplaced checkpoints instead of a silently wrong timeline.
    if (seen.has(name)) repeated.add(name);
    else seen.set(name, { name, side: sideOf(name) ?? side, t: ev.timeUs });
  }
  return { stamps: [...seen.values()], repeated: [...repeated], untimed };
}

function byTime(a: Stamp, b: Stamp): number {
  if (a.t !== b.t) return a.t - b.t;
  const ia = CANONICAL.indexOf(a.name);
  const ib = CANONICAL.indexOf(b.name);
  return (ia < 0 ? CANONICAL.length : ia) - (ib < 0 ? CANONICAL.length : ib);
}

interface DeviceEnd {
  t: number;
  us: number;
}

/**
 * Phases between consecutive stamps. Device time is counted on the side doing the phase's work
 * (saves for source phases, loads for the others): the destination loads while the source is
 * still saving, so adding both sides' handlers up would count the same stretch twice.
 */
function phasesOf(stamps: Stamp[], origin: number, devices: { save: DeviceEnd[]; load: DeviceEnd[] }): BreakdownPhase[] {
  const phases: BreakdownPhase[] = [];
  for (let i = 1; i < stamps.length; i++) {
    const a = stamps[i - 1]!;
    const b = stamps[i]!;
    const key = `${a.name}>${b.name}`;
    const side: PhaseSide = a.side === b.side ? a.side : 'both';
    const ends = side === 'source' ? devices.save : devices.load;
    const deviceUs = ends.filter((d) => d.t > a.t && d.t <= b.t).reduce((s, d) => s + d.us, 0);
    phases.push({
      key,
      name: PHASE_NAMES[key] ?? `${a.name} → ${b.name}`,
      side,
      from: a.name,
      to: b.name,
      startUs: Math.round(a.t - origin),
      durationMs: ms3(b.t - a.t),
      deviceUs,
    });
  }
  return phases;
}

function deviceTimes(log: TraceLog, op: 'save' | 'load'): Array<DeviceTime & { t?: number }> {
  const out: Array<DeviceTime & { t?: number }> = [];
  for (const ev of log.events) {
    const d = deviceTimeOf(ev);
    if (!d || d.op !== op) continue;
    out.push({ idstr: d.idstr, instance: d.instance, type: d.type, us: d.us, ...(ev.timeUs !== undefined && { t: ev.timeUs }) });
  }
  return out;
}

function top(devs: DeviceTime[]): DeviceTime[] {
  // Array.prototype.sort is stable: equal times keep log order.
  return [...devs]
    .sort((a, b) => b.us - a.us)
    .slice(0, TOP_N)
    .map(({ idstr, instance, type, us }) => ({ idstr, instance, type, us }));
}

const fmtMs = (us: number) => `${ms3(Math.abs(us))} ms`;

/**
 * When dirty logging for migration was switched off on the source, against the pause window.
 * global_dirty_changed prints the new bitmask; the migration bit going 1 → 0 is the stop.
 */
function dirtyLogStopOf(
  src: TraceLog,
  window: { start: number; end: number } | undefined,
  noWindow = 'without the vmstate_downtime checkpoints the pause window is unknown',
  pauseWord = 'pause',
): DirtyLogStop {
  const changes: Array<{ ev: TraceEvent; mask: number }> = [];
  for (const ev of src.events) {
    const mask = dirtyBitmaskOf(ev);
    if (mask !== undefined && ev.timeUs !== undefined) changes.push({ ev, mask });
  }
  if (changes.length === 0) {
    // QEMU < 6.2 has no global_dirty_changed: the slot updates alone show it.
    if (src.events.some((e) => kvmSlotUpdateOf(e))) return dirtyLogStopFromSlots(src, window, noWindow, pauseWord);
    return { inPause: undefined, note: 'no global_dirty_changed events in the source trace, so when dirty logging stopped is not known' };
  }
  let prev = 0;
  let start: TraceEvent | undefined;
  let stop: TraceEvent | undefined;
  for (const { ev, mask } of changes) {
    const was = (prev & GLOBAL_DIRTY_MIGRATION) !== 0;
    const is = (mask & GLOBAL_DIRTY_MIGRATION) !== 0;
    prev = mask;
    if (!was && is) {
      // The migration's own start is the last one at or before the pause began.
      if (!window || ev.timeUs! <= window.start || !start) {
        start = ev;
        stop = undefined;
      }
    } else if (was && !is && start && !stop) {
      stop = ev;
    }
  }
  if (!start) {
    return { inPause: undefined, note: 'the source trace never shows dirty logging for migration being switched on' };
  }
  const rel = (t: number) => (window ? ms3(t - window.start) : undefined);
  const startedAt = rel(start.timeUs!);
  const base: Partial<DirtyLogStop> = startedAt !== undefined ? { startedAtMsRelativeToPauseStart: startedAt } : {};

  if (!stop) {
    if (!window) {
      return {
        inPause: undefined,
        ...base,
        note: `dirty logging was switched on and still on at the end of the source trace; ${noWindow}`,
      };
    }
    return {
      inPause: false,
      ...base,
      note:
        'dirty logging was not switched off by the end of the source trace, so not inside the pause: ' +
        'QEMU postpones stopping it while the VM is stopped, and the source VM did not run again',
    };
  }

  // How long the stop took: the KVM slot re-registrations that follow it on the same thread,
  // up to that thread's next other event.
  let lastSlot: number | undefined;
  const after = src.events.slice(src.events.indexOf(stop) + 1);
  for (const ev of after) {
    if (stop.tid !== undefined && ev.tid !== undefined && ev.tid !== stop.tid) continue;
    const slot = kvmSlotUpdateOf(ev);
    if (!slot) break;
    if (ev.timeUs !== undefined && slot.size !== 0 && (slot.flags & KVM_MEM_LOG_DIRTY_PAGES) === 0) lastSlot = ev.timeUs;
  }
  const durationMs = lastSlot !== undefined ? ms3(lastSlot - stop.timeUs!) : undefined;
  const took = durationMs !== undefined ? `, taking ${durationMs} ms to re-register the KVM memory slots` : ' (no KVM slot updates after it in the trace, so how long it took is not shown)';
  const withDuration = durationMs !== undefined ? { durationMs } : {};

  if (!window) {
    return {
      inPause: undefined,
      ...base,
      ...withDuration,
      note: `dirty logging was switched off${took}; ${noWindow}`,
    };
  }
  const t = stop.timeUs!;
  const at = ms3(t - window.start);
  const inPause = t >= window.start && t <= window.end;
  const where = inPause
    ? `inside the pause, ${fmtMs(t - window.start)} after it began`
    : t < window.start
      ? `before the pause, ${fmtMs(window.start - t)} before it began`
      : `after the pause, ${fmtMs(t - window.end)} after it ended`;
  return { inPause, ...base, atMsRelativeToPauseStart: at, ...withDuration, note: `dirty logging was switched off ${where}${took}` };
}

/**
 * Dirty logging from KVM slot updates alone (QEMU 5.2 has no global_dirty_changed): it is on
 * once a slot is registered with KVM_MEM_LOG_DIRTY_PAGES, and the stop is the first later
 * update that registers a slot without it, on the thread that did so. Each update is traced
 * after its ioctl returned, so the batch took from that thread's previous trace line to the
 * batch's last update: the sum of the updates' durations.
 */
function dirtyLogStopFromSlots(src: TraceLog, window: { start: number; end: number } | undefined, noWindow: string, pauseWord: string): DirtyLogStop {
  const evs = src.events.filter((e) => e.timeUs !== undefined);
  const startIdx = evs.findIndex((e) => {
    const s = kvmSlotUpdateOf(e);
    return s !== undefined && s.size !== 0 && (s.flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0;
  });
  if (startIdx < 0) return { inPause: undefined, note: 'the source trace never shows a KVM memory slot registered for dirty logging' };
  const start = evs[startIdx]!;
  const rel = (t: number) => (window ? ms3(t - window.start) : undefined);
  const startedAt = rel(start.timeUs!);
  const base: Partial<DirtyLogStop> = startedAt !== undefined ? { startedAtMsRelativeToPauseStart: startedAt } : {};
  const isStop = (e: TraceEvent) => {
    const s = kvmSlotUpdateOf(e);
    return s !== undefined && s.size !== 0 && (s.flags & KVM_MEM_LOG_DIRTY_PAGES) === 0;
  };
  const stopIdx = evs.findIndex((e, i) => i > startIdx && isStop(e));
  if (stopIdx < 0) {
    if (!window) return { inPause: undefined, ...base, note: `dirty logging was switched on and still on at the end of the source trace; ${noWindow}` };
    return {
      inPause: false,
      ...base,
      note: `dirty logging was not switched off by the end of the source trace, so not inside the ${pauseWord}: no KVM slot was re-registered without dirty logging`,
    };
  }
  const stop = evs[stopIdx]!;
  const sameThread = (e: TraceEvent) => stop.tid === undefined || e.tid === undefined || e.tid === stop.tid;
  // The batch: the stopping thread's consecutive slot updates that drop dirty logging.
  let last = stop;
  for (const e of evs.slice(stopIdx + 1)) {
    if (!sameThread(e)) continue;
    if (!kvmSlotUpdateOf(e)) break;
    if (isStop(e)) last = e;
  }
  const before = evs.slice(0, stopIdx).reverse().find(sameThread);
  const durationMs = before ? ms3(last.timeUs! - before.timeUs!) : undefined;
  const took = durationMs !== undefined ? `, the KVM memory slot updates taking ${durationMs} ms` : '';
  const withDuration = durationMs !== undefined ? { durationMs } : {};
  if (!window) return { inPause: undefined, ...base, ...withDuration, note: `dirty logging was switched off${took}; ${noWindow}` };
  const t = stop.timeUs!;
  const inPause = t >= window.start && t <= window.end;
  const where = inPause
    ? `inside the ${pauseWord}, ${fmtMs(t - window.start)} after it began`
    : t < window.start
      ? `before the ${pauseWord}, ${fmtMs(window.start - t)} before it began`
      : `after the ${pauseWord}, ${fmtMs(t - window.end)} after it ended`;
  return { inPause, ...base, atMsRelativeToPauseStart: ms3(t - window.start), ...withDuration, note: `dirty logging was switched off ${where}${took}` };
}

/** "current_run_state 9 (running) new_state 7 (finish-migrate)" -> "finish-migrate". */
function newRunState(ev: TraceEvent): string | undefined {
  if (ev.name !== 'runstate_set') return undefined;
  return /new_state \d+ \(([^)]+)\)/.exec(ev.argsText)?.[1];
}

/**
 * The pause without checkpoints: from the source entering finish-migrate to the destination
 * entering running (one host: one clock), else to the source's migrate_set_state completed.
 */
function legacyPauseOf(src: TraceLog, dst: TraceLog, sameHost: boolean): { pause: LegacyPause; window: { start: number; end: number } } | undefined {
  const timed = (l: TraceLog) => l.events.filter((e) => e.timeUs !== undefined);
  const stop = timed(src).findLast((e) => newRunState(e) === 'finish-migrate');
  if (!stop) return undefined;
  const dstRun = sameHost ? timed(dst).find((e) => newRunState(e) === 'running' && e.timeUs! >= stop.timeUs!) : undefined;
  const end =
    dstRun ?? timed(src).find((e) => e.name === 'migrate_set_state' && /\bcompleted\b/.test(e.argsText) && e.timeUs! >= stop.timeUs!);
  if (!end) return undefined;
  const pause: LegacyPause = {
    from: 'source runstate_set finish-migrate',
    to: dstRun ? 'destination runstate_set running' : 'source migrate_set_state completed',
    ms: ms3(end.timeUs! - stop.timeUs!),
  };
  return { pause, window: { start: stop.timeUs!, end: end.timeUs! } };
}

function unavailable(sameHost: boolean, notes: string[], dirtyLogStop: DirtyLogStop): DowntimeBreakdown {
  return {
    available: false,
    sameHost,
    clock: sameHost ? 'shared' : 'per-side',
    phases: [],
    checkpoints: [],
    topDevices: { save: [], load: [] },
    deviceTotalsUs: { save: 0, load: 0 },
    dirtyLogStop,
    notes,
  };
}

/**
 * Break one migration's pause down from the two QEMUs' `-D` logs (see traceArgs). Never
 * throws: what cannot be computed is left out and said in `notes`.
 */
export function computeBreakdown(sourceLog: string, destLog: string, opts: BreakdownOptions): DowntimeBreakdown {
  const sameHost = opts?.sameHost === true;
  const src = parseTraceLog(sourceLog ?? '');
  const dst = parseTraceLog(destLog ?? '');
  const notes: string[] = [];

  const traced = (log: TraceLog) => log.events.some((e) => e.name.startsWith('vmstate_downtime_'));
  if (!traced(src) && !traced(dst)) {
    const legacy = legacyPauseOf(src, dst, sameHost);
    if (!legacy) return unavailable(sameHost, [NO_TRACEPOINTS_NOTE], dirtyLogStopOf(src, undefined));
    const b = unavailable(sameHost, [NO_TRACEPOINTS_NOTE], dirtyLogStopOf(src, legacy.window, undefined, 'pause'));
    b.legacyPause = legacy.pause;
    return b;
  }

  const s = stampsOf(src, 'source');
  const d = stampsOf(dst, 'destination');
  if (s.untimed || d.untimed) notes.push('some trace lines carry no timestamp: QEMU needs -msg timestamp=on');
  for (const r of [...s.repeated, ...d.repeated]) notes.push(`checkpoint ${r} appears more than once; the first is used`);
  const misplaced = [...s.stamps.filter((x) => sideOf(x.name) === 'destination'), ...d.stamps.filter((x) => sideOf(x.name) === 'source')];
  if (misplaced.length) notes.push(`checkpoints in the other side's log (logs swapped?): ${misplaced.map((x) => x.name).join(', ')}`);

  const srcStamps = s.stamps.filter((x) => x.side === 'source').sort(byTime);
  const dstStamps = d.stamps.filter((x) => x.side === 'destination').sort(byTime);
  const start = srcStamps.find((x) => x.name === SRC_START);
  if (!start) {
    notes.push(`the source trace has no ${SRC_START} checkpoint: the source never stopped the VM for switchover, so there is no pause to break down`);
    return unavailable(sameHost, notes, dirtyLogStopOf(src, undefined, 'the migration never reached the pause'));
  }
  const srcEnd = srcStamps.find((x) => x.name === SRC_END);
  const sourceDowntimeMs = srcEnd ? ms3(srcEnd.t - start.t) : undefined;
  if (!srcEnd) notes.push(`the source trace has no ${SRC_END} checkpoint`);

  const saves = deviceTimes(src, 'save');
  const loads = deviceTimes(dst, 'load');
  const srcDeviceEnds = saves.filter((x) => x.t !== undefined).map((x) => ({ t: x.t!, us: x.us }));
  const dstDeviceEnds = loads.filter((x) => x.t !== undefined).map((x) => ({ t: x.t!, us: x.us }));

  let phases: BreakdownPhase[];
  let checkpoints: BreakdownCheckpoint[];
  let endToEndPauseMs: number | undefined;
  let window: { start: number; end: number };
  let traceLinesInPause: number | undefined;

  const vmStarted = dstStamps.find((x) => isVmStarted(x.name));
  if (sameHost && vmStarted && vmStarted.t >= start.t) {
    // One timeline: every checkpoint of both sides between the pause start and the VM start.
    const inside = [...srcStamps, ...dstStamps].filter((x) => x.t >= start.t && x.t <= vmStarted.t).sort(byTime);
    const outside = [...srcStamps, ...dstStamps].filter((x) => x.t < start.t || x.t > vmStarted.t);
    for (const o of outside) {
      notes.push(
        o.t > vmStarted.t
          ? `${o.name} came ${fmtMs(o.t - vmStarted.t)} after the destination VM started, outside the pause`
          : `${o.name} came ${fmtMs(start.t - o.t)} before ${SRC_START}, outside the pause`,
      );
    }
    phases = phasesOf(inside, start.t, { save: srcDeviceEnds, load: dstDeviceEnds });
    checkpoints = [...srcStamps, ...dstStamps].sort(byTime).map((x) => ({ name: x.name, side: x.side, atUs: Math.round(x.t - start.t) }));
    endToEndPauseMs = ms3(vmStarted.t - start.t);
    window = { start: start.t, end: vmStarted.t };
    const inWindow = (log: TraceLog) => log.events.filter((e) => e.timeUs !== undefined && e.timeUs >= start.t && e.timeUs <= vmStarted.t).length;
    traceLinesInPause = inWindow(src) + inWindow(dst);
  } else {
    // Each side on its own clock; nothing may span them.
    if (!sameHost) notes.push('the two QEMUs do not share a clock (not one host): each side is broken down on its own, and there is no end-to-end pause');
    else if (!vmStarted) notes.push('the destination trace has no VM-started checkpoint: no end-to-end pause');
    else notes.push('the destination VM started before the source pause began by the trace clocks: no end-to-end pause');
    const srcPart = srcStamps.filter((x) => x.t >= start.t);
    const dstOrigin = dstStamps[0]?.t ?? 0;
    phases = [...phasesOf(srcPart, start.t, { save: srcDeviceEnds, load: [] }), ...phasesOf(dstStamps, dstOrigin, { save: [], load: dstDeviceEnds })];
    checkpoints = [
      ...srcStamps.map((x) => ({ name: x.name, side: x.side, atUs: Math.round(x.t - start.t) })),
      ...dstStamps.map((x) => ({ name: x.name, side: x.side, atUs: Math.round(x.t - dstOrigin) })),
    ];
    window = { start: start.t, end: srcEnd?.t ?? start.t };
  }
  if (!sameHost && !dstStamps.length) notes.push('the destination trace has no checkpoints');

  const totals = { save: saves.reduce((a, x) => a + x.us, 0), load: loads.reduce((a, x) => a + x.us, 0) };
  const paused = src.events.find((e) => e.name === 'vm_state_notify' && e.timeUs !== undefined && e.timeUs >= start.t && /^running 0\b/.test(e.argsText));
  const vcpusStoppedAfterMs = paused ? ms3(paused.timeUs! - start.t) : undefined;
  return {
    available: true,
    sameHost,
    clock: sameHost ? 'shared' : 'per-side',
    phases,
    checkpoints,
    ...(sourceDowntimeMs !== undefined && { sourceDowntimeMs }),
    ...(endToEndPauseMs !== undefined && { endToEndPauseMs }),
    ...(vcpusStoppedAfterMs !== undefined && { vcpusStoppedAfterMs }),
    topDevices: { save: top(saves), load: top(loads) },
    deviceTotalsUs: totals,
    dirtyLogStop: dirtyLogStopOf(src, window),
    ...(traceLinesInPause !== undefined && { traceLinesInPause }),
    notes,
  };
}

// ---- across trials ------------------------------------------------------------------------

export interface Spread {
  n: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
}

export interface PhaseSummary extends Spread {
  key: string;
  name: string;
  side: PhaseSide;
}

export interface DeviceSummary {
  idstr: string;
  instance: number;
  type: string;
  n: number;
  medianUs: number;
}

export interface BreakdownSummary {
  /** breakdowns that were available (the others only count in `unavailable`) */
  n: number;
  unavailable: number;
  /** median of each phase over the trials that had it, in the order phases first appear */
  phases: PhaseSummary[];
  endToEndPauseMs?: Spread;
  sourceDowntimeMs?: Spread;
  /** top 5 devices by median µs */
  topDevices: { save: DeviceSummary[]; load: DeviceSummary[] };
  /**
   * How many trials stopped dirty logging inside the pause, outside it, or could not tell, and
   * how long the slot updates that stopped it took. Counted over breakdowns with phases and
   * those with only a legacy pause (QEMU < 8.2).
   */
  dirtyLogStop: { inPause: number; outside: number; unknown: number; durationMs?: Spread };
  /** the pause bracketed by run states, where only that was traced (QEMU < 8.2) */
  legacyPauseMs?: Spread;
  notes: string[];
}

function spread(values: number[]): Spread | undefined {
  if (!values.length) return undefined;
  return { n: values.length, medianMs: round3(median(values)), minMs: Math.min(...values), maxMs: Math.max(...values) };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function deviceSummary(bs: DowntimeBreakdown[], pick: (b: DowntimeBreakdown) => DeviceTime[]): DeviceSummary[] {
  // Only the top 5 of each trial are kept in a breakdown, so a device's median is over the
  // trials where it made the top 5; n says how many that was.
  const byId = new Map<string, { d: DeviceTime; us: number[] }>();
  for (const b of bs) {
    for (const d of pick(b)) {
      const k = `${d.type}\u0000${d.idstr}\u0000${d.instance}`;
      const e = byId.get(k) ?? { d, us: [] };
      e.us.push(d.us);
      byId.set(k, e);
    }
  }
  return [...byId.values()]
    .map(({ d, us }) => ({ idstr: d.idstr, instance: d.instance, type: d.type, n: us.length, medianUs: median(us) }))
    .sort((a, b) => b.medianUs - a.medianUs || b.n - a.n)
    .slice(0, TOP_N);
}

/** Per-variant summary: the median of each phase across trials. */
export function summarizeBreakdowns(bs: DowntimeBreakdown[]): BreakdownSummary {
  const ok = (bs ?? []).filter((b) => b && b.available);
  const phases = new Map<string, { name: string; side: PhaseSide; values: number[] }>();
  for (const b of ok) {
    for (const p of b.phases) {
      // Today's label for the key: a results file keeps the label it was recorded with.
      const e = phases.get(p.key) ?? { name: PHASE_NAMES[p.key] ?? p.name, side: p.side, values: [] };
      e.values.push(p.durationMs);
      phases.set(p.key, e);
    }
  }
  const notes: string[] = [];
  const unavailable = (bs ?? []).length - ok.length;
  if (unavailable) notes.push(`${unavailable} trial(s) without a breakdown`);
  const partial = [...phases.entries()].filter(([, e]) => e.values.length < ok.length);
  if (partial.length) {
    notes.push(`phases not seen in every trial (checkpoint order differed): ${partial.map(([k, e]) => `${k} (${e.values.length}/${ok.length})`).join(', ')}`);
  }
  const e2e = spread(ok.flatMap((b) => (b.endToEndPauseMs !== undefined ? [b.endToEndPauseMs] : [])));
  const stops = (bs ?? []).filter((b) => b && (b.available || b.legacyPause));
  const stopDurations = spread(stops.flatMap((b) => (b.dirtyLogStop.durationMs !== undefined ? [b.dirtyLogStop.durationMs] : [])));
  const legacy = spread(stops.flatMap((b) => (b.legacyPause ? [b.legacyPause.ms] : [])));
  const srcDown = spread(ok.flatMap((b) => (b.sourceDowntimeMs !== undefined ? [b.sourceDowntimeMs] : [])));
  return {
    n: ok.length,
    unavailable,
    phases: [...phases.entries()].map(([key, e]) => ({ key, name: e.name, side: e.side, ...spread(e.values)! })),
    ...(e2e && { endToEndPauseMs: e2e }),
    ...(srcDown && { sourceDowntimeMs: srcDown }),
    topDevices: { save: deviceSummary(ok, (b) => b.topDevices.save), load: deviceSummary(ok, (b) => b.topDevices.load) },
    dirtyLogStop: {
      inPause: stops.filter((b) => b.dirtyLogStop.inPause === true).length,
      outside: stops.filter((b) => b.dirtyLogStop.inPause === false).length,
      unknown: stops.filter((b) => b.dirtyLogStop.inPause === undefined).length,
      ...(stopDurations && { durationMs: stopDurations }),
    },
    ...(legacy && { legacyPauseMs: legacy }),
    notes,
  };
}

export interface PhaseChange {
  key: string;
  name: string;
  side: PhaseSide;
  nA: number;
  nB: number;
  medianA?: number;
  medianB?: number;
  /** medianB - medianA, ms (negative: B spends less time in this phase) */
  deltaMs?: number;
  /** deltaMs relative to medianA, percent; absent when medianA is 0 or missing */
  deltaPct?: number;
}

export interface BreakdownComparison {
  phases: PhaseChange[];
  endToEndPauseMs?: PhaseChange;
  sourceDowntimeMs?: PhaseChange;
  notes: string[];
}

function change(key: string, name: string, side: PhaseSide, a: Spread | undefined, b: Spread | undefined): PhaseChange {
  const out: PhaseChange = { key, name, side, nA: a?.n ?? 0, nB: b?.n ?? 0 };
  if (a) out.medianA = a.medianMs;
  if (b) out.medianB = b.medianMs;
  if (a && b) {
    out.deltaMs = round3(b.medianMs - a.medianMs);
    if (a.medianMs !== 0) out.deltaPct = Math.round(((b.medianMs - a.medianMs) / a.medianMs) * 1000) / 10;
  }
  return out;
}

const asSummary = (x: BreakdownSummary | DowntimeBreakdown[]): BreakdownSummary => (Array.isArray(x) ? summarizeBreakdowns(x) : x);

/**
 * Change of each phase's median from variant A (baseline) to B, in the order of A's phases
 * followed by phases only B has. Same sign convention as src/stats/compare.ts.
 */
export function compareBreakdowns(a: BreakdownSummary | DowntimeBreakdown[], b: BreakdownSummary | DowntimeBreakdown[]): BreakdownComparison {
  const A = asSummary(a);
  const B = asSummary(b);
  const keys = [...new Set([...A.phases.map((p) => p.key), ...B.phases.map((p) => p.key)])];
  const phases = keys.map((k) => {
    const pa = A.phases.find((p) => p.key === k);
    const pb = B.phases.find((p) => p.key === k);
    const meta = (pa ?? pb)!;
    return change(k, meta.name, meta.side, pa, pb);
  });
  const notes: string[] = [];
  if (!A.n || !B.n) notes.push(`breakdowns available: A ${A.n}, B ${B.n}; a change needs both`);
  const onlyOne = phases.filter((p) => !p.nA || !p.nB);
  if (onlyOne.length) notes.push(`phases present in only one variant: ${onlyOne.map((p) => p.key).join(', ')}`);
  const e2e = A.endToEndPauseMs || B.endToEndPauseMs ? change('end-to-end', 'end-to-end pause', 'both', A.endToEndPauseMs, B.endToEndPauseMs) : undefined;
  const sd = A.sourceDowntimeMs || B.sourceDowntimeMs ? change('source-downtime', 'source downtime (QEMU)', 'source', A.sourceDowntimeMs, B.sourceDowntimeMs) : undefined;
  return { phases, ...(e2e && { endToEndPauseMs: e2e }), ...(sd && { sourceDowntimeMs: sd }), notes };
}
