// Compare with more than two variants: the plan, Holm's adjustment, the variant options, the
// gates over several comparisons, and every format with N columns.

import { describe, expect, it } from 'vitest';
import { Chalk } from 'chalk';
import type { RunHeader, TrialRecord } from '../../src/trial/types.js';
import { planOrder } from '../../src/commands/compare.js';
import { checkGatesPerPoint } from '../../src/commands/gate-checks.js';
import { variantSpecs, type RawVariantOptions } from '../../src/commands/variants.js';
import { UsageError } from '../../src/errors.js';
import { CSV_COLUMNS } from '../../src/render/compare-csv.js';
import { MAIL_WIDTH } from '../../src/render/text-table.js';
import { analyze } from '../../src/stats/analysis.js';
import { htmlReportPage } from '../../src/render/html-report.js';
import { buildChartSpecs } from '../../src/render/charts.js';
import { renderResults } from '../../src/render/results.js';
import { holmAdjust } from '../../src/stats/holm.js';
import { buildCompareReport, metricOf } from '../../src/stats/report.js';

const chalk = new Chalk({ level: 0 });
const RUN = 'run-n';
const qemu = (version: string) => ({ path: `/opt/qemu-${version}/qemu-system-x86_64`, version, versionLine: `QEMU emulator version ${version}` });

function header(labels: string[], extra: Record<string, unknown> = {}): RunHeader {
  return {
    kind: 'header',
    runId: RUN,
    command: 'compare',
    migdownVersion: '0.2.0',
    createdAt: '2026-12-03T14:00:00.000Z',
    host: { hostname: 'h', cpuModel: 'Intel Xeon', kernel: '6.1.0', memBytes: 64 * 1024 ** 3, cpus: 8 },
    accel: 'kvm',
    config: { ram: '256M', ramBytes: 256 * 1024 ** 2, smp: 1, seed: 7, ...extra },
    variants: labels.map((label, i) => ({ label, qemu: qemu(['7.2.22', '10.0.2', '11.1.0', '5.2.0'][i]!), extraArgs: [], params: {} })),
  };
}

function trials(byLabel: Record<string, number[]>, point?: Record<string, string | number>): TrialRecord[] {
  return Object.entries(byLabel).flatMap(([variant, downs]) =>
    downs.map((d, i) => ({
      kind: 'trial' as const,
      runId: RUN,
      variant,
      index: i + 1,
      ...(point && { point }),
      warmup: false,
      status: 'completed' as const,
      accel: 'kvm' as const,
      startedAt: '2026-12-03T14:00:00.000Z',
      wallMs: 1000,
      info: { downtimeMs: d, totalTimeMs: 900 + d } as TrialRecord['info'],
      monitor: [],
      sourceArgv: [],
      destinationArgv: [],
      qemu: qemu('7.2.22'),
    })),
  );
}

describe('Holm adjustment', () => {
  it("agrees with R's p.adjust(method = 'holm')", () => {
    // p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05), "holm") -> 0.05 0.08 0.09 0.09 0.09
    expect(holmAdjust([0.01, 0.02, 0.03, 0.04, 0.05]).map((p) => +p.toFixed(10))).toEqual([0.05, 0.08, 0.09, 0.09, 0.09]);
    // unsorted input keeps its order: p.adjust(c(0.04, 0.01, 0.03), "holm") -> 0.06 0.03 0.06
    expect(holmAdjust([0.04, 0.01, 0.03]).map((p) => +p.toFixed(10))).toEqual([0.06, 0.03, 0.06]);
    // capped at 1; one p-value is its own adjustment
    expect(holmAdjust([0.5, 0.6])).toEqual([1, 1]);
    expect(holmAdjust([0.2])).toEqual([0.2]);
    expect(holmAdjust([])).toEqual([]);
  });
});

