import { describe, expect, it } from 'vitest';
import { clockAgreement, summarizeClockAgreement } from '../../src/trial/clock-agreement.js';
import { beatContinuity, parseBanner, parseSerial, seqDistance } from '../../src/guest/heartbeat.js';
import type { DowntimeBreakdown } from '../../src/trace/breakdown.js';

const bd = (endToEndPauseMs?: number) => ({ endToEndPauseMs }) as unknown as DowntimeBreakdown;

describe('heartbeat sequence numbers (guest protocol 2)', () => {
  it('reads 0x80|seq bytes at a line start as numbered beats, and still reads protocol 1 dots', () => {
    const out = parseSerial(Buffer.from([0x80 | 126, 0x80 | 127, 0x80, 0x2e, 0x54, 0x0a]), 3);
    expect(out).toEqual([
      { type: 'beat', at: 3, seq: 126 },
      { type: 'beat', at: 3, seq: 127 },
      { type: 'beat', at: 3, seq: 0 },
      { type: 'beat', at: 3 },
      { type: 'text', line: 'T', at: 3 },
    ]);
  });

  it('counts lost beats across the wrap and beats read together', () => {
    expect(seqDistance(127, 0)).toBe(1);
    expect(seqDistance(5, 5)).toBe(128);
    expect(beatContinuity([
      { at: 1, seq: 126 },
      { at: 2, seq: 127 },
      { at: 2, seq: 0 },
      { at: 4, seq: 3 },
    ])).toEqual({ lost: 2, merged: 1 });
  });

  it('parses both banner versions, the period of protocol 2 in µs', () => {
    expect(parseBanner('MIGDOWN-GUEST 2 touch=read dirty=0 ws=64 hbus=250 stats=0 ram=2047')?.hbMs).toBe(0.25);
    expect(parseBanner('MIGDOWN-GUEST 1 touch=read dirty=0 ws=64 hb=1 stats=0 ram=2047')?.hbMs).toBe(1);
  });
});

describe('clockAgreement', () => {
  it('is honest from -0.5 ms to P + 0.5 ms and flags beyond two periods', () => {
    const g = (observedDowntimeMs: number) => ({ observedDowntimeMs, heartbeatPeriodMs: 1 });
    expect(clockAgreement(g(9), bd(8.37))).toMatchObject({ differenceMs: 0.63, honest: true, flagged: false });
    expect(clockAgreement(g(7.9), bd(8.37))).toMatchObject({ honest: true, flagged: false });
    expect(clockAgreement(g(10), bd(8.37))).toMatchObject({ honest: false, flagged: false });
    expect(clockAgreement(g(13.97), bd(8.37))).toMatchObject({ differenceMs: 5.6, honest: false, flagged: true });
    expect(clockAgreement(g(5), bd(8.37))).toMatchObject({ honest: false, flagged: true });
  });

  it('says whether the reader stamped both edges of the gap on time', () => {
    const beats = (last: number, first: number) => ({ source: { lost: 0, merged: 0 }, destination: { lost: 0, merged: 0 }, lastSourceChunkBeats: last, firstDestinationChunkBeats: first });
    expect(clockAgreement({ observedDowntimeMs: 20, heartbeatPeriodMs: 1, beats: beats(1, 1) }, bd(8))?.edgesReadOnTime).toBe(true);
    expect(clockAgreement({ observedDowntimeMs: 20, heartbeatPeriodMs: 1, beats: beats(1, 3) }, bd(8))?.edgesReadOnTime).toBe(false);
    expect(clockAgreement({ observedDowntimeMs: 20, heartbeatPeriodMs: 1 }, bd(8))?.edgesReadOnTime).toBeUndefined();
  });

  it('needs both measures and a heartbeat', () => {
    expect(clockAgreement({ observedDowntimeMs: 9, heartbeatPeriodMs: 1 }, bd(undefined))).toBeUndefined();
    expect(clockAgreement({ heartbeatPeriodMs: 1 }, bd(8))).toBeUndefined();
    expect(clockAgreement({ observedDowntimeMs: 9, heartbeatPeriodMs: 0 }, bd(8))).toBeUndefined();
  });

  it('summarizes', () => {
    const g = (o: number) => clockAgreement({ observedDowntimeMs: o, heartbeatPeriodMs: 1 }, bd(8));
    expect(summarizeClockAgreement([g(8.5), g(9), g(15), undefined])).toEqual({ n: 3, honest: 2, flagged: 1, medianDifferenceMs: 1, minDifferenceMs: 0.5, maxDifferenceMs: 7 });
  });
});
