// The host side of the migdown guest's serial protocol (guest/README.md), as pure functions:
// no sockets, no processes, no clocks. Whoever reads the serial chardev timestamps each chunk
// (performance.now(), ms) and feeds it to a SerialParser; the statistics below then work on
// the timestamps of the heartbeats.
//
// Protocol summary: the guest writes whole lines ("READY <MiB>\n", "TSC <kHz>\n", a banner,
// optional "STATS ...", "ERR ...", "PANIC ...") and, once running, single heartbeat bytes:
// protocol 2 sends 0x80 | (sequence number mod 128), protocol 1 sent '.'. Lines are ASCII and
// never start with '.', and the guest never writes a heartbeat in the middle of a line, so at
// the start of a line a byte >= 0x80 (or '.') is a heartbeat and anything else starts a line.
// The sequence number makes a lost beat (a jump by more than one) or beats read together (one
// arrival time for several numbers) visible instead of silently widening a gap.
//
// Timestamps are arrival times of chunks, not emission times: beats that arrive in the same
// chunk share one timestamp (their gaps read as 0 and the next gap as the sum). With a 1 ms
// heartbeat and a reader that is not starved this is rare; it is the reader's resolution.

import { max, median, quantile } from 'simple-statistics';

/** The heartbeat byte of protocol 1 (no sequence number). */
export const HEARTBEAT_BYTE = 0x2e; // '.'
/** Protocol 2: a heartbeat byte is this bit plus the beat's sequence number mod 128. */
export const HEARTBEAT_SEQ_BIT = 0x80;
/** Sequence numbers count modulo this. */
export const HEARTBEAT_SEQ_MOD = 128;

export type SerialEvent =
  /** the guest has touched its RAM; `mib` is how much it touched (0 for touch=none) */
  | { type: 'ready'; mib: number; at: number }
  /** the guest's TSC frequency as it calibrated it against the PIT */
  | { type: 'tsc'; khz: number; at: number }
  /** one heartbeat; `seq` (mod 128) from protocol 2 on */
  | { type: 'beat'; at: number; seq?: number }
  /** any other line (banner, STATS, ERR, PANIC, ...) without its line terminator */
  | { type: 'text'; line: string; at: number };

/** Lines longer than this are cut and reported as text (the guest's lines are < 100 bytes). */
const MAX_LINE = 4096;

const NL = 0x0a;
const CR = 0x0d;

/**
 * Streaming parser of the guest's serial output. Feed it chunks in arrival order; it keeps a
 * partial line between chunks. A line's `at` is the arrival time of the chunk that completed it.
 */
export class SerialParser {
  private line: number[] = [];

  /** Parse one chunk that arrived at `at` (ms). Returns the events it completed, in order. */
  feed(chunk: Uint8Array, at: number): SerialEvent[] {
    const events: SerialEvent[] = [];
    for (const byte of chunk) {
      if (this.line.length === 0) {
        if (byte >= HEARTBEAT_SEQ_BIT) {
          events.push({ type: 'beat', at, seq: byte & (HEARTBEAT_SEQ_MOD - 1) });
          continue;
        }
        if (byte === HEARTBEAT_BYTE) {
          events.push({ type: 'beat', at });
          continue;
        }
        // a stray terminator at the start of a line is an empty line: nothing to report
        if (byte === NL || byte === CR) continue;
      }
      if (byte === NL) {
        events.push(lineEvent(this.takeLine(), at));
        continue;
      }
      this.line.push(byte);
      if (this.line.length >= MAX_LINE) events.push(lineEvent(this.takeLine(), at));
    }
    return events;
  }

  /** Report a trailing partial line (e.g. when the guest is gone). Returns [] if there is none. */
  flush(at: number): SerialEvent[] {
    if (this.line.length === 0) return [];
    return [lineEvent(this.takeLine(), at)];
  }

  /** True while a line has been started but not finished. */
  get midLine(): boolean {
    return this.line.length > 0;
  }