describe('trial order over N variants', () => {
  const tag = (p: { variant: number; index: number; warmup: boolean }) => `${p.warmup ? 'w' : ''}${'ABCD'[p.variant]}${p.index}`;
  it('interleaves A B C, warm-ups per variant first', () => {
    expect(planOrder(2, 1, 'alternate', 1, undefined, 3).map(tag)).toEqual(['wA1', 'wB1', 'wC1', 'A1', 'B1', 'C1', 'A2', 'B2', 'C2']);
  });
  it('shuffles with the seed, N of each, and resumes with what is missing', () => {
    const full = planOrder(5, 1, 'shuffle', 11, undefined, 4).map(tag);
    for (const v of 'ABCD') expect(full.filter((t) => t.startsWith(v))).toHaveLength(5);
    expect(planOrder(5, 1, 'shuffle', 11, undefined, 4).map(tag)).toEqual(full);
    const rest = planOrder(5, 1, 'shuffle', 11, { warmups: [1, 1, 1, 0], measured: [2, 0, 1, 0] }, 4).map(tag);
    expect(rest).toEqual(full.filter((t) => !['wA1', 'wB1', 'wC1', 'A1', 'A2', 'C1'].includes(t)));
  });
  it('gives two variants the order of migdown 0.1 (so its files resume)', () => {
    expect(planOrder(6, 0, 'shuffle', 42).map(tag)).toEqual(planOrder(6, 0, 'shuffle', 42, { warmups: [], measured: [] }, 2).map(tag));
  });
});

describe('variant options', () => {
  const base: RawVariantOptions = { qemuA: 'qa', qemuB: 'qb', labelA: 'A', labelB: 'B', aArg: [], bArg: [], aParam: [], bParam: [] };
  it('keeps the two-variant form', () => {
    expect(variantSpecs({ ...base, aParam: ['downtime-limit=5'] }, 'q').map((v) => [v.label, v.qemu, v.params])).toEqual([
      ['A', 'qa', { 'downtime-limit': '5' }],
      ['B', 'qb', {}],
    ]);
  });
  it('takes --variant LABEL[=QEMU] with per-variant arguments and parameters', () => {
    const specs = variantSpecs(
      {
        ...base,
        variant: ['7.2=/usr/bin/qemu-system-x86_64', '10.0=/opt/b/qemu=odd', 'default'],
        variantArg: ['10.0=-cpu', '10.0=host'],
        variantParam: ['default=downtime-limit=300'],
      },
      'qemu-system-x86_64',
    );
    expect(specs.map((s) => [s.label, s.qemu, s.extraArgs, s.params])).toEqual([
      ['7.2', '/usr/bin/qemu-system-x86_64', [], {}],
      ['10.0', '/opt/b/qemu=odd', ['-cpu', 'host'], {}],
      ['default', 'qemu-system-x86_64', [], { 'downtime-limit': '300' }],
    ]);
  });
  it('refuses repeated labels, one variant, and per-variant options naming no variant', () => {
    expect(() => variantSpecs({ ...base, variant: ['x', 'x'] }, 'q')).toThrow(/given twice/);
    expect(() => variantSpecs({ ...base, variant: ['x'] }, 'q')).toThrow(/at least two/);
    expect(() => variantSpecs({ ...base, variant: ['x', 'y'], variantArg: ['z=-S'] }, 'q')).toThrow(/"z" is not a --variant label/);
    expect(() => variantSpecs({ ...base, variantParam: ['x=a=1'] }, 'q')).toThrow(UsageError);
    expect(() => variantSpecs({ ...base, variant: ['=q', 'y'] }, 'q')).toThrow(/not LABEL/);
  });
});

const FOUR = {
  'QEMU 7.2 (the distribution build)': [35, 33, 36, 34, 35, 38],
  '10.0 with the series': [4, 5, 4, 3, 4, 6],
  '10.0 with the series, v2': [36, 34, 35, 37, 33, 36],
  '11.1': [60, 62, 59, 65, 61, 63],
};

