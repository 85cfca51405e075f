import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PlannedTrial } from '../../src/trial/series.js';
import type { ProgressSample, TrialRecord } from '../../src/trial/types.js';
import type { MigrationInfo } from '../../src/qemu/info-migrate.js';
import { createProgress, formatDuration, loadLiveDisplay, progressEnabled, ramFraction, type ProgressOptions } from '../../src/render/progress.js';
import { trialLine } from '../../src/render/trial-line.js';

beforeAll(loadLiveDisplay);

const ESC = '\x1b';

/** A stream that records every write, looking like a terminal or a pipe. */
function fakeStream(isTTY: boolean, columns = 80) {
  const writes: string[] = [];
  const stream = {
    isTTY,
    columns,
    writes,
    write(chunk: string | Uint8Array) {
      writes.push(String(chunk));
      return true;
    },
  };
  return { stream: stream as unknown as ProgressOptions['stream'], writes, text: () => writes.join('') };
}

/**
 * Just enough of a VT100 to replay what was written: printable text, CR/LF, cursor up/down/to
 * column 1, erase line / to end of line. Colours and synchronized-output markers are ignored.
 */
function screen(output: string) {
  const rows: string[] = [''];
  let row = 0;
  let col = 0;
  const put = (ch: string) => {
    const line = rows[row]!.padEnd(col, ' ');
    rows[row] = line.slice(0, col) + ch + line.slice(col + 1);
    col++;
  };
  for (let i = 0; i < output.length; i++) {
    const ch = output[i]!;
    if (ch === ESC) {
      const m = /^\x1b\[(\??)(\d*)([A-Za-z])/.exec(output.slice(i));
      if (!m) throw new Error(`unexpected escape at ${i}: ${JSON.stringify(output.slice(i, i + 10))}`);
      i += m[0].length - 1;
      const [, priv, arg, cmd] = m;
      const n = arg ? Number(arg) : 1;
      if (priv) continue; // ?2026h / ?2026l, ?25l / ?25h
      if (cmd === 'A') row = Math.max(0, row - n);
      else if (cmd === 'B') row += n;
      else if (cmd === 'G') col = 0;
      else if (cmd === 'K') rows[row] = arg === '2' ? '' : rows[row]!.slice(0, col);
      else if (cmd === 'm') continue;
      else throw new Error(`unsupported CSI ${m[0]}`);
      while (rows.length <= row) rows.push('');
    } else if (ch === '\n') {
      row++;
      col = 0;
      while (rows.length <= row) rows.push('');
    } else if (ch === '\r') {
      col = 0;
    } else {
      put(ch);
    }
  }
  // Rows past the cursor that are empty are not "on screen" in any meaningful sense.
  let last = rows.length - 1;
  while (last > row && rows[last] === '') last--;
  return { rows: rows.slice(0, last + 1).map((r) => r.trimEnd()), row, col };
}

function planned(index: number, extra: Partial<PlannedTrial> = {}): PlannedTrial {
  return { variant: 'run', index, warmup: false, config: {} as PlannedTrial['config'], ...extra };
}

function record(index: number, extra: Partial<TrialRecord> = {}): TrialRecord {
  return {
    kind: 'trial',
    runId: 'r',
    variant: 'run',
    index,
    warmup: false,
    status: 'completed',
    accel: 'kvm',
    startedAt: '2025-01-01T00:00:00Z',
    wallMs: 4000,
    info: { status: 'completed', downtimeMs: 12.5, totalTimeMs: 900, unknown: [] },
    monitor: [],
    sourceArgv: [],
    destinationArgv: [],
    qemu: { path: 'qemu', version: '9.2.0', versionLine: 'QEMU emulator version 9.2.0' },
    ...extra,
  };
}

const sample: ProgressSample = { atMs: 1 };
const migrating: MigrationInfo = {
  unknown: [],
  status: 'active',
  transferredRamBytes: 100 * 2 ** 20,
  remainingRamBytes: 154 * 2 ** 20,
  totalRamBytes: 256 * 2 ** 20,
  throughputMbps: 941.2,
  dirtySyncCount: 2,
  expectedDowntimeMs: 12,
};

/** Drive a whole two-trial series through the hooks, samples included. */
function series(p: ReturnType<typeof createProgress>, advance: (ms: number) => void = () => undefined) {
  for (const i of [1, 2]) {
    p.onTrialStart(planned(i), i, 2);
    for (const phase of ['starting QEMU', 'waiting for the guest', 'migrating']) {
      p.onPhase(phase);
      advance(150);
    }
    for (let k = 0; k < 20; k++) {
      p.onSample(sample, { ...migrating, remainingRamBytes: (200 - k * 10) * 2 ** 20 });
      advance(50);
    }
    p.onPhase('checking the destination');
    p.onPhase('stopping QEMU');
    p.onTrialDone(record(i), i, 2);
  }
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2025-01-01T00:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

describe('progress on a pipe (not enabled)', () => {
  it('prints exactly one plain line per finished trial and no control sequences', () => {
    const f = fakeStream(false);
    const p = createProgress({ stream: f.stream, enabled: false, color: true, total: 2, label: 'run' });
    series(p, (ms) => vi.advanceTimersByTime(ms));
    vi.advanceTimersByTime(5000);
    p.stop();
    p.stop();
    expect(f.text()).toBe(`${trialLine(record(1), 2)}\n${trialLine(record(2), 2)}\n`);
    expect(f.text()).not.toContain(ESC);
  });

  it('uses trialOf for the "of" in each line', () => {
    const f = fakeStream(false);
    const p = createProgress({ stream: f.stream, enabled: false, color: false, total: 8, trialOf: (t) => (t.warmup ? 1 : 3) });
    p.onTrialDone(record(1, { variant: 'A', warmup: true }), 1, 8);
    p.onTrialDone(record(1, { variant: 'A' }), 2, 8);
    expect(f.writes).toEqual(['[A] trial 1/1 (warm-up): downtime 12.5 ms, total 900 ms\n', '[A] trial 1/3: downtime 12.5 ms, total 900 ms\n']);
  });

  it('log() writes a plain line', () => {
    const f = fakeStream(false);
    const p = createProgress({ stream: f.stream, enabled: false, color: false, total: 1 });
    p.log('results: /tmp/x.jsonl');
    p.log('with newline\n');
    expect(f.text()).toBe('results: /tmp/x.jsonl\nwith newline\n');
  });

  it('writes nothing when quiet, not even trial lines or log()', () => {
    const f = fakeStream(true);
    const p = createProgress({ stream: f.stream, enabled: true, quiet: true, color: true, total: 2 });
    series(p, (ms) => vi.advanceTimersByTime(ms));
    p.log('x');
    p.stop();
    expect(f.writes).toEqual([]);
  });
});

describe('progress on a terminal (enabled)', () => {
  const make = (f: ReturnType<typeof fakeStream>, extra: Partial<ProgressOptions> = {}) =>
    createProgress({ stream: f.stream, enabled: true, color: false, total: 2, label: 'run', ...extra });

  it('shows the position and the phase, then RAM %, throughput, pass and expected downtime while migrating', () => {
    const f = fakeStream(true);
    const p = make(f);
    p.onTrialStart(planned(1), 1, 2);
    p.onPhase('starting QEMU');
    vi.advanceTimersByTime(200);
    expect(screen(f.text()).rows).toEqual(['run: trial 1/2 · 0s elapsed', '  starting QEMU…', '']);

    p.onPhase('migrating');
    p.onSample(sample, migrating);
    vi.advanceTimersByTime(200);
    const s = screen(f.text());
    expect(s.rows[0]).toContain('trial 1/2');
    expect(s.rows[1]).toBe('  migrating 39% of 256 MiB · 941 Mbps · pass 2 · expected downtime 12 ms');
    // The cursor waits at the start of the line below the live area.
    expect(s).toMatchObject({ row: 2, col: 0 });
    p.stop();
  });

  it('falls back to transferred/total and shows a non-active status', () => {
    const f = fakeStream(true);
    const p = make(f);
    p.onTrialStart(planned(1), 1, 2);
    p.onPhase('migrating');
    p.onSample(sample, { status: 'postcopy-active', transferredRamBytes: 3 * 2 ** 20, totalRamBytes: 4 * 2 ** 20, throughputMbps: 37.54, unknown: [] });
    vi.advanceTimersByTime(200);
    expect(screen(f.text()).rows[1]).toBe('  migrating (postcopy-active) 75% of 4.0 MiB · 37.5 Mbps');
    p.stop();
  });

  it('shows the variant, warm-up and sweep point, and an ETA once a trial has finished', () => {
    const f = fakeStream(true, 120);
    const p = make(f, { label: 'compare', total: 4 });
    p.onTrialStart(planned(1, { variant: 'A', warmup: true, point: { ram: '2G' } }), 1, 4);
    vi.advanceTimersByTime(4000);
    p.onTrialDone(record(1, { variant: 'A', warmup: true, wallMs: 4000 }), 1, 4);
    p.onTrialStart(planned(1, { variant: 'B', point: { ram: '2G' } }), 2, 4);
    vi.advanceTimersByTime(1000);
    const rows = screen(f.text()).rows;
    expect(rows[0]).toBe('[A] trial 1/4 (warm-up): downtime 12.5 ms, total 900 ms');
    // 3 s left of this trial + 2 more trials of 4 s each.
    expect(rows[1]).toBe('compare: trial 2/4 · [B] #1 · ram=2G · 5s elapsed, ~11s left');
    p.stop();
  });

  it('prints finished trials and log() lines as permanent lines above the live area', () => {
    const f = fakeStream(true);
    const p = make(f);
    series(p, (ms) => vi.advanceTimersByTime(ms));
    p.onTrialStart(planned(3), 3, 3);
    p.onPhase('migrating');
    p.log('migdown: a note');
    vi.advanceTimersByTime(200);
    const rows = screen(f.text()).rows;
    expect(rows.slice(0, 3)).toEqual([trialLine(record(1), 2), trialLine(record(2), 2), 'migdown: a note']);
    expect(rows[3]).toMatch(/^run: trial 3\/2/);
    expect(rows[4]).toBe('  migrating…');
    p.stop();
  });

  it('stop() clears the live area and leaves the cursor at the start of a clean line; twice is harmless', () => {
    const f = fakeStream(true);
    const p = make(f);
    series(p, (ms) => vi.advanceTimersByTime(ms));
    p.onTrialStart(planned(3), 3, 3);
    p.onPhase('migrating');
    p.onSample(sample, migrating);
    vi.advanceTimersByTime(200);
    p.stop();
    const after = f.writes.length;
    p.stop();
    expect(f.writes.length).toBe(after);
    const s = screen(f.text());
    expect(s.rows).toEqual([trialLine(record(1), 2), trialLine(record(2), 2), '']);
    expect(s).toMatchObject({ row: 2, col: 0 });
    // After stop nothing is drawn any more; late lines come out plain.
    p.onSample(sample, migrating);
    p.log('results: x');
    vi.advanceTimersByTime(5000);
    expect(f.writes.slice(after)).toEqual(['results: x\n']);
  });

  it('stop() before anything was drawn writes nothing', () => {
    const f = fakeStream(true);
    const p = make(f);
    p.stop();
    expect(f.writes).toEqual([]);
  });

  it('throttles redraws: a burst of samples is one or two writes, a steady stream ~10 per second', () => {
    const f = fakeStream(true);
    const p = make(f);
    p.onTrialStart(planned(1), 1, 2);
    p.onPhase('migrating');
    const before = f.writes.length;
    for (let k = 0; k < 1000; k++) p.onSample(sample, { ...migrating, remainingRamBytes: k });
    expect(f.writes.length - before).toBeLessThanOrEqual(1);
    vi.advanceTimersByTime(150);
    expect(f.writes.length - before).toBeLessThanOrEqual(2);
    // The last sample is the one on screen.
    expect(screen(f.text()).rows[1]).toContain('99%');

    const start = f.writes.length;
    for (let k = 0; k < 500; k++) {
      p.onSample(sample, { ...migrating, remainingRamBytes: (k % 256) * 2 ** 20 });
      vi.advanceTimersByTime(2); // 500 samples in one second
    }
    expect(f.writes.length - start).toBeLessThanOrEqual(11);
    expect(f.writes.length - start).toBeGreaterThanOrEqual(5);
    p.stop();
  });

  it('keeps elapsed time moving through a long silent phase', () => {
    const f = fakeStream(true);
    const p = make(f);
    p.onTrialStart(planned(1), 1, 2);
    p.onPhase('waiting for the guest');
    vi.advanceTimersByTime(65_000);
    expect(screen(f.text()).rows[0]).toBe('run: trial 1/2 · 1m05s elapsed');
    p.stop();
  });

  it('never draws a line wider than the terminal', () => {
    const f = fakeStream(true, 40);
    const p = make(f);
    p.onTrialStart(planned(1, { point: { ram: '2G', 'dirty-rate': '512M', workload: 'stress-ng' } }), 1, 2);
    p.onPhase('migrating');
    p.onSample(sample, migrating);
    vi.advanceTimersByTime(200);
    const rows = screen(f.text()).rows;
    expect(rows.filter(Boolean)).toHaveLength(2);
    for (const r of rows) expect([...r].length).toBeLessThan(40);
    expect(rows[1]).toMatch(/^ {2}migrating 39% .*…$/);
    p.stop();
  });

  it('still draws on a terminal that reports a size of 0x0 (an unsized pseudo-terminal)', () => {
    const f = fakeStream(true, 0);
    (f.stream as { rows?: number }).rows = 0;
    const p = make(f);
    p.onTrialStart(planned(1), 1, 2);
    p.onPhase('migrating');
    p.onSample(sample, migrating);
    vi.advanceTimersByTime(200);
    p.onTrialDone(record(1), 1, 2);
    const rows = screen(f.text()).rows;
    expect(rows[0]).toBe(trialLine(record(1), 2));
    expect(rows[1]).toMatch(/^run: 1\/2 trials done/);
    p.stop();
  });

  it('writes a long permanent line unwrapped', () => {
    const f = fakeStream(true, 40);
    const p = make(f);
    p.onTrialStart(planned(1), 1, 2);
    vi.advanceTimersByTime(200);
    const long = 'migdown: warning: '.padEnd(120, 'x');
    p.log(long);
    expect(f.writes).toContain(`${long}\n`);
    p.stop();
  });

  it('colours only when asked to', () => {
    const plainF = fakeStream(true);
    const colourF = fakeStream(true);
    for (const [f, color] of [[plainF, false], [colourF, true]] as const) {
      const p = createProgress({ stream: f.stream, enabled: true, color, total: 2, label: 'run' });
      p.onTrialStart(planned(1), 1, 2);
      p.onPhase('migrating');
      p.onSample(sample, migrating);
      vi.advanceTimersByTime(200);
      p.stop();
    }
    expect(plainF.text()).not.toMatch(/\x1b\[\d+(;\d+)*m/);
    expect(colourF.text()).toMatch(/\x1b\[\d+(;\d+)*m/);
  });
});

describe('progressEnabled', () => {
  const tty = { isTTY: true };
  it('needs a terminal', () => {
    expect(progressEnabled(tty, {}, {})).toBe(true);
    expect(progressEnabled({ isTTY: false }, {}, {})).toBe(false);
    expect(progressEnabled({}, {}, {})).toBe(false);
  });
  it('is off when quiet or when machine output goes to the same stream', () => {
    expect(progressEnabled(tty, { quiet: true }, {})).toBe(false);
    expect(progressEnabled(tty, { machineOutputOnThisStream: true }, {})).toBe(false);
  });
  it('is off in CI and on dumb terminals', () => {
    expect(progressEnabled(tty, {}, { CI: 'true' })).toBe(false);
    expect(progressEnabled(tty, {}, { CI: '1' })).toBe(false);
    expect(progressEnabled(tty, {}, { CI: 'false' })).toBe(true);
    expect(progressEnabled(tty, {}, { CI: '' })).toBe(true);
    expect(progressEnabled(tty, {}, { TERM: 'dumb' })).toBe(false);
    expect(progressEnabled(tty, {}, { TERM: 'xterm-256color' })).toBe(true);
  });
});

describe('helpers', () => {
  it('formatDuration', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(59_400)).toBe('59s');
    expect(formatDuration(65_000)).toBe('1m05s');
    expect(formatDuration(3_725_000)).toBe('1h02m');
  });
  it('ramFraction prefers remaining, clamps, and needs a total', () => {
    expect(ramFraction({ remainingRamBytes: 25, totalRamBytes: 100, transferredRamBytes: 900 })).toBe(0.75);
    expect(ramFraction({ transferredRamBytes: 50, totalRamBytes: 100 })).toBe(0.5);
    expect(ramFraction({ transferredRamBytes: 500, totalRamBytes: 100 })).toBe(1);
    expect(ramFraction({ transferredRamBytes: 50 })).toBeUndefined();
    expect(ramFraction({ remainingRamBytes: 5, totalRamBytes: 0 })).toBeUndefined();
  });
});
