// The compare report and its three renderings. The mail table is checked against what list
// archives and mail clients tolerate: printable ASCII, <= 72 columns, no tabs, no trailing space.

import { describe, expect, it } from 'vitest';
import type { RunHeader, TrialRecord, TrialStatus } from '../../src/trial/types.js';
import { CSV_COLUMNS, renderCsv } from '../../src/render/compare-csv.js';
import { renderMail } from '../../src/render/compare-mail.js';
import { MAIL_WIDTH } from '../../src/render/text-table.js';
import { renderMarkdown } from '../../src/render/compare-markdown.js';
import { buildCompareReport, metricOf } from '../../src/stats/report.js';
import { hasValues } from '../../src/stats/summary.js';

const RUN = 'run-0001';

function qemu(version: string) {
  return { path: `/opt/qemu-${version}/bin/qemu-system-x86_64`, version, versionLine: `QEMU emulator version ${version}` };
}

function header(labels: string[] = ['A', 'B'], versions: string[] = ['2.4.1', '2.5.0']): RunHeader {
  return {
    kind: 'header',
    runId: RUN,
    command: 'compare',
    migdownVersion: '0.1.0',
    createdAt: '2015-11-02T07:36:59.000Z',
    host: { hostname: 'h', cpuModel: 'Intel Xeon', kernel: '6.1.0', memBytes: 64 * 1024 ** 3, cpus: 8 },
    accel: 'kvm',
    config: { ram: '8G', ramBytes: 8 * 1024 ** 3, smp: 4 },
    variants: labels.map((label, i) => ({ label, qemu: qemu(versions[i] ?? '7.2.22'), extraArgs: [], params: {} })),
  };
}

interface TrialSpec {
  variant: string;
  index: number;
  downtime?: number;
  guest?: number;
  total?: number;
  status?: TrialStatus;
  reason?: string;
  warmup?: boolean;
  version?: string;
}

function trial(s: TrialSpec): TrialRecord {
  const t: TrialRecord = {
    kind: 'trial',
    runId: RUN,
    variant: s.variant,
    index: s.index,
    warmup: s.warmup ?? false,
    status: s.status ?? 'completed',
    accel: 'kvm',
    startedAt: '2015-11-02T07:40:00.000Z',
    wallMs: 5000,
    monitor: [],
    sourceArgv: [],
    destinationArgv: [],
    qemu: qemu(s.version ?? '2.4.1'),
  };
  if (s.reason !== undefined) t.reason = s.reason;
  if (t.status === 'completed') {
    t.info = { downtimeMs: s.downtime, totalTimeMs: s.total ?? 2000 } as TrialRecord['info'];
    if (s.guest !== undefined) t.guest = { observedDowntimeMs: s.guest };
  }
  return t;
}

const DOWN_A = [35, 33, 36, 34, 35, 38, 32, 35, 37, 34];
const DOWN_B = [4, 5, 4, 3, 4, 6, 4, 5, 3, 4];

/** Ten measured trials a side plus a warm-up each; B's trials listed first on purpose. */
function seedLikeTrials(): TrialRecord[] {
  const b = DOWN_B.map((d, i) => trial({ variant: 'B', index: i + 2, downtime: d, guest: d + 6, total: 1900 + i, version: '2.5.0' }));
  const a = DOWN_A.map((d, i) => trial({ variant: 'A', index: i + 2, downtime: d, guest: d + 5, total: 2100 + i }));
  return [
    trial({ variant: 'B', index: 1, downtime: 400, warmup: true, version: '2.5.0' }),
    ...b,
    trial({ variant: 'A', index: 1, downtime: 900, warmup: true }),
    ...a,
  ];
}

