import { describe, expect, it } from 'vitest';
import {
  SerialParser,
  gapStats,
  heartbeatGaps,
  observedDowntime,
  parseBanner,
  parseSerial,
  parseStatsLine,
  statsDirtyRateMiBs,
  type SerialEvent,
} from '../../src/guest/heartbeat.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('SerialParser', () => {
  it('parses a whole boot in one chunk', () => {
    const out = parseSerial(
      b('MIGDOWN-GUEST 1 touch=read dirty=0 ws=64 hb=1 stats=0 ram=2047\nREADY 2047\nTSC 2596693\n...'),
      5,
    );
    expect(out).toEqual<SerialEvent[]>([
      { type: 'text', line: 'MIGDOWN-GUEST 1 touch=read dirty=0 ws=64 hb=1 stats=0 ram=2047', at: 5 },
      { type: 'ready', mib: 2047, at: 5 },
      { type: 'tsc', khz: 2596693, at: 5 },
      { type: 'beat', at: 5 },
      { type: 'beat', at: 5 },
      { type: 'beat', at: 5 },
    ]);
  });

  it('keeps partial lines across chunks and stamps a line with the chunk that ends it', () => {
    const p = new SerialParser();
    expect(p.feed(b('REA'), 1)).toEqual([]);
    expect(p.midLine).toBe(true);
    expect(p.feed(b('DY 81'), 2)).toEqual([]);
    expect(p.feed(b('91\nTS'), 3)).toEqual([{ type: 'ready', mib: 8191, at: 3 }]);
    expect(p.feed(b('C 1000\n.'), 4)).toEqual([
      { type: 'tsc', khz: 1000, at: 4 },
      { type: 'beat', at: 4 },
    ]);
    expect(p.midLine).toBe(false);
    expect(p.feed(b('.'), 5)).toEqual([{ type: 'beat', at: 5 }]);
  });

  it("treats '.' inside a line as text and '.' at a line start as a beat", () => {
    const p = new SerialParser();
    expect(p.feed(b('..STATS 1.5 2\n.'), 7)).toEqual([
      { type: 'beat', at: 7 },
      { type: 'beat', at: 7 },
      { type: 'text', line: 'STATS 1.5 2', at: 7 },
      { type: 'beat', at: 7 },
    ]);
  });

  it('strips CR, skips empty lines, reports other lines as text', () => {
    const p = new SerialParser();
    expect(p.feed(b('\r\n\nERR no memory map from the bootloader\r\nREADY x\nTSC 12 \n'), 1)).toEqual([
      { type: 'text', line: 'ERR no memory map from the bootloader', at: 1 },
      { type: 'text', line: 'READY x', at: 1 },
      { type: 'text', line: 'TSC 12 ', at: 1 },
    ]);
  });

  it('flushes a trailing partial line', () => {
    const p = new SerialParser();
    p.feed(b('.PANIC exception 13'), 1);
    expect(p.flush(9)).toEqual([{ type: 'text', line: 'PANIC exception 13', at: 9 }]);
    expect(p.flush(10)).toEqual([]);
  });

  it('cuts runaway lines instead of buffering forever', () => {
    const p = new SerialParser();
    const ev = p.feed(Buffer.alloc(10_000, 0x41), 1);
    expect(ev.length).toBe(2);
    expect(ev.every((e) => e.type === 'text')).toBe(true);
    expect(p.midLine).toBe(true);
  });

  it('accepts any Uint8Array', () => {
    const p = new SerialParser();
    expect(p.feed(new Uint8Array([0x2e, 0x2e]), 3)).toHaveLength(2);
  });
});

describe('banner and STATS lines', () => {
  it('parses the banner', () => {
    expect(parseBanner('MIGDOWN-GUEST 1 touch=write dirty=256 ws=1024 hb=1 stats=1000 ram=8191')).toEqual({
      protocol: 1,
      touch: 'write',
      dirtyMiBs: 256,
      wsMiB: 1024,
      hbMs: 1,
      statsMs: 1000,
      ramMiB: 8191,
    });
    expect(parseBanner('READY 1')).toBeUndefined();
  });

  it('parses STATS and derives the dirty rate from TSC time', () => {
    const a = parseStatsLine('STATS 2367569247421 52853 55 32')!;
    const c = parseStatsLine('STATS 2370166247421 118389 55 32')!;
    expect(a).toEqual({ tsc: 2367569247421n, dirtiedPages: 52853, dirtyResyncs: 55, beatResyncs: 32 });
    // 2_597_000_000 cycles at 2_597_000 kHz = 1 s; 65536 pages = 256 MiB
    expect(statsDirtyRateMiBs(a, c, 2_597_000)).toBeCloseTo(256, 6);
    expect(statsDirtyRateMiBs(c, a, 2_597_000)).toBeUndefined();
    expect(statsDirtyRateMiBs(a, c, 0)).toBeUndefined();
    expect(parseStatsLine('STATS 1 2 3')).toBeUndefined();
  });
});

describe('heartbeatGaps', () => {
  it('returns consecutive differences', () => {
    expect(heartbeatGaps([10, 11, 13, 13, 20])).toEqual([1, 2, 0, 7]);
  });
  it('needs two beats', () => {
    expect(heartbeatGaps([])).toEqual([]);
    expect(heartbeatGaps([5])).toEqual([]);
  });
});

describe('observedDowntime', () => {
  it('measures from the last source beat to the first destination beat', () => {
    expect(observedDowntime([1, 2, 3, 4.5], [40.25, 41, 42])).toEqual({
      gapMs: 35.75,
      lastSourceBeat: 4.5,
      firstDestBeat: 40.25,
    });
  });
  it('does not assume sorted input', () => {
    expect(observedDowntime([3, 9, 1], [50, 20, 30])).toEqual({ gapMs: 11, lastSourceBeat: 9, firstDestBeat: 20 });
  });
  it('is undefined without beats on either side', () => {
    expect(observedDowntime([], [1])).toBeUndefined();
    expect(observedDowntime([1], [])).toBeUndefined();
  });
  it('reports overlapping streams as a negative gap rather than hiding them', () => {
    expect(observedDowntime([1, 5], [4, 6])?.gapMs).toBe(-1);
  });
  it('copes with a million beats', () => {
    const src = Array.from({ length: 1_000_000 }, (_, i) => i);
    expect(observedDowntime(src, [1_000_100])?.gapMs).toBe(101);
  });
});

describe('gapStats', () => {
  it('computes median, p99, max and n', () => {
    const gaps = [...Array.from({ length: 99 }, () => 1), 100];
    const s = gapStats(gaps);
    expect(s.n).toBe(100);
    expect(s.median).toBe(1);
    expect(s.max).toBe(100);
    // R type 7: position 0.99 * 99 = 98.01 between 1 and 100
    expect(s.p99).toBeCloseTo(1 + 0.01 * 99, 9);
  });
  it('does not reorder its input', () => {
    const gaps = [3, 1, 2];
    gapStats(gaps);
    expect(gaps).toEqual([3, 1, 2]);
  });
  it('is NaN with n=0 for no gaps', () => {
    const s = gapStats([]);
    expect(s.n).toBe(0);
    expect(s.median).toBeNaN();
    expect(s.p99).toBeNaN();
    expect(s.max).toBeNaN();
  });
});
