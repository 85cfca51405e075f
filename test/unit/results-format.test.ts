// Item by item of what a results reader relies on: one CSV naming scheme, two stored runs
// compared, tables that fit the terminal, English counts. All on recorded results files
// (test/fixtures/results/), rendered as `report` renders them.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Chalk } from 'chalk';
import { parseResults } from '../../src/trial/results-read.js';
import { combineRuns, relabel, type StoredRun } from '../../src/trial/combine.js';
import { CSV_COLUMNS, snakeCase } from '../../src/render/compare-csv.js';
import { renderTable } from '../../src/render/text-table.js';
import { renderResults } from '../../src/render/results.js';
import { htmlReportPage } from '../../src/render/html-report.js';
import { plural } from '../../src/util/plural.js';
import { analyze } from '../../src/stats/analysis.js';

const chalk = new Chalk({ level: 0 });
const stored = (name: string): StoredRun => {
  const c = parseResults(readFileSync(new URL(`../fixtures/results/${name}`, import.meta.url), 'utf8'));
  const header = c.headers.at(-1)!;
  return { file: name, header, trials: c.trials.filter((t) => t.runId === header.runId) };
};
const csvHead = (csv: string) => csv.split('\r\n')[0]!.split(',');

describe('one CSV naming scheme', () => {
  it('snake_case columns and metric names in run, compare and sweep CSV', () => {
    const run = stored('run-qemu-7.2.jsonl');
    const csv = renderResults('csv', run.header, analyze(run.header, run.trials), chalk);
    expect(csvHead(csv)).toEqual([...CSV_COLUMNS]);
    const metrics = new Set(csv.split('\r\n').slice(1).map((l) => l.split(',')[1]));
    expect([...metrics]).toEqual(['qemu_downtime', 'guest_downtime', 'total_time', 'noise_floor_max_gap']);

    const cmp = stored('compare-breakdown.jsonl');
    const rows = renderResults('csv', cmp.header, analyze(cmp.header, cmp.trials), chalk).split('\r\n').slice(1).map((l) => l.split(',')[1]!);
    for (const m of rows) expect(m).toMatch(/^([a-z]+(_[a-z]+)*|phase:[a-z-]+>[a-z-]+)$/);

    // a sweep: the same columns behind the point and one column per swept setting
    const swept = run.trials.map((t, i) => ({ ...t, point: { ram: i % 2 ? '1G' : '512M', dirtyRate: 0 } }));
    const sweepCsv = renderResults('csv', run.header, analyze(run.header, swept), chalk);
    expect(csvHead(sweepCsv)).toEqual(['point', 'ram', 'dirty_rate', ...CSV_COLUMNS]);
    expect(sweepCsv.split('\r\n')[1]).toMatch(/^"ram=512M, dirtyRate=0",512M,0,[0-9a-f-]+,qemu_downtime,run,/);
    expect(snakeCase('guestDowntime')).toBe('guest_downtime');
  });
});

describe('report OLD NEW', () => {
  it('makes one compare of two stored runs, OLD as the baseline', () => {
    const old = stored('run-qemu-7.2.jsonl');
    const neu = stored('run-qemu-10.0.jsonl');
    const c = combineRuns(old, neu, ['7.2', '10.0']);
    expect(c.header.command).toBe('compare');
    expect(c.header.variants.map((v) => [v.label, v.qemu.version])).toEqual([
      ['7.2', '7.2.22'],
      ['10.0', '10.0.2'],
    ]);
    expect(c.trials.every((t) => t.runId === c.header.runId)).toBe(true);
    expect(c.trials.filter((t) => t.variant === '10.0')).toHaveLength(neu.trials.length);
    const mail = renderResults('mail', c.header, analyze(c.header, c.trials), chalk);
    expect(mail).toMatch(/\|change +\| baseline +\| \+3ms \(\+300\.0%\) +\|/);
    expect(mail).toContain('QEMU 7.2.22 vs 10.0.2');
  });

  it("takes a compare's build under test and names how the runs differ", () => {
    const c = combineRuns(stored('compare-small.jsonl'), stored('run-qemu-10.0.jsonl'), ['a', 'b']);
    expect(c.notes).toContain('compare-small.jsonl is a compare: its last variant "with this patch" is taken.');
    expect(c.notes).toContain('The runs differ in ram: 256M in compare-small.jsonl, 512M in run-qemu-10.0.jsonl.');
  });

  it('relabels variants by position', () => {
    const cmp = stored('compare-small.jsonl');
    const r = relabel(cmp.header, cmp.trials, ['old', undefined]);
    expect(r.header.variants.map((v) => v.label)).toEqual(['old', 'with this patch']);
    expect(new Set(r.trials.map((t) => t.variant))).toEqual(new Set(['old', 'with this patch']));
  });
});

