// The trace parser and the downtime breakdown, on QEMU's own logs (test/fixtures/trace/, see its
// README for how each was recorded) and on a few lines written here for cases a real migration
// on this machine does not produce.

import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  NO_TRACEPOINTS_NOTE,
  TRACE_EVENTS,
  computeBreakdown,
  hasDowntimeTracepoints,
  traceArgs,
  type DowntimeBreakdown,
} from '../../src/trace/breakdown.js';
import { compareBreakdowns, summarizeBreakdowns } from '../../src/stats/breakdown.js';
import {
  checkpointOf,
  deviceTimeOf,
  dirtyBitmaskOf,
  kvmSlotUpdateOf,
  parseTraceLine,
  parseTraceLog,
} from '../../src/trace/trace-log.js';

const DIR = new URL('../fixtures/trace/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, DIR), 'utf8');
const pair = (name: string): [string, string] => [fixture(`${name}.source.log`), fixture(`${name}.destination.log`)];
/** QEMU's own `downtime` from the recorded `info migrate` (ms, either layout). */
const reportedDowntime = (name: string): number => {
  const text = fixture(`${name}.info-migrate.txt`);
  const m = /^downtime: (\d+) ms/m.exec(text) ?? /down=(\d+)/.exec(text);
  return Number(m![1]);
};
const sum = (b: DowntimeBreakdown) => b.phases.reduce((s, p) => s + p.durationMs, 0);

const NORMAL_ORDER = [
  ['src-downtime-start>src-vm-stopped', 'stop the VM (vCPUs, handlers, drain)', 'source'],
  ['src-vm-stopped>src-iterable-saved', 'save iterables (switchover, RAM)', 'source'],
  ['src-iterable-saved>src-non-iterable-saved', 'save device state (non-iterable)', 'source'],
  ['src-non-iterable-saved>src-downtime-end', 'end of stream on the source', 'source'],
  ['src-downtime-end>dst-precopy-loadvm-completed', 'destination finishes loading', 'both'],
  ['dst-precopy-loadvm-completed>dst-precopy-bh-enter', 'bottom half scheduled', 'destination'],
  ['dst-precopy-bh-enter>dst-precopy-bh-announced', 'announce', 'destination'],
  ['dst-precopy-bh-announced>dst-precopy-bh-vm-started', 'start VM', 'destination'],
];

describe('parseTraceLog', () => {
  it('reads QEMU 10.0 lines: TID@SECONDS.MICROS:event args', () => {
    const ev = parseTraceLine('3004@1795669300.276956:vmstate_downtime_save type=iterable idstr=ram instance_id=0 downtime=49360', 7)!;
    expect(ev).toEqual({
      line: 7,
      tid: 3004,
      timeUs: 1795669300276956,
      name: 'vmstate_downtime_save',
      argsText: 'type=iterable idstr=ram instance_id=0 downtime=49360',
      args: { type: 'iterable', idstr: 'ram', instance_id: '0', downtime: '49360' },
    });
  });

  it('reads QEMU 11.1 lines: ISO-8601 UTC time, no thread id', () => {
    const ev = parseTraceLine('2026-11-26T05:01:42.174908Z vmstate_downtime_checkpoint src-downtime-start')!;
    expect(ev.timeUs).toBe(Date.UTC(2026, 10, 26, 5, 1, 42) * 1000 + 174908);
    expect(ev.tid).toBeUndefined();
    expect(checkpointOf(ev)).toBe('src-downtime-start');
  });

  it('reads lines without -msg timestamp=on, but without a time', () => {
    const ev = parseTraceLine('vmstate_downtime_checkpoint src-vm-stopped')!;
    expect(ev.timeUs).toBeUndefined();
    expect(checkpointOf(ev)).toBe('src-vm-stopped');
  });

  it('parses every line of every recorded log as an event', () => {
    const logs = readdirSync(DIR).filter((f) => f.endsWith('.log'));
    expect(logs.length).toBeGreaterThanOrEqual(10);
    for (const f of logs) {
      const text = fixture(f);
      const log = parseTraceLog(text);
      expect(log.unknown, f).toEqual([]);
      expect(log.events.length, f).toBe(text.split('\n').filter((l) => l.trim()).length);
      for (const ev of log.events) expect(ev.timeUs, `${f}:${ev.line}`).toBeGreaterThan(1.7e15);
    }
  });

  it('keeps what it does not recognise, with line numbers, and skips blank lines', () => {
    const log = parseTraceLog(
      [
        '2026-11-26T04:59:37.370801Z qemu-system-x86_64: warning: host does not support requested feature',
        '',
        '26939@1795669177.700391:vmstate_downtime_checkpoint src-downtime-start\r',
        'garbage',
        '26939@1795669177.7007', // half a line, as when a log is read while QEMU writes it
      ].join('\n'),
    );
    expect(log.events.map((e) => [e.line, checkpointOf(e)])).toEqual([[3, 'src-downtime-start']]);
    expect(log.unknown.map((u) => u.line)).toEqual([1, 4, 5]);
    expect(log.unknown[0]!.text).toMatch(/^2026-11-26T04:59:37\.370801Z qemu-system-x86_64: warning/);
  });

  it('never throws, whatever it is given', () => {
    for (const bad of ['', '\n\n', '\u0000\u0001@@::', '1@2.3:', 'x'.repeat(100_000), undefined, null, 42]) {
      expect(() => parseTraceLog(bad as unknown as string)).not.toThrow();
    }
  });

  it('reads per-device times, including idstrs with : / and spaces', () => {
    const ev = parseTraceLine('2991@1795669300.306598:vmstate_downtime_load type=non-iterable idstr=0000:00:00.0/I440FX instance_id=0 downtime=20316')!;
    expect(deviceTimeOf(ev)).toEqual({ op: 'load', type: 'non-iterable', idstr: '0000:00:00.0/I440FX', instance: 0, us: 20316 });
    const spaced = parseTraceLine('1@1.000001:vmstate_downtime_save type=non-iterable idstr=my dev/x instance_id=3 downtime=5')!;
    expect(deviceTimeOf(spaced)).toMatchObject({ op: 'save', idstr: 'my dev/x', instance: 3, us: 5 });
    expect(deviceTimeOf(parseTraceLine('1@1.000001:vmstate_downtime_checkpoint src-vm-stopped')!)).toBeUndefined();
  });

  it('reads the global dirty bitmask and KVM slot updates of 7.2 and 10.0', () => {
    expect(dirtyBitmaskOf(parseTraceLine('10047@1795669413.452990:global_dirty_changed bitmask 0x0')!)).toBe(0);
    expect(dirtyBitmaskOf(parseTraceLine('3114@1795669301.371540:global_dirty_changed bitmask 0x5')!)).toBe(5);
    const v72 = parseTraceLine('28979@1795669209.209616:kvm_set_user_memory Slot#0 flags=0x1 gpa=0x0 size=0xc0000 ua=0x7ff46fe00000 ret=0')!;
    expect(kvmSlotUpdateOf(v72)).toEqual({ slot: 0, flags: 1, gpa: 0, size: 0xc0000, ret: 0 });
    const v10 = parseTraceLine(
      '10047@1795669413.455878:kvm_set_user_memory AddrSpace#0 Slot#3 flags=0x2 gpa=0xfffc0000 size=0x40000 ua=0x7fd12d000000 guest_memfd=-1 guest_memfd_offset=0x0 ret=0',
    )!;
    expect(kvmSlotUpdateOf(v10)).toEqual({ addressSpace: 0, slot: 3, flags: 2, gpa: 0xfffc0000, size: 0x40000, ret: 0 });
  });
});

describe('traceArgs / hasDowntimeTracepoints', () => {
  it('asks for the checkpoints, per-device times, dirty logging and KVM slots, with timestamps, into the log', () => {
    expect(traceArgs('/run/d/src.trace.log')).toEqual([
      '-trace', 'vmstate_downtime_checkpoint',
      '-trace', 'vmstate_downtime_save',
      '-trace', 'vmstate_downtime_load',
      '-trace', 'global_dirty_changed',
      '-trace', 'kvm_set_user_memory',
      '-trace', 'vm_state_notify',
      '-msg', 'timestamp=on',
      '-D', '/run/d/src.trace.log',
    ]);
    expect(TRACE_EVENTS).toHaveLength(6);
  });

  it('finds vmstate_downtime_checkpoint as a whole line of `-trace help`', () => {
    // Excerpts of `qemu-system-x86_64 -trace help` (one name per line, on stdout).
    const q10 = 'vmstate_save\nvmstate_downtime_save\nvmstate_downtime_load\nvmstate_downtime_checkpoint\nglobal_dirty_changed\n';
    const q72 = 'vmstate_save\nvmstate_load\nglobal_dirty_changed\nqmp_enter_xen_set_global_dirty_log\n';
    expect(hasDowntimeTracepoints(q10)).toBe(true);
    expect(hasDowntimeTracepoints(q10.replace(/\n/g, '\r\n'))).toBe(true);
    expect(hasDowntimeTracepoints(q72)).toBe(false);
    expect(hasDowntimeTracepoints('vmstate_downtime_checkpoint_v2\nx_vmstate_downtime_checkpoint\n')).toBe(false);
    expect(hasDowntimeTracepoints('')).toBe(false);
    expect(hasDowntimeTracepoints(undefined as unknown as string)).toBe(false);
  });
});

describe('computeBreakdown on QEMU 10.0.2 logs (one host)', () => {
  const b = computeBreakdown(...pair('qemu-10.0.2-idle'), { sameHost: true });

  it('gives the phases of the pause, in order, from the checkpoints', () => {
    expect(b.available).toBe(true);
    expect(b.clock).toBe('shared');
    expect(b.phases.map((p) => [p.key, p.name, p.side])).toEqual(NORMAL_ORDER);
    expect(b.phases.map((p) => p.durationMs)).toEqual([9.391, 49.428, 7.985, 0.014, 21.993, 0.034, 0.018, 0.075]);
    expect(b.phases.map((p) => p.startUs)).toEqual([0, 9391, 58819, 66804, 66818, 88811, 88845, 88863]);
    expect(b.notes).toEqual([]);
  });

  it('adds the phases up to the end-to-end pause, and the source part to QEMU’s downtime', () => {
    expect(b.endToEndPauseMs).toBe(88.938);
    expect(sum(b)).toBeCloseTo(b.endToEndPauseMs!, 2);
    expect(b.sourceDowntimeMs).toBe(66.818);
    expect(Math.abs(b.sourceDowntimeMs! - reportedDowntime('qemu-10.0.2-idle'))).toBeLessThan(1);
    expect(b.endToEndPauseMs!).toBeGreaterThan(b.sourceDowntimeMs!);
  });

  it('names the slowest devices on each side, and attributes their time to phases', () => {
    expect(b.topDevices.save[0]).toEqual({ idstr: 'ram', instance: 0, type: 'iterable', us: 49360 });
    expect(b.topDevices.load.slice(0, 2)).toEqual([
      { idstr: 'ram', instance: 0, type: 'iterable', us: 45846 },
      { idstr: '0000:00:00.0/I440FX', instance: 0, type: 'non-iterable', us: 20316 },
    ]);
    expect(b.topDevices.save).toHaveLength(5);
    expect(b.topDevices.load).toHaveLength(5);
    const us = b.topDevices.save.map((d) => d.us);
    expect(us).toEqual([...us].sort((x, y) => y - x));
    const ram = b.phases.find((p) => p.to === 'src-iterable-saved')!;
    expect(ram.deviceUs).toBe(49360);
    // A phase's device time never exceeds the phase (source saves vs destination loads are not mixed).
    for (const p of b.phases) expect(p.deviceUs / 1000, p.key).toBeLessThanOrEqual(p.durationMs + 0.001);
    expect(b.deviceTotalsUs.save).toBeGreaterThan(49360);
  });

  it('says dirty logging was not stopped inside the pause (QEMU postpones it while the VM is stopped)', () => {
    expect(b.dirtyLogStop.inPause).toBe(false);
    expect(b.dirtyLogStop.startedAtMsRelativeToPauseStart).toBe(-86.619);
    expect(b.dirtyLogStop.atMsRelativeToPauseStart).toBeUndefined();
    expect(b.dirtyLogStop.note).toMatch(/not switched off by the end of the source trace/);
  });

  it('counts the trace lines written inside the pause', () => {
    expect(b.traceLinesInPause).toBeGreaterThan(50);
  });

  it('lists the checkpoints relative to the pause start', () => {
    expect(b.checkpoints[0]).toEqual({ name: 'src-downtime-start', side: 'source', atUs: 0 });
    expect(b.checkpoints.at(-1)).toEqual({ name: 'dst-precopy-bh-vm-started', side: 'destination', atUs: 88938 });
  });

  it('is plain data', () => {
    expect(JSON.parse(JSON.stringify(b))).toEqual(b);
  });

  for (const [name, e2e, src] of [
    ['qemu-10.0.2-guest', 3.88, 1.544],
    ['qemu-11.1.3-idle', 2.684, 1.408],
  ] as const) {
    it(`${name}: same phases, adding up to ${e2e} ms`, () => {
      const x = computeBreakdown(...pair(name), { sameHost: true });
      expect(x.phases.map((p) => p.key)).toEqual(NORMAL_ORDER.map((o) => o[0]));
      expect(x.endToEndPauseMs).toBe(e2e);
      expect(x.sourceDowntimeMs).toBe(src);
      expect(Math.abs(sum(x) - e2e)).toBeLessThan(0.005);
      expect(Math.abs(x.sourceDowntimeMs! - reportedDowntime(name))).toBeLessThan(1);
      expect(x.dirtyLogStop.inPause).toBe(false);
      expect(x.notes).toEqual([]);
    });
  }
});

describe('computeBreakdown without a shared clock', () => {
  const b = computeBreakdown(...pair('qemu-10.0.2-idle'), { sameHost: false });

  it('breaks each side down on its own, with nothing spanning them and no end-to-end pause', () => {
    expect(b.clock).toBe('per-side');
    expect(b.endToEndPauseMs).toBeUndefined();
    expect(b.phases.some((p) => p.side === 'both')).toBe(false);
    expect(b.phases.map((p) => p.key)).toEqual(NORMAL_ORDER.filter((o) => o[2] !== 'both').map((o) => o[0]));
    const srcSum = b.phases.filter((p) => p.side === 'source').reduce((s, p) => s + p.durationMs, 0);
    expect(srcSum).toBeCloseTo(b.sourceDowntimeMs!, 2);
    expect(b.phases.find((p) => p.side === 'destination')!.startUs).toBe(0);
    expect(b.notes.join('\n')).toMatch(/do not share a clock/);
    expect(b.traceLinesInPause).toBeUndefined();
  });
});

describe('computeBreakdown when it cannot break the pause down', () => {
  it('QEMU 7.2: one note, and dirty logging seen switched on but with no pause to compare with', () => {
    const b = computeBreakdown(...pair('qemu-7.2.22'), { sameHost: true });
    expect(b.available).toBe(false);
    expect(b.notes).toEqual([NO_TRACEPOINTS_NOTE]);
    expect(b.phases).toEqual([]);
    expect(b.endToEndPauseMs).toBeUndefined();
    expect(b.dirtyLogStop.inPause).toBeUndefined();
    expect(b.dirtyLogStop.note).toMatch(/still on at the end of the source trace; without the vmstate_downtime checkpoints/);
  });

  it('no logs at all: the same one note', () => {
    const b = computeBreakdown('', '', { sameHost: true });
    expect(b.notes).toEqual([NO_TRACEPOINTS_NOTE]);
    expect(b.dirtyLogStop.inPause).toBeUndefined();
    expect(() => computeBreakdown(undefined as unknown as string, null as unknown as string, { sameHost: true })).not.toThrow();
  });

  it('a cancelled migration: no pause, but the dirty-logging stop and how long it took', () => {
    const b = computeBreakdown(...pair('qemu-10.0.2-cancelled'), { sameHost: true });
    expect(b.available).toBe(false);
    expect(b.notes.join('\n')).toMatch(/no src-downtime-start checkpoint/);
    expect(b.dirtyLogStop.inPause).toBeUndefined();
    // global_dirty_changed bitmask 0x0 at .452990, last slot re-registered without dirty logging at .455878
    expect(b.dirtyLogStop.durationMs).toBe(2.888);
    expect(b.dirtyLogStop.note).toMatch(/switched off, taking 2\.888 ms.*never reached the pause/);
  });

  it('no destination log: the source phases, no end-to-end pause, a note', () => {
    const b = computeBreakdown(fixture('qemu-10.0.2-idle.source.log'), '', { sameHost: true });
    expect(b.available).toBe(true);
    expect(b.endToEndPauseMs).toBeUndefined();
    expect(b.phases.map((p) => p.side)).toEqual(['source', 'source', 'source', 'source']);
    expect(b.notes.join('\n')).toMatch(/no VM-started checkpoint/);
  });
});

describe('computeBreakdown on orders and events a plain precopy here does not show', () => {
  const line = (tid: number, t: string, rest: string) => `${tid}@1700000000.${t}:${rest}`;
  const cp = (tid: number, t: string, name: string) => line(tid, t, `vmstate_downtime_checkpoint ${name}`);

  it('dirty logging stopped inside the pause, with the KVM slot updates that show how long it took', () => {
    const src = [
      line(1, '000000', 'global_dirty_changed bitmask 0x1'),
      cp(2, '100000', 'src-downtime-start'),
      cp(2, '100500', 'src-vm-stopped'),
      line(2, '101000', 'global_dirty_changed bitmask 0x0'),
      line(2, '101300', 'kvm_set_user_memory AddrSpace#0 Slot#0 flags=0x0 gpa=0x0 size=0x20000000 ua=0x1 guest_memfd=-1 guest_memfd_offset=0x0 ret=0'),
      line(2, '101350', 'kvm_set_user_memory AddrSpace#0 Slot#3 flags=0x2 gpa=0xfffc0000 size=0x40000 ua=0x2 guest_memfd=-1 guest_memfd_offset=0x0 ret=0'),
      line(1, '101360', 'kvm_set_user_memory AddrSpace#0 Slot#9 flags=0x0 gpa=0x0 size=0x1000 ua=0x3 ret=0'), // another thread: not part of it
      cp(2, '102000', 'src-iterable-saved'),
      cp(2, '103000', 'src-non-iterable-saved'),
      cp(2, '103100', 'src-downtime-end'),
    ].join('\n');
    const dst = [cp(9, '104000', 'dst-precopy-loadvm-completed'), cp(9, '104100', 'dst-precopy-bh-enter'), cp(9, '104200', 'dst-precopy-bh-announced'), cp(9, '104900', 'dst-precopy-bh-vm-started')].join('\n');
    const b = computeBreakdown(src, dst, { sameHost: true });
    expect(b.dirtyLogStop).toEqual({
      inPause: true,
      startedAtMsRelativeToPauseStart: -100,
      atMsRelativeToPauseStart: 1,
      durationMs: 0.35,
      note: 'dirty logging was switched off inside the pause, 1 ms after it began, taking 0.35 ms to re-register the KVM memory slots',
    });
    expect(b.endToEndPauseMs).toBe(4.9);
  });

  it('dirty logging stopped after the pause, without slot updates in the trace', () => {
    const src = [
      line(1, '000000', 'global_dirty_changed bitmask 0x1'),
      cp(2, '100000', 'src-downtime-start'),
      cp(2, '103100', 'src-downtime-end'),
      line(1, '300000', 'global_dirty_changed bitmask 0x0'),
    ].join('\n');
    const b = computeBreakdown(src, cp(9, '104900', 'dst-precopy-bh-vm-started'), { sameHost: true });
    expect(b.dirtyLogStop.inPause).toBe(false);
    expect(b.dirtyLogStop.atMsRelativeToPauseStart).toBe(200);
    expect(b.dirtyLogStop.durationMs).toBeUndefined();
    expect(b.dirtyLogStop.note).toMatch(/after the pause, 195\.1 ms after it ended \(no KVM slot updates/);
  });

  it('a return path: the source closes its downtime after the destination VM started', () => {
    const src = [cp(2, '100000', 'src-downtime-start'), cp(2, '100400', 'src-vm-stopped'), cp(2, '101000', 'src-iterable-saved'), cp(2, '101500', 'src-non-iterable-saved'), cp(2, '106000', 'src-downtime-end')].join('\n');
    const dst = [cp(9, '103000', 'dst-precopy-loadvm-completed'), cp(9, '103100', 'dst-precopy-bh-enter'), cp(9, '103200', 'dst-precopy-bh-announced'), cp(9, '104000', 'dst-precopy-bh-vm-started')].join('\n');
    const b = computeBreakdown(src, dst, { sameHost: true });
    expect(b.phases.map((p) => p.key)).toEqual([
      'src-downtime-start>src-vm-stopped',
      'src-vm-stopped>src-iterable-saved',
      'src-iterable-saved>src-non-iterable-saved',
      'src-non-iterable-saved>dst-precopy-loadvm-completed',
      'dst-precopy-loadvm-completed>dst-precopy-bh-enter',
      'dst-precopy-bh-enter>dst-precopy-bh-announced',
      'dst-precopy-bh-announced>dst-precopy-bh-vm-started',
    ]);
    expect(b.phases[3]!.name).toBe('src-non-iterable-saved → dst-precopy-loadvm-completed');
    expect(b.phases[3]!.side).toBe('both');
    expect(sum(b)).toBeCloseTo(4, 6);
    expect(b.endToEndPauseMs).toBe(4);
    expect(b.sourceDowntimeMs).toBe(6);
    expect(b.notes).toEqual(['src-downtime-end came 2 ms after the destination VM started, outside the pause']);
  });

  it('a repeated checkpoint uses the first and says so; untimed lines are noted', () => {
    const src = [cp(2, '100000', 'src-downtime-start'), cp(2, '100100', 'src-downtime-end'), cp(2, '100200', 'src-downtime-end'), 'vmstate_downtime_checkpoint src-vm-stopped'].join('\n');
    const b = computeBreakdown(src, cp(9, '100300', 'dst-precopy-bh-vm-started'), { sameHost: true });
    expect(b.sourceDowntimeMs).toBe(0.1);
    expect(b.notes).toContain('checkpoint src-downtime-end appears more than once; the first is used');
    expect(b.notes.join('\n')).toMatch(/-msg timestamp=on/);
  });
});

describe('summarizeBreakdowns / compareBreakdowns', () => {
  const idle = computeBreakdown(...pair('qemu-10.0.2-idle'), { sameHost: true });
  const guest = computeBreakdown(...pair('qemu-10.0.2-guest'), { sameHost: true });
  const q11 = computeBreakdown(...pair('qemu-11.1.3-idle'), { sameHost: true });
  const none = computeBreakdown(...pair('qemu-7.2.22'), { sameHost: true });

  it('takes the median of each phase across trials', () => {
    const s = summarizeBreakdowns([idle, guest, q11, none]);
    expect(s.n).toBe(3);
    expect(s.unavailable).toBe(1);
    expect(s.phases.map((p) => p.key)).toEqual(NORMAL_ORDER.map((o) => o[0]));
    const stop = s.phases[0]!;
    expect(stop).toEqual({ key: NORMAL_ORDER[0]![0], name: 'stop the VM (vCPUs, handlers, drain)', side: 'source', n: 3, medianMs: 0.17, minMs: 0.157, maxMs: 9.391 });
    expect(s.phases[1]!.medianMs).toBe(0.294); // 49.428, 0.294, 0.032
    expect(s.endToEndPauseMs).toEqual({ n: 3, medianMs: 3.88, minMs: 2.684, maxMs: 88.938 });
    expect(s.sourceDowntimeMs!.medianMs).toBe(1.544);
    expect(s.dirtyLogStop).toEqual({ inPause: 0, outside: 3, unknown: 0 });
    // Trials keep their top 5 only: on 11.1 RAM's final pass took 3 µs and did not make it.
    expect(s.topDevices.save[0]).toEqual({ idstr: 'ram', instance: 0, type: 'iterable', n: 2, medianUs: (49360 + 280) / 2 });
    expect(s.notes).toEqual(['1 trial(s) without a breakdown']);
  });

  it('summarises nothing without failing', () => {
    const s = summarizeBreakdowns([]);
    expect(s).toMatchObject({ n: 0, unavailable: 0, phases: [] });
    expect(s.endToEndPauseMs).toBeUndefined();
  });

  it('gives the change of each phase median from A to B (B − A)', () => {
    const c = compareBreakdowns([idle], [guest]);
    expect(c.phases.map((p) => p.key)).toEqual(NORMAL_ORDER.map((o) => o[0]));
    const ram = c.phases[1]!;
    expect(ram).toEqual({
      key: 'src-vm-stopped>src-iterable-saved',
      name: 'save iterables (switchover, RAM)',
      side: 'source',
      nA: 1,
      nB: 1,
      medianA: 49.428,
      medianB: 0.294,
      deltaMs: -49.134,
      deltaPct: -99.4,
    });
    expect(c.endToEndPauseMs).toMatchObject({ medianA: 88.938, medianB: 3.88, deltaMs: -85.058 });
    expect(c.sourceDowntimeMs).toMatchObject({ medianA: 66.818, medianB: 1.544 });
    expect(c.notes).toEqual([]);
    // Summaries work as inputs too.
    expect(compareBreakdowns(summarizeBreakdowns([idle]), summarizeBreakdowns([guest]))).toEqual(c);
  });

  it('says when a side has no breakdowns or a phase exists on one side only', () => {
    const c = compareBreakdowns([none], [guest]);
    expect(c.phases.every((p) => p.nA === 0 && p.deltaMs === undefined)).toBe(true);
    expect(c.notes.join('\n')).toMatch(/A 0, B 1/);
  });
});
