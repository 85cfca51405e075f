// The host side of the migdown guest's serial protocol (guest/README.md), as pure functions:
// no sockets, no processes, no clocks. Whoever reads the serial chardev timestamps each chunk
// (performance.now(), ms) and feeds it to a SerialParser; the statistics below then work on
// the timestamps of the heartbeats.
//
// Protocol summary: the guest writes whole lines ("READY <MiB>\n", "TSC <kHz>\n", a banner,
// optional "STATS ...", "ERR ...", "PANIC ...") and, once running, single heartbeat bytes '.'.
// No line ever starts with '.', and the guest never writes a heartbeat in the middle of a line,
// so a '.' at the start of a line is a heartbeat and anything else starts a text line.
//
// Timestamps are arrival times of chunks, not emission times: beats that arrive in the same
// chunk share one timestamp (their gaps read as 0 and the next gap as the sum). With a 1 ms
// heartbeat and a reader that is not starved this is rare; it is the reader's resolution.

import { max, median, quantile } from 'simple-statistics';

/** The heartbeat byte the guest writes. */
export const HEARTBEAT_BYTE = 0x2e; // '.'

export type SerialEvent =
  /** the guest has touched its RAM; `mib` is how much it touched (0 for touch=none) */
  | { type: 'ready'; mib: number; at: number }
  /** the guest's TSC frequency as it calibrated it against the PIT */
  | { type: 'tsc'; khz: number; at: number }
  /** one heartbeat */
  | { type: 'beat'; at: number }
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
  hbMs: number;
  statsMs: number;
  /** usable RAM the guest found (memory map minus the payload), MiB */
  ramMiB: number;
}

/** Parse "MIGDOWN-GUEST 1 touch=read dirty=0 ws=64 hb=1 stats=0 ram=2047", else undefined. */
export function parseBanner(line: string): GuestBanner | undefined {
  const m =
    /^MIGDOWN-GUEST (\d+) touch=(none|read|write) dirty=(\d+) ws=(\d+) hb=(\d+) stats=(\d+) ram=(\d+)$/.exec(
      line,
    );
  if (!m) return undefined;
  return {
    protocol: Number(m[1]),
    touch: m[2] as GuestBanner['touch'],
    dirtyMiBs: Number(m[3]),
    wsMiB: Number(m[4]),
    hbMs: Number(m[5]),
    statsMs: Number(m[6]),
    ramMiB: Number(m[7]),
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