function checkMailShape(mail: string) {
  const lines = mail.replace(/\n$/, '').split('\n');
  for (const line of lines) {
    expect(line.length, `too long: "${line}"`).toBeLessThanOrEqual(MAIL_WIDTH);
    expect(line, 'non-ASCII or control character').toMatch(/^[\x20-\x7e]*$/);
    expect(line).not.toMatch(/\t/);
    expect(line, 'trailing space').not.toMatch(/ $/);
  }
  expect(mail).not.toMatch(/\x1b\[/); // no ANSI colour
  return lines;
}

describe('buildCompareReport', () => {
  it('groups measured, completed trials by variant in header order', () => {
    const r = buildCompareReport(seedLikeTrials(), header(), { seed: 1 });
    expect(r.variants.map((v) => v.label)).toEqual(['A', 'B']);
    expect(r.variants.map((v) => [v.trials, v.completed, v.failed, v.warmups])).toEqual([
      [10, 10, 0, 1],
      [10, 10, 0, 1],
    ]);
    const q = metricOf(r, 'qemuDowntime')!;
    // warm-ups (900 ms, 400 ms) are not in the statistics
    expect(q.values[0]).toEqual(DOWN_A);
    const [sa, sb] = q.summaries;
    expect(hasValues(sa!) && sa.median).toBe(35);
    expect(hasValues(sb!) && sb.median).toBe(4);
    expect(q.comparisons[0]).toBeNull();
    expect(q.comparisons[1]!.verdict).toBe('faster');
    expect(r.metrics.map((m) => m.key)).toEqual(['qemuDowntime', 'guestDowntime', 'totalTime']);
    expect(r.setup).toMatchObject({ ram: '8 GiB', smp: '4', accel: 'kvm', qemuVersions: ['2.4.1', '2.5.0'] });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('leaves out guest-observed downtime when no trial has it', () => {
    const trials = DOWN_A.map((d, i) => trial({ variant: 'A', index: i + 1, downtime: d }));
    const r = buildCompareReport(trials, header(), { seed: 1 });
    expect(metricOf(r, 'guestDowntime')).toBeUndefined();
  });

  it('counts failures with their reasons, and ignores trials of other runs', () => {
    const trials = [
      ...seedLikeTrials(),
      trial({ variant: 'B', index: 12, status: 'failed', reason: 'Unable to write to socket' }),
      trial({ variant: 'B', index: 13, status: 'failed', reason: 'Unable to write to socket' }),
      trial({ variant: 'B', index: 14, status: 'timeout', reason: 'no completion after 120 s' }),
      { ...trial({ variant: 'A', index: 99, downtime: 1 }), runId: 'other' },
    ];
    const r = buildCompareReport(trials, header(), { seed: 1 });
    const b = r.variants[1]!;
    expect([b.trials, b.completed, b.failed, b.allFailed]).toEqual([13, 10, 3, false]);
    expect(b.failures).toEqual([
      { status: 'failed', reason: 'Unable to write to socket', count: 2, indices: [12, 13] },
      { status: 'timeout', reason: 'no completion after 120 s', count: 1, indices: [14] },
    ]);
    expect(r.variants[0]!.trials).toBe(10);
    expect(r.notes.join(' ')).toMatch(/1 trial record\(s\) from another run/);
  });
});

describe('renderMail', () => {
  it('lays out the seed-style table within mail limits', () => {
    const report = buildCompareReport(seedLikeTrials(), header(), { seed: 1 });
    const mail = renderMail(report);
    const lines = checkMailShape(mail);
    expect(lines[0]).toMatch(/^=+$/);
    expect(mail).toContain('without this patch');
    expect(mail).toContain('with this patch');
    const headline = lines.find((l) => l.startsWith('|QEMU downtime'))!;
    expect(headline).toMatch(/\|\s+35ms\s+\|\s+4ms\s+\|$/);
    expect(lines.some((l) => /^\|-+\|$/.test(l))).toBe(true);
    expect(lines.find((l) => l.startsWith('|guest-observed'))).toMatch(/40ms.*10ms/);
    expect(lines.find((l) => l.startsWith('|trials (n)'))).toMatch(/10.*10/);
    expect(lines.find((l) => l.startsWith('|QEMU min-max'))).toMatch(/32-38ms.*3-6ms/);
    expect(lines.find((l) => l.startsWith('|change'))).toMatch(/baseline.*-31ms \(-88\.6%\)/);
    expect(lines.find((l) => l.startsWith('|95% CI'))).toMatch(/\|\s+-32 to -29\.5ms\s+\|$/);
    expect(lines.find((l) => l.startsWith('|p (Mann-Whitney)'))).toMatch(/<0\.001/);
    expect(lines.find((l) => l.startsWith('|verdict'))).toMatch(/faster/);
    // all table lines are the same width, like the seed's
    const table = lines.slice(0, lines.lastIndexOf(lines[0]!) + 1);
    expect(new Set(table.map((l) => l.length)).size).toBe(1);
    expect(mail).toContain('Setup: 8 GiB RAM, 4 vCPUs, KVM, QEMU 2.4.1 vs 2.5.0; migdown 0.1.0.');
    expect(mail).toMatch(/Guest-observed downtime change: -30ms \(-75\.0%\), 95% CI/);
  });

  it('wraps long, non-ASCII labels and still fits 72 columns', () => {
    const long = [
      'upstream master at 2c8b2a8 with the default migration parameters — ohne Patch, über alles',
      'the same tree with “migration: defer migration_end & blk_mig_cleanup” applied on top',
    ];
    const trials = seedLikeTrials().map((t) => ({ ...t, variant: t.variant === 'A' ? long[0]! : long[1]! }));
    const mail = renderMail(buildCompareReport(trials, header(long), { seed: 1 }));
    const lines = checkMailShape(mail);
    const headerText = lines.slice(1, lines.findIndex((l) => /^\|-+\|$/.test(l))).join(' ');
    // both titles start on the first line; past three lines they are cut short with "..."
    expect(lines[1]).toMatch(/\|\s+upstream master at\s+\|\s+the same tree with\s+\|$/);
    expect(headerText).toContain('"migration: defer');
    expect(headerText).toContain('...');
    expect(mail).toMatch(/35ms/);
  });

  it('straightens typography and drops accents instead of sending non-ASCII', () => {
    const labels = ['ohne Patch, über alles', 'mit “Patch” – 10µs'];
    const trials = seedLikeTrials().map((t) => ({ ...t, variant: t.variant === 'A' ? labels[0]! : labels[1]! }));
    const mail = renderMail(buildCompareReport(trials, header(labels), { seed: 1 }));
    checkMailShape(mail);
    expect(mail).toContain('ohne Patch, uber alles');
    expect(mail).toContain('mit "Patch" - 10us');
  });

  it('uses the given labels, and stays within 72 columns with many variants', () => {
    const labels = Array.from({ length: 9 }, (_, i) => `variant number ${i + 1}`);
    const trials = labels.flatMap((label, v) => DOWN_A.map((d, i) => trial({ variant: label, index: i + 1, downtime: d + v * 10 })));
    const report = buildCompareReport(trials, header(labels, labels.map(() => '7.2.22')), { seed: 1 });
    checkMailShape(renderMail(report));
    const two = buildCompareReport(seedLikeTrials(), header(), { seed: 1 });
    expect(renderMail(two, { labels: ['2.4.1', '2.5.0'] })).toMatch(/\|\s+2\.4\.1\s+\|\s+2\.5\.0\s+\|/);
  });

  it('reports a variant whose migrations all failed, with the reason, beside the other', () => {
    const reason =
      'Unable to write to socket: Connection reset by peer while sending RAM block "pc.ram" (this reason is long enough to need wrapping)';
    const trials = [
      ...DOWN_A.map((d, i) => trial({ variant: 'A', index: i + 1, downtime: d, guest: d + 5 })),
      ...DOWN_B.map((_, i) => trial({ variant: 'B', index: i + 1, status: 'failed', reason, version: '2.5.0' })),
    ];
    const report = buildCompareReport(trials, header(), { seed: 1 });
    expect(report.variants[1]!.allFailed).toBe(true);
    expect(metricOf(report, 'qemuDowntime')!.comparisons[1]!.verdict).toBe('insufficient data');
    const mail = renderMail(report);
    const lines = checkMailShape(mail);
    expect(lines.find((l) => l.startsWith('|QEMU downtime'))).toMatch(/35ms.*all 10 failed/);
    expect(lines.find((l) => l.startsWith('|verdict'))).toMatch(/insufficient data/);
    expect(mail).toContain('with this patch: all 10 migrations failed.');
    expect(mail.replace(/\n\s*/g, ' ')).toContain(`10x QEMU said: ${reason}`);

    const md = renderMarkdown(report);
    expect(md).toContain('all 10 failed');
    expect(md).toContain('**with this patch**: all 10 migrations failed: 10x QEMU said: `Unable to write');
    const csv = renderCsv(report);
    expect(csv).toContain('10x failed: Unable to write to socket');
  });
});

describe('renderMarkdown', () => {
  it('is a well-formed table with every metric', () => {
    const report = buildCompareReport(seedLikeTrials(), header(), { seed: 1 });
    const md = renderMarkdown(report);
    const rows = md.split('\n').filter((l) => l.startsWith('|'));
    expect(rows[0]).toBe('|  | without this patch | with this patch |');
    expect(rows[1]).toBe('| :--- | ---: | ---: |');
    for (const r of rows) expect(r.split(/(?<!\\)\|/).length).toBe(5);
    expect(md).toContain('| QEMU downtime, median | 35ms | 4ms |');
    expect(md).toContain('| guest-observed downtime, median | 40ms | 10ms |');
    expect(md).toMatch(/\| total migration time, median \| 2105ms \| 1905ms \|/);
    expect(md).toMatch(/\| QEMU downtime, p \(Mann-Whitney\) \|  \| <0\.001, faster \|/);
    expect(md).toContain('Setup: 8 GiB RAM, 4 vCPUs, KVM, QEMU 2.4.1 vs 2.5.0');
  });

  it('escapes pipes in labels', () => {
    const labels = ['base|line', 'patched'];
    const trials = seedLikeTrials().map((t) => ({ ...t, variant: t.variant === 'A' ? labels[0]! : labels[1]! }));
    const md = renderMarkdown(buildCompareReport(trials, header(labels), { seed: 1 }));
    expect(md.split('\n')[0]).toBe('|  | base\\|line | patched |');
  });
});

/** A small RFC 4180 reader, to check the writer round-trips. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  return rows;
}

describe('renderCsv', () => {
  it('writes one CRLF-terminated row per metric and variant', () => {
    const report = buildCompareReport(seedLikeTrials(), header(), { seed: 1 });
    const csv = renderCsv(report);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const rows = parseCsv(csv);
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(1 + 3 * 2);
    for (const r of rows) expect(r).toHaveLength(CSV_COLUMNS.length);
    const col = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);
    const qa = rows[1]!;
    const qb = rows[2]!;
    expect([qa[col('metric')], qa[col('variant')], qa[col('median_ms')], qa[col('delta_ms')]]).toEqual(['qemu_downtime', 'A', '35', '']);
    expect([qb[col('variant')], qb[col('baseline')], qb[col('median_ms')], qb[col('delta_ms')], qb[col('verdict')]]).toEqual([
      'B',
      'A',
      '4',
      '-31',
      'faster',
    ]);
    expect(Number(qb[col('p_value')])).toBeLessThan(0.001);
  });

  it('quotes fields with commas, quotes and line breaks (RFC 4180)', () => {
    const labels = ['without, "old" QEMU', 'with\npatch'];
    const trials = seedLikeTrials().map((t) => ({ ...t, variant: t.variant === 'A' ? labels[0]! : labels[1]! }));
    const csv = renderCsv(buildCompareReport(trials, header(labels), { seed: 1 }));
    expect(csv).toContain('"without, ""old"" QEMU"');
    expect(csv).toContain('"with\npatch"');
    const rows = parseCsv(csv);
    expect(rows[1]![CSV_COLUMNS.indexOf('variant')]).toBe(labels[0]);
    expect(rows[2]![CSV_COLUMNS.indexOf('variant')]).toBe(labels[1]);
  });
});
