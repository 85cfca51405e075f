// Host noise facts parsed from /proc text captured on a real host (test/fixtures/host/), and
// the verdict on them (src/stats/noise.ts).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { governorsOf, otherQemuProcesses, parseLoadAvg, parseOwnTicks, parseProcStat, trialNoise, type ProcEntry } from '../../src/trial/host-noise.js';
import { assessNoise, noiseReasons } from '../../src/stats/noise.js';
import type { RunHeader, TrialRecord } from '../../src/trial/types.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/host/${name}`, import.meta.url), 'utf8');

describe('host noise parsers', () => {
  it('reads /proc/loadavg and the aggregate line of /proc/stat', () => {
    expect(parseLoadAvg(fixture('loadavg.txt'))).toEqual([expect.any(Number), expect.any(Number), expect.any(Number)]);
    expect(parseLoadAvg('garbage')).toBeUndefined();
    // cpu  75292 25227 30980 40966 671 0 313 295 4588 0: guest (4588) is inside user already
    expect(parseProcStat(fixture('proc-stat.txt'))).toEqual({ total: 75292 + 25227 + 30980 + 40966 + 671 + 0 + 313 + 295, idle: 40966 + 671, steal: 295 });
    expect(parseProcStat('intr 1 2 3')).toBeUndefined();
  });

  it("sums a process's own and reaped children's CPU ticks, even with spaces and parentheses in its name", () => {
    expect(parseOwnTicks(fixture('self-stat.txt'))).toEqual(expect.any(Number));
    const stat = '42 (a (b) c) S 1 42 42 0 -1 4194304 99 0 0 0 7 3 2 1 20 0 1 0 45539 3133440 389';
    expect(parseOwnTicks(stat)).toBe(13);
  });

  it("finds other QEMUs but not this migdown's own, nor zombies", () => {
    const [qemu, parent] = JSON.parse(fixture('processes.json')) as [ProcEntry, ProcEntry];
    expect(otherQemuProcesses([qemu, parent], parent.pid)).toEqual([]);
    expect(otherQemuProcesses([qemu, parent], 999_999)).toEqual([{ pid: qemu.pid, name: 'qemu-system-x86_64' }]);
    const zombie = { ...qemu, stat: qemu.stat.replace(') S ', ') Z ') };
    expect(otherQemuProcesses([zombie, parent], 999_999)).toEqual([]);
    // a loader running QEMU (scripts/fetch-qemu.sh wrappers) still counts
    const loaded = { ...qemu, cmdline: '/opt/q/loader/ld.so\0--argv0\0/opt/q/usr/bin/qemu-system-x86_64\0-m\0' };
    expect(otherQemuProcesses([loaded], 999_999)).toHaveLength(1);
  });

  it('lists distinct governors and computes steal and others’ CPU over a trial', () => {
    expect(governorsOf(['schedutil\n', 'performance\n', 'schedutil\n'])).toEqual(['performance', 'schedutil']);
    expect(governorsOf([])).toBeUndefined();
    const before = { loadAvg1: 1.5, otherQemus: 0, cpus: 2, ownTicks: 100, cpu: { total: 10_000, idle: 6000, steal: 10 } };
    // 200 ticks over 2 CPUs = one second; 120 busy of which migdown 60; 10 stolen
    const after = { loadAvg1: 1.7, otherQemus: 1, cpus: 2, ownTicks: 160, cpu: { total: 10_200, idle: 6070, steal: 20 } };
    expect(trialNoise(before, after)).toEqual({ loadAvg1: 1.5, otherQemus: 1, stealPct: 5, othersCpus: 0.6 });
  });
});

describe('noise verdict', () => {
  const header = {
    kind: 'header',
    runId: 'r',
    variants: [{ label: 'run' }],
    hostNoise: { loadAvg: [0.2, 0.1, 0.1], cpus: 2, otherQemus: [] },
  } as unknown as RunHeader;
  const trial = (noise: TrialRecord['noise'], guest?: TrialRecord['guest']) =>
    ({ kind: 'trial', runId: 'r', variant: 'run', warmup: false, status: 'completed', noise, ...(guest && { guest }) }) as unknown as TrialRecord;

  it('says nothing about a quiet host', () => {
    const a = assessNoise(header, [trial({ loadAvg1: 0.3, otherQemus: 0, stealPct: 0.5, othersCpus: 0.1 })]);
    expect(a.warning).toBeUndefined();
  });

  it('names every threshold crossed, with its figure, in one line', () => {
    const busy = { ...header, hostNoise: { loadAvg: [1.69, 0.9, 0.4], cpus: 2, otherQemus: [{ pid: 7, name: 'qemu-system-x86_64' }], governors: ['powersave'] } } as RunHeader;
    const a = assessNoise(busy, [trial({ loadAvg1: 2, otherQemus: 2, stealPct: 3, othersCpus: 0.8 }), trial({ loadAvg1: 2, otherQemus: 0, stealPct: 3, othersCpus: 0.8 })]);
    expect(a.warning).toBe(
      'noisy host: 2 other qemu-system processes running in 1 of 2 trials; load average 1.69 on 2 CPUs; other processes used 0.8 CPU over the trials (median); ' +
        'steal time 3% over the trials (median); CPU frequency governor powersave (not performance); timings vary more than on a quiet machine',
    );
    expect(a.warning).not.toContain('\n');
  });

  it("warns when the quiet guest's heartbeat gaps are comparable to the downtime, and reports the floor", () => {
    const g = (max: number) => ({ observedDowntimeMs: 6, heartbeatPeriodMs: 1, baselineGapMs: { median: 1, p99: 1.2, max, n: 500 } });
    const quiet = assessNoise(header, [trial(undefined, g(2)), trial(undefined, g(2.2)), trial(undefined, g(1.8))]);
    expect(quiet.floor).toEqual({ trials: 3, medianGapMs: 1, p99GapMs: 1.2, maxGapMs: 2, periodMs: 1 });
    expect(quiet.warning).toBeUndefined();
    expect(quiet.floorByVariant).toEqual([{ variant: 'run', n: 3, medianMs: 2, minMs: 1.8, maxMs: 2.2 }]);
    const noisy = assessNoise(header, [trial(undefined, g(5))]);
    expect(noisy.reasons).toEqual(["the quiet guest's heartbeat gaps reach 5 ms against a guest-observed downtime of 6 ms"]);
  });

  it('a live host (doctor) is judged by the same limits', () => {
    expect(noiseReasons({ loadAvg1: 0.9, cpus: 2, otherQemus: 0, stealPct: 1, othersCpus: 0.2 })).toEqual([]);
    expect(noiseReasons({ loadAvg1: 1, cpus: 2, otherQemus: 1, over: 'just now' })).toEqual(['1 other qemu-system process running', 'load average 1 on 2 CPUs']);
  });
});
