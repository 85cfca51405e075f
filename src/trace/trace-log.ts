// A parser for the log QEMU writes with `-trace EVENT -D FILE`: pure, line by line, never
// throwing. Anything it does not recognise is kept (with its line number) rather than dropped,
// so a caller can show what QEMU wrote when a breakdown comes out empty.
//
// Line formats, as QEMU's generated trace code prints them (the `log` trace backend):
//   QEMU ≤ 10.0 with `-msg timestamp=on`:  TID@SECONDS.MICROSECONDS:event args
//       ("%d@%zu.%06zu:" from gettimeofday; the number before @ is the *thread* id, so one
//       QEMU's lines carry several ids: the main loop, the migration thread, ...)
//   QEMU ≥ 10.1 with `-msg timestamp=on`:  2026-11-26T05:01:22.513895Z event args
//       (an ISO-8601 UTC time, no thread id; QEMU commit 012842c075, first in 10.0.90, i.e.
//       the 10.1 development tree — 11.1 is merely the first release migdown was tested with)
//   any version without `-msg timestamp=on`: event args   (no time at all)
// Both clocks are the wall clock, so two QEMUs on one host can be put on one timeline.
//
// The argument formats come from QEMU's trace-events files:
//   migration/trace-events (QEMU ≥ 8.2):
//     vmstate_downtime_save(...)  "type=%s idstr=%s instance_id=%d downtime=%"PRIi64   (µs)
//     vmstate_downtime_load(...)  "type=%s idstr=%s instance_id=%d downtime=%"PRIi64   (µs)
//     vmstate_downtime_checkpoint(const char *checkpoint) "%s"
//   system/trace-events (softmmu/ before 8.0; QEMU ≥ 6.2):
//     global_dirty_changed(unsigned int bitmask) "bitmask 0x%"PRIx32
//       (the new value of global_dirty_tracking; bit 0 is GLOBAL_DIRTY_MIGRATION)
//   accel/kvm/trace-events:
//     kvm_set_user_memory "Slot#%d flags=0x%x gpa=0x%"PRIx64 " size=0x%"PRIx64 " ua=0x%"PRIx64 " ret=%d"
//       (≥ 9.0 adds "AddrSpace#%d " in front and guest_memfd fields before ret)

export interface TraceEvent {
  /** 1-based line number in the log */
  line: number;
  /** wall-clock time, µs since the Unix epoch; absent when the line carried no timestamp */
  timeUs?: number;
  /** the thread id QEMU printed before '@' (absent in the ISO and untimed formats) */
  tid?: number;
  /** trace event name, e.g. "vmstate_downtime_checkpoint" */
  name: string;
  /** everything after the event name, as QEMU printed it */
  argsText: string;
  /** `key=value` pairs found in argsText (values up to the next space) */
  args: Record<string, string>;
}

export interface TraceLog {
  events: TraceEvent[];
  /** non-empty lines that are not trace events, kept verbatim */
  unknown: Array<{ line: number; text: string }>;
}

// `%d@%zu.%06zu:` — the fraction is always six digits in practice; accept any count.
const PID_AT = /^(\d+)@(\d+)\.(\d+):([A-Za-z_][A-Za-z0-9_]*)(?: (.*))?$/;
const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z ([A-Za-z_][A-Za-z0-9_]*)(?: (.*))?$/;
// An untimed line is only taken for an event when the name looks like one (QEMU's event names
// are lower-case identifiers with at least one underscore); a stray word stays unknown.
const BARE = /^([a-z][a-z0-9]*_[a-z0-9_]*)(?: (.*))?$/;
const KV = /([A-Za-z_][A-Za-z0-9_]*)=(\S*)/g;

/** "123" -> 123000 µs for a fraction of a second written with any number of digits. */
function fractionToUs(digits: string | undefined): number {
  if (!digits) return 0;
  return Number((digits + '000000').slice(0, 6));
}

function argsOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(KV)) out[m[1]!] = m[2]!;
  return out;
}

