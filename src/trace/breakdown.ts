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

import { checkpointOf, deviceTimeOf, parseTraceLog, type TraceLog } from './trace-log.js';
import {
  PHASE_NAMES,
  TOP_N,
  type BreakdownCheckpoint,
  type BreakdownOptions,
  type BreakdownPhase,
  type DeviceTime,
  type DirtyLogStop,
  type DowntimeBreakdown,
  type PhaseSide,
} from './breakdown-types.js';
import { dirtyLogStopOf, fmtMs, legacyPauseOf, ms3 } from './dirty-log.js';
import { NO_TRACEPOINTS_NOTE } from './trace-plan.js';

// The data and the tracepoints it reads are importable from here, where they always were.
export * from './breakdown-types.js';
export * from './trace-plan.js';

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

const isVmStarted = (name: string) => name.startsWith('dst-') && name.endsWith('-vm-started');
const sideOf = (name: string): 'source' | 'destination' | undefined =>
  name.startsWith('src-') ? 'source' : name.startsWith('dst-') ? 'destination' : undefined;

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

interface Timeline {
  phases: BreakdownPhase[];
  checkpoints: BreakdownCheckpoint[];
  endToEndPauseMs?: number;
  /** the pause the dirty-log stop is placed against */
  window: { start: number; end: number };
  traceLinesInPause?: number;
}

const deviceEnds = (ds: Array<DeviceTime & { t?: number }>): DeviceEnd[] => ds.filter((x) => x.t !== undefined).map((x) => ({ t: x.t!, us: x.us }));

/** One host, one clock: every checkpoint of both sides between the pause start and the VM start. */
function sharedTimeline(
  srcStamps: Stamp[],
  dstStamps: Stamp[],
  start: Stamp,
  vmStarted: Stamp,
  devices: { save: DeviceEnd[]; load: DeviceEnd[] },
  logs: TraceLog[],
  notes: string[],
): Timeline {
  const all = [...srcStamps, ...dstStamps];
  const inside = all.filter((x) => x.t >= start.t && x.t <= vmStarted.t).sort(byTime);
  for (const o of all.filter((x) => x.t < start.t || x.t > vmStarted.t)) {
    notes.push(
      o.t > vmStarted.t
        ? `${o.name} came ${fmtMs(o.t - vmStarted.t)} after the destination VM started, outside the pause`
        : `${o.name} came ${fmtMs(start.t - o.t)} before ${SRC_START}, outside the pause`,
    );
  }
  const inWindow = (log: TraceLog) => log.events.filter((e) => e.timeUs !== undefined && e.timeUs >= start.t && e.timeUs <= vmStarted.t).length;
  return {
    phases: phasesOf(inside, start.t, devices),
    checkpoints: [...all].sort(byTime).map((x) => ({ name: x.name, side: x.side, atUs: Math.round(x.t - start.t) })),
    endToEndPauseMs: ms3(vmStarted.t - start.t),
    window: { start: start.t, end: vmStarted.t },
    traceLinesInPause: logs.reduce((n, l) => n + inWindow(l), 0),
  };
}

const NO_SHARED_CLOCK = {
  'two-hosts': 'the two QEMUs do not share a clock (not one host): each side is broken down on its own, and there is no end-to-end pause',
  'no-vm-started': 'the destination trace has no VM-started checkpoint: no end-to-end pause',
  'started-before': 'the destination VM started before the source pause began by the trace clocks: no end-to-end pause',
} as const;

/** Each side on its own clock; nothing may span them. */
function perSideTimelines(
  srcStamps: Stamp[],
  dstStamps: Stamp[],
  start: Stamp,
  srcEnd: Stamp | undefined,
  devices: { save: DeviceEnd[]; load: DeviceEnd[] },
  notes: string[],
  why: keyof typeof NO_SHARED_CLOCK,
): Timeline {
  notes.push(NO_SHARED_CLOCK[why]);
  const srcPart = srcStamps.filter((x) => x.t >= start.t);
  const dstOrigin = dstStamps[0]?.t ?? 0;
  return {
    phases: [...phasesOf(srcPart, start.t, { save: devices.save, load: [] }), ...phasesOf(dstStamps, dstOrigin, { save: [], load: devices.load })],
    checkpoints: [
      ...srcStamps.map((x) => ({ name: x.name, side: x.side, atUs: Math.round(x.t - start.t) })),
      ...dstStamps.map((x) => ({ name: x.name, side: x.side, atUs: Math.round(x.t - dstOrigin) })),
    ],
    window: { start: start.t, end: srcEnd?.t ?? start.t },
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

  const vmStarted = dstStamps.find((x) => isVmStarted(x.name));
  const devices = { save: deviceEnds(saves), load: deviceEnds(loads) };
  const line =
    sameHost && vmStarted && vmStarted.t >= start.t
      ? sharedTimeline(srcStamps, dstStamps, start, vmStarted, devices, [src, dst], notes)
      : perSideTimelines(srcStamps, dstStamps, start, srcEnd, devices, notes, sameHost ? (vmStarted ? 'started-before' : 'no-vm-started') : 'two-hosts');
  const { phases, checkpoints, endToEndPauseMs, window, traceLinesInPause } = line;
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