  private takeLine(): string {
    let bytes = this.line;
    this.line = [];
    while (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.slice(0, -1);
    return Buffer.from(bytes).toString('latin1');
  }
}

function lineEvent(line: string, at: number): SerialEvent {
  let m = /^READY (\d+)$/.exec(line);
  if (m) return { type: 'ready', mib: Number(m[1]), at };
  m = /^TSC (\d+)$/.exec(line);
  if (m) return { type: 'tsc', khz: Number(m[1]), at };
  return { type: 'text', line, at };
}

/** Parse a whole buffer at once (e.g. a saved serial log with one timestamp). */
export function parseSerial(data: Uint8Array, at = 0): SerialEvent[] {
  const p = new SerialParser();
  return [...p.feed(data, at), ...p.flush(at)];
}

/** The guest's parameters as its banner line reports them (what is actually in effect). */
export interface GuestBanner {
  protocol: number;
  touch: 'none' | 'read' | 'write';
  dirtyMiBs: number;
  wsMiB: number;
  /** heartbeat period, ms (protocol 2 reports µs: hbus=250 is 0.25) */
  hbMs: number;
  statsMs: number;
  /** usable RAM the guest found (memory map minus the payload), MiB */
  ramMiB: number;
}

/**
 * Parse "MIGDOWN-GUEST 2 touch=read dirty=0 ws=64 hbus=1000 stats=0 ram=2047" (protocol 1
 * said "hb=<ms>" instead of "hbus=<µs>"), else undefined.
 */
export function parseBanner(line: string): GuestBanner | undefined {
  const m =
    /^MIGDOWN-GUEST (\d+) touch=(none|read|write) dirty=(\d+) ws=(\d+) (hb|hbus)=(\d+) stats=(\d+) ram=(\d+)$/.exec(
      line,
    );
  if (!m) return undefined;
  return {
    protocol: Number(m[1]),
    touch: m[2] as GuestBanner['touch'],
    dirtyMiBs: Number(m[3]),
    wsMiB: Number(m[4]),
    hbMs: m[5] === 'hbus' ? Number(m[6]) / 1000 : Number(m[6]),
    statsMs: Number(m[7]),
    ramMiB: Number(m[8]),
  };
}

/** One "STATS" line (opt-in with stats=<ms>); all counters are cumulative since boot. */
export interface GuestStats {
  /** the guest's TSC when it wrote the line */
  tsc: bigint;
  /** 4 KiB pages written by the dirtying loop */
  dirtiedPages: number;
  /** times the dirtying schedule fell > 10 ms behind (guest too slow, or stopped) and reset */
  dirtyResyncs: number;
  /** times the heartbeat schedule was > 2 periods off (guest stopped, TSC jumped) and reset */
  beatResyncs: number;
}

export function parseStatsLine(line: string): GuestStats | undefined {
  const m = /^STATS (\d+) (\d+) (\d+) (\d+)$/.exec(line);
  if (!m) return undefined;
  return {
    tsc: BigInt(m[1]!),
    dirtiedPages: Number(m[2]),
    dirtyResyncs: Number(m[3]),
    beatResyncs: Number(m[4]),
  };
}

/**
 * The guest's dirtying rate between two STATS lines, in MiB/s of guest time
 * (TSC difference / tsc kHz). undefined if the TSC did not advance.
 */
export function statsDirtyRateMiBs(a: GuestStats, b: GuestStats, tscKhz: number): number | undefined {
  const cycles = Number(b.tsc - a.tsc);
  if (!(cycles > 0) || !(tscKhz > 0)) return undefined;
  const seconds = cycles / (tscKhz * 1000);
  return (b.dirtiedPages - a.dirtiedPages) / 256 / seconds;
}

/** Differences between consecutive beat timestamps (ms). Fewer than 2 beats: []. */
export function heartbeatGaps(beats: readonly number[]): number[] {
  const gaps: number[] = [];
  for (let i = 1; i < beats.length; i++) gaps.push(beats[i]! - beats[i - 1]!);
  return gaps;
}

/**
 * Downtime as the guest's heartbeats show it: from the last beat the source emitted to the
 * first beat the destination emitted (both timestamped with the same host clock).
 * undefined when either side has no beats. The gap is reported as measured: a negative value
 * means the two streams overlap, i.e. the timestamps cannot be trusted for this trial.
 */
export function observedDowntime(
  sourceBeats: readonly number[],
  destBeats: readonly number[],
): { gapMs: number; lastSourceBeat: number; firstDestBeat: number } | undefined {
  if (sourceBeats.length === 0 || destBeats.length === 0) return undefined;
  // loops rather than Math.max(...beats): a long trial has too many beats to spread
  let lastSourceBeat = -Infinity;
  for (const t of sourceBeats) if (t > lastSourceBeat) lastSourceBeat = t;
  let firstDestBeat = Infinity;
  for (const t of destBeats) if (t < firstDestBeat) firstDestBeat = t;
  return { gapMs: firstDestBeat - lastSourceBeat, lastSourceBeat, firstDestBeat };
}

/** What the sequence numbers of a run of beats say (protocol 2; beats without one are skipped). */
export interface BeatContinuity {
  /** beats whose number is missing between two that arrived: lost on the way */
  lost: number;
  /** beats that arrived together with the one before (same arrival time): their gaps read 0 */
  merged: number;
}

/** Lost and merged beats in one side's stream, from the numbers and arrival times. */
export function beatContinuity(beats: ReadonlyArray<{ at: number; seq?: number }>): BeatContinuity {
  let lost = 0;
  let merged = 0;
  for (let i = 1; i < beats.length; i++) {
    const a = beats[i - 1]!;
    const b = beats[i]!;
    if (b.at === a.at) merged++;
    if (a.seq !== undefined && b.seq !== undefined) lost += seqDistance(a.seq, b.seq) - 1;
  }
  return { lost, merged };
}

/** How many beats on from `a` to `b` (1 for consecutive beats), modulo 128; 128 for equal numbers. */
export function seqDistance(a: number, b: number): number {
  const d = (((b - a) % HEARTBEAT_SEQ_MOD) + HEARTBEAT_SEQ_MOD) % HEARTBEAT_SEQ_MOD;
  return d === 0 ? HEARTBEAT_SEQ_MOD : d;
}

export interface GapStats {
  median: number;
  p99: number;
  max: number;
  n: number;
}

/** Median, 99th percentile (linear interpolation, R type 7) and maximum; NaN when empty. */
export function gapStats(gaps: readonly number[]): GapStats {
  if (gaps.length === 0) return { median: NaN, p99: NaN, max: NaN, n: 0 };
  const xs = [...gaps];
  return { median: median(xs), p99: quantile(xs, 0.99), max: max(xs), n: xs.length };
}
