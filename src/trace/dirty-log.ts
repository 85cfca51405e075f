// When dirty logging for migration stopped on the source, against the pause window: from
// global_dirty_changed (QEMU 6.2 or later) or from the KVM memory-slot updates alone; and the
// pause as QEMU before 8.2 shows it, bracketed by run states.

import { dirtyBitmaskOf, kvmSlotUpdateOf, type TraceEvent, type TraceLog } from './trace-log.js';
import type { DirtyLogStop, LegacyPause } from './breakdown-types.js';

/** Bit 0 of global_dirty_tracking: dirty logging for migration (GLOBAL_DIRTY_MIGRATION). */
const GLOBAL_DIRTY_MIGRATION = 0x1;
/** KVM_MEM_LOG_DIRTY_PAGES in kvm_set_user_memory's flags. */
const KVM_MEM_LOG_DIRTY_PAGES = 0x1;

export const ms3 = (us: number) => Math.round(us) / 1000;
export const fmtMs = (us: number) => `${ms3(Math.abs(us))} ms`;


/**
 * When dirty logging for migration was switched off on the source, against the pause window.
 * global_dirty_changed prints the new bitmask; the migration bit going 1 → 0 is the stop.
 */
export function dirtyLogStopOf(
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
  const { start, stop } = migrationToggles(changes, window);
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

  const durationMs = slotUpdatesMs(src, stop);
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
  const { inPause, where } = placed(t, window, pauseWord);
  return { inPause, ...base, atMsRelativeToPauseStart: ms3(t - window.start), ...withDuration, note: `dirty logging was switched off ${where}${took}` };
}

/** The migration's dirty-logging start (the last one at or before the pause began) and the stop after it. */
function migrationToggles(changes: Array<{ ev: TraceEvent; mask: number }>, window: { start: number } | undefined): { start?: TraceEvent; stop?: TraceEvent } {
  let prev = 0;
  let start: TraceEvent | undefined;
  let stop: TraceEvent | undefined;
  for (const { ev, mask } of changes) {
    const was = (prev & GLOBAL_DIRTY_MIGRATION) !== 0;
    const is = (mask & GLOBAL_DIRTY_MIGRATION) !== 0;
    prev = mask;
    if (!was && is) {
      if (!window || ev.timeUs! <= window.start || !start) {
        start = ev;
        stop = undefined;
      }
    } else if (was && !is && start && !stop) {
      stop = ev;
    }
  }
  return { ...(start && { start }), ...(stop && { stop }) };
}

/**
 * How long the stop took: the KVM slot re-registrations that follow it on the same thread, up
 * to that thread's next other event.
 */
function slotUpdatesMs(src: TraceLog, stop: TraceEvent): number | undefined {
  let lastSlot: number | undefined;
  for (const ev of src.events.slice(src.events.indexOf(stop) + 1)) {
    if (stop.tid !== undefined && ev.tid !== undefined && ev.tid !== stop.tid) continue;
    const slot = kvmSlotUpdateOf(ev);
    if (!slot) break;
    if (ev.timeUs !== undefined && slot.size !== 0 && (slot.flags & KVM_MEM_LOG_DIRTY_PAGES) === 0) lastSlot = ev.timeUs;
  }
  return lastSlot !== undefined ? ms3(lastSlot - stop.timeUs!) : undefined;
}

/** Where time `t` lies against the pause, in words. */
function placed(t: number, window: { start: number; end: number }, pauseWord: string): { inPause: boolean; where: string } {
  const inPause = t >= window.start && t <= window.end;
  const where = inPause
    ? `inside the ${pauseWord}, ${fmtMs(t - window.start)} after it began`
    : t < window.start
      ? `before the ${pauseWord}, ${fmtMs(window.start - t)} before it began`
      : `after the ${pauseWord}, ${fmtMs(t - window.end)} after it ended`;
  return { inPause, where };
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
  const { inPause, where } = placed(t, window, pauseWord);
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
export function legacyPauseOf(src: TraceLog, dst: TraceLog, sameHost: boolean): { pause: LegacyPause; window: { start: number; end: number } } | undefined {
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