/** Parse one line; undefined when it is not a trace event line. */
export function parseTraceLine(text: string, line = 0): TraceEvent | undefined {
  let m = PID_AT.exec(text);
  if (m) {
    const argsText = m[5] ?? '';
    return {
      line,
      timeUs: Number(m[2]) * 1_000_000 + fractionToUs(m[3]),
      tid: Number(m[1]),
      name: m[4]!,
      argsText,
      args: argsOf(argsText),
    };
  }
  m = ISO.exec(text);
  if (m) {
    const ms = Date.parse(`${m[1]}Z`);
    if (Number.isNaN(ms)) return undefined;
    const argsText = m[4] ?? '';
    return { line, timeUs: ms * 1000 + fractionToUs(m[2]), name: m[3]!, argsText, args: argsOf(argsText) };
  }
  m = BARE.exec(text);
  if (m) {
    const argsText = m[2] ?? '';
    return { line, name: m[1]!, argsText, args: argsOf(argsText) };
  }
  return undefined;
}

/** Parse a whole `-D` log. Never throws; non-string input yields an empty log. */
export function parseTraceLog(text: string): TraceLog {
  const events: TraceEvent[] = [];
  const unknown: TraceLog['unknown'] = [];
  if (typeof text !== 'string') return { events, unknown };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    // A log read while QEMU is still writing may end in half a line; CRs come from copies.
    const raw = lines[i]!.replace(/\r$/, '');
    if (!raw.trim()) continue;
    const ev = parseTraceLine(raw, i + 1);
    if (ev) events.push(ev);
    else unknown.push({ line: i + 1, text: raw });
  }
  return { events, unknown };
}

// ---- typed readings of the events the breakdown uses --------------------------------------

/** The checkpoint name of a vmstate_downtime_checkpoint event, e.g. "src-vm-stopped". */
export function checkpointOf(ev: TraceEvent): string | undefined {
  if (ev.name !== 'vmstate_downtime_checkpoint') return undefined;
  const name = ev.argsText.trim();
  return name || undefined;
}

export interface DeviceStateTime {
  /** "iterable" (RAM, dirty bitmaps, VFIO ...) or "non-iterable" (device state) */
  type: string;
  idstr: string;
  instance: number;
  /** time spent in the device's save or load handler, µs */
  us: number;
}

// idstr may in principle contain spaces (it is built from qdev paths), so it is matched
// between its neighbours rather than as one token.
const DEVICE_TIME = /^type=(\S+) idstr=(.*) instance_id=(-?\d+) downtime=(-?\d+)\s*$/;

/** The per-device time of a vmstate_downtime_save / vmstate_downtime_load event. */
export function deviceTimeOf(ev: TraceEvent): (DeviceStateTime & { op: 'save' | 'load' }) | undefined {
  const op = ev.name === 'vmstate_downtime_save' ? 'save' : ev.name === 'vmstate_downtime_load' ? 'load' : undefined;
  if (!op) return undefined;
  const m = DEVICE_TIME.exec(ev.argsText);
  if (!m) return undefined;
  return { op, type: m[1]!, idstr: m[2]!, instance: Number(m[3]), us: Number(m[4]) };
}

/** The new global dirty-tracking bitmask of a global_dirty_changed event. */
export function dirtyBitmaskOf(ev: TraceEvent): number | undefined {
  if (ev.name !== 'global_dirty_changed') return undefined;
  const m = /bitmask (0x[0-9a-fA-F]+|\d+)/.exec(ev.argsText);
  if (!m) return undefined;
  const v = Number(m[1]);
  return Number.isFinite(v) ? v : undefined;
}

export interface KvmSlotUpdate {
  addressSpace?: number;
  slot: number;
  /** KVM_MEM_* flags; bit 0 is KVM_MEM_LOG_DIRTY_PAGES */
  flags: number;
  gpa: number;
  /** 0 removes the slot */
  size: number;
  ret: number;
}

/** A kvm_set_user_memory event (one KVM_SET_USER_MEMORY_REGION ioctl). */
export function kvmSlotUpdateOf(ev: TraceEvent): KvmSlotUpdate | undefined {
  if (ev.name !== 'kvm_set_user_memory') return undefined;
  const slot = /Slot#(\d+)/.exec(ev.argsText);
  const as = /AddrSpace#(\d+)/.exec(ev.argsText);
  const { flags, gpa, size, ret } = ev.args;
  if (!slot || flags === undefined || size === undefined) return undefined;
  const n = (s: string | undefined) => (s === undefined ? NaN : Number(s));
  const out: KvmSlotUpdate = { slot: Number(slot[1]), flags: n(flags), gpa: n(gpa), size: n(size), ret: n(ret) };
  if (as) out.addressSpace = Number(as[1]);
  return Number.isFinite(out.flags) && Number.isFinite(out.size) ? out : undefined;
}
