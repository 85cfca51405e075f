// Every format shows both measures of the pause and flags a trial whose clocks disagree, on a
// real compare's results (test/fixtures/results/compare-breakdown.jsonl, QEMU 10.0) with each
// trial's `clocks` computed as trial.ts does.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clockAgreement } from '../../src/trial/clock-agreement.js';
import type { RunHeader, TrialRecord } from '../../src/trial/types.js';
import { htmlReportPage } from '../../src/render/html-report.js';
import { renderResults } from '../../src/render/results.js';
import { makeChalk } from '../../src/render/style.js';
import { anonHugePagesOf, selectedSysfsChoice, shortKvmHostFacts, vendorModuleOf } from '../../src/qemu/host-facts.js';
import { analyze } from '../../src/stats/analysis.js';

const lines = readFileSync(new URL('../fixtures/results/compare-breakdown.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as RunHeader | TrialRecord);
const header = lines.find((l): l is RunHeader => l.kind === 'header')!;
const trials = lines
  .filter((l): l is TrialRecord => l.kind === 'trial')
  .map((t) => {
    const clocks = clockAgreement(t.guest, t.breakdown);
    return clocks ? { ...t, clocks } : t;
  });
const plain = makeChalk(false);

describe('clocks in every format', () => {
  it('the fixture has trials that agree and at least one that does not', () => {
    const cs = trials.flatMap((t) => (t.clocks ? [t.clocks] : []));
    expect(cs.length).toBeGreaterThan(2);
    expect(cs.some((c) => c.flagged)).toBe(true);
    expect(cs.some((c) => !c.flagged)).toBe(true);
  });

  for (const format of ['table', 'mail', 'markdown', 'csv', 'json'] as const) {
    it(`${format}: both measures, their difference, and DISAGREE on the flagged trial`, () => {
      const out = renderResults(format, header, analyze(header, trials), plain);
      // json flags with clocks.flagged, the others with the word
      if (format !== 'json') expect(out).toMatch(/DISAGREE/);
      if (format === 'json') {
        const doc = JSON.parse(out) as { clocks: { n: number; flagged: number }; trials: TrialRecord[] };
        expect(doc.clocks.n).toBe(trials.filter((t) => t.clocks).length);
        expect(doc.trials.some((t) => t.clocks?.flagged)).toBe(true);
      } else if (format === 'csv') {
        expect(out).toMatch(/clocks:trial \d+,without this patch,/);
      } else {
        expect(out).toMatch(/guest-observed/);
        expect(out).toMatch(/traced pause/);
      }
      if (format === 'mail') for (const l of out.split('\n')) expect(l.length).toBeLessThanOrEqual(72);
    });
  }

  it('html: a section with the flagged row', () => {
    const html = htmlReportPage(header, analyze(header, trials), []);
    expect(html).toMatch(/<section id="clocks">/);
    expect(html).toMatch(/<tr class="flagged">/);
  });
});

describe('host facts', () => {
  it('reads sysfs choices, smaps_rollup and the vendor module', () => {
    expect(selectedSysfsChoice('always [madvise] never\n')).toBe('madvise');
    expect(selectedSysfsChoice('N\n')).toBe('N');
    expect(anonHugePagesOf('Rss: 1 kB\nAnonHugePages:   2099200 kB\n')).toBe(2099200);
    expect(anonHugePagesOf('Rss: 1 kB\n')).toBeUndefined();
    expect(vendorModuleOf(['kvm', 'kvm_intel', 'ext4'])).toBe('kvm_intel');
    expect(vendorModuleOf(['kvm', 'kvm_pvm'])).toBe('kvm_pvm');
    expect(vendorModuleOf(['ext4'])).toBeUndefined();
    expect(shortKvmHostFacts({ kernel: '6.1.0', vendorModule: 'kvm_amd', tdpMmu: 'N', eagerPageSplit: 'Y', thpEnabled: 'madvise', thpDefrag: 'madvise' })).toBe(
      'kvm_amd, tdp_mmu=N, eager_page_split=Y, THP madvise/madvise, kernel 6.1.0',
    );
  });
});