describe('small things', () => {
  it('counts read as English', () => {
    expect(plural(1, 'trial')).toBe('1 trial');
    expect(plural(2, 'vCPU')).toBe('2 vCPUs');
    const run = stored('run-qemu-7.2.jsonl');
    const one = renderResults('table', run.header, analyze(run.header, run.trials.slice(0, 1)), chalk);
    expect(one).toContain('1 vCPU,');
    expect(one).toContain('over 1 of 1 trial;');
    expect(one).not.toMatch(/\b1 (trials|vCPUs|migrations)\b/);
  });

  it('fits the terminal table to the width it is given', () => {
    const cmp = stored('compare-small.jsonl');
    const wide = renderResults('table', cmp.header, analyze(cmp.header, cmp.trials), chalk);
    expect(Math.max(...wide.split('\n').slice(0, 5).map((l) => l.length))).toBeGreaterThan(100);
    for (const columns of [60, 80]) {
      const narrow = renderResults('table', cmp.header, analyze(cmp.header, cmp.trials), chalk, { columns });
      const tableLines = narrow.split('\n').filter((l) => /^[|=]/.test(l));
      expect(Math.max(...tableLines.map((l) => l.length))).toBeLessThanOrEqual(columns);
      // nothing is cut short: every figure of the wide table is still there
      for (const cell of ['27ms', '-16ms (-14.3%)', '-28 to 35ms', '0.968', 'not significant']) expect(narrow).toContain(cell);
      expect(narrow).not.toContain('~');
    }
    const run = stored('run-qemu-10.0.jsonl');
    const lines = renderResults('table', run.header, analyze(run.header, run.trials), chalk, { columns: 60 }).split('\n').filter((l) => /^[|=]/.test(l));
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(60);
  });

  it('gives long row labels (phase names) the room the cells leave in the mail table', () => {
    const lines = renderTable(['A', 'B'], [['save device state (non-iterable)', '1.08ms', '1.05ms']]);
    expect(lines.join('\n')).toContain('|save device state (non-iterable) |');
    const cmp = stored('compare-breakdown.jsonl');
    const mail = renderResults('mail', cmp.header, analyze(cmp.header, cmp.trials), chalk);
    expect(mail).toContain('stop the VM (vCPUs, handlers, drain)');
    expect(mail).not.toContain('~');
  });

  it('prints how a change is tested only when there is a change', () => {
    const run = stored('run-qemu-7.2.jsonl');
    for (const f of ['mail', 'markdown'] as const) expect(renderResults(f, run.header, analyze(run.header, run.trials), chalk)).not.toContain('Mann-Whitney');
    const cmp = stored('compare-small.jsonl');
    expect(renderResults('mail', cmp.header, analyze(cmp.header, cmp.trials), chalk)).toContain('Mann-Whitney');
  });

  it('shows the noise floor and the noisy-host warning in every text format, and as data in JSON', () => {
    const run = stored('run-qemu-7.2.jsonl');
    for (const f of ['table', 'mail', 'markdown'] as const) {
      const out = renderResults(f, run.header, analyze(run.header, run.trials), chalk).replace(/\n/g, ' ');
      expect(out).toMatch(/Noise floor: the guest's heartbeat gaps before migrating were median [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms/);
      expect(out).toMatch(/Warning:?\*{0,2} noisy host: 1 other qemu-system process running in 5 of 5 trials; load average 8.25 on 2 CPUs/);
    }
    const json = JSON.parse(renderResults('json', run.header, analyze(run.header, run.trials), chalk)) as { noise: { floor: unknown; warning: string } };
    expect(json.noise.floor).toMatchObject({ trials: 5, periodMs: 1 });
    expect(json.noise.warning).toMatch(/^noisy host: /);
    const html = htmlReportPage(run.header, analyze(run.header, run.trials), []);
    expect(html).toMatch(/<p class="warning" role="alert">Warning: noisy host: 1 other qemu-system process/);
    expect(html).toContain('Noise floor: ');
  });
});