describe('a report over four variants', () => {
  const h = header(Object.keys(FOUR));
  const ts = trials(FOUR);
  it('compares each with the first, Holm-adjusted, and the verdict uses the adjusted p', () => {
    const q = metricOf(buildCompareReport(ts, h, { seed: 7 }), 'qemuDowntime')!;
    expect(q.comparisons[0]).toBeNull();
    const raw = q.comparisons.slice(1).map((c) => c!.pRaw!);
    expect(q.comparisons.slice(1).map((c) => c!.pValue)).toEqual(holmAdjust(raw));
    expect(q.comparisons.slice(1).map((c) => c!.adjusted)).toEqual([1, 2, 3].map(() => ({ method: 'holm', comparisons: 3 })));
    expect(q.comparisons.map((c) => c?.verdict)).toEqual([undefined, 'faster', 'no significant difference', 'slower']);
  });
  it('stays within 72 printable columns in the mail, says Holm, and names every variant', () => {
    const mail = renderResults('mail', h, analyze(h, ts), chalk);
    for (const line of mail.split('\n')) {
      expect(line.length).toBeLessThanOrEqual(MAIL_WIDTH);
      expect(line).toMatch(/^[\x20-\x7e]*$/);
    }
    expect(mail).toMatch(/\|p \(Holm-adjusted\)/);
    expect(mail.replace(/\n/g, ' ')).toMatch(/Holm-adjusted over the 3 comparisons against the first column; verdicts use the adjusted p/);
    for (const l of ['11.1', 'v2', 'distribution']) expect(mail).toContain(l);
  });
  it('renders the terminal table, markdown, csv, json and html with all four', () => {
    const table = renderResults('table', h, analyze(h, ts), chalk, { columns: 200 });
    expect(table).toMatch(/p \(Holm-adjusted\)/);
    expect(table).toContain('11.1');
    for (const line of renderResults('table', h, analyze(h, ts), chalk, { columns: 60 }).split('\n').slice(0, 20)) expect(line.length).toBeLessThanOrEqual(60);
    const md = renderResults('markdown', h, analyze(h, ts), chalk);
    expect(md.split('\n')[0]!.split(' | ')).toHaveLength(5);
    expect(md).toMatch(/QEMU downtime, p \(Holm-adjusted\)/);
    const csv = renderResults('csv', h, analyze(h, ts), chalk).split('\r\n');
    expect(csv[0]!.split(',')).toEqual([...CSV_COLUMNS]);
    const qemuRows = csv.filter((r) => r.startsWith(`${RUN},qemu_downtime,`));
    expect(qemuRows).toHaveLength(4);
    expect(qemuRows.map((r) => /,holm\/3,/.test(r))).toEqual([false, true, true, true]);
    const json = JSON.parse(renderResults('json', h, analyze(h, ts), chalk));
    expect(json.report.variants).toHaveLength(4);
    const html = htmlReportPage(h, analyze(h, ts), []);
    expect(html).toContain('p (Holm-adjusted)');
    for (const l of Object.keys(FOUR)) expect(html).toContain(l.replace(/,/g, ','));
    // one colour per variant in the charts
    const spec = JSON.stringify(buildChartSpecs(h, analyze(h, ts)));
    for (const c of ['#4c78a8', '#f58518', '#e45756', '#72b7b2']) expect(spec).toContain(c);
  });
  it('gates every variant against the first, Holm-adjusted, and says so', () => {
    const why = checkGatesPerPoint({ regressionPct: 10 }, analyze(h, ts));
    expect(why).toMatch(/--fail-if-regression: 11\.1 median downtime 61\.5ms is .*% worse than QEMU 7\.2 \(the distribution build\)'s 35ms/);
    expect(why).toMatch(/Holm-adjusted over 3 comparisons\)/);
    expect(checkGatesPerPoint({ maxDowntimeMs: 50 }, analyze(h, ts))).toMatch(/^--max-downtime: 11\.1 median/);
    expect(checkGatesPerPoint({ maxDowntimeMs: 30 }, analyze(h, ts))).toMatch(/and 1 more gate failure\)$/);
  });
});

describe('gates over sweep points', () => {
  it('adjust over points x variants and say so', () => {
    const h = header(['A', 'B'], { sweep: [{ ram: '1G' }, { ram: '2G' }] });
    const ts = [...trials({ A: [10, 11, 10, 12, 11], B: [20, 21, 22, 20, 23] }, { ram: '1G' }), ...trials({ A: [10, 11, 10, 12, 11], B: [10, 12, 11, 10, 11] }, { ram: '2G' })];
    expect(checkGatesPerPoint({ regressionPct: 10 }, analyze(h, ts))).toMatch(
      /^at ram=1G: --fail-if-regression: B .* \(limit 10%, p = 0\.016, Holm-adjusted over 2 comparisons: 2 points x 1 variant against the first\)$/,
    );
  });
});
