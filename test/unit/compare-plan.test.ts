import { describe, expect, it } from 'vitest';
import { planOrder } from '../../src/commands/compare.js';
import { checkGates } from '../../src/commands/gate-checks.js';
import { parseGateOptions } from '../../src/commands/gates.js';
import { UsageError } from '../../src/errors.js';
import type { CompareReport } from '../../src/stats/report.js';

const tag = (p: { variant: number; index: number; warmup: boolean }) => `${p.warmup ? 'w' : ''}${'AB'[p.variant]}${p.index}`;

describe('trial order', () => {
  it('puts warm-ups first, then alternates A B A B', () => {
    expect(planOrder(3, 1, 'alternate', 1).map(tag)).toEqual(['wA1', 'wB1', 'A1', 'B1', 'A2', 'B2', 'A3', 'B3']);
  });

  it('shuffles reproducibly from the seed, with N of each', () => {
    const a = planOrder(10, 0, 'shuffle', 42).map(tag);
    expect(planOrder(10, 0, 'shuffle', 42).map(tag)).toEqual(a);
    expect(planOrder(10, 0, 'shuffle', 43).map(tag)).not.toEqual(a);
    expect(a.filter((t) => t.startsWith('A'))).toHaveLength(10);
    expect(a.filter((t) => t.startsWith('B'))).toHaveLength(10);
  });

  it('resumes with only what is missing, in the original order', () => {
    const full = planOrder(4, 1, 'shuffle', 9).map(tag);
    const rest = planOrder(4, 1, 'shuffle', 9, { warmups: [1, 1], measured: [2, 1] }).map(tag);
    expect(rest).toEqual(full.filter((t) => !['wA1', 'wB1', 'A1', 'A2', 'B1'].includes(t)));
  });
});

function reportWith(medianA: number, medianB: number, verdict: string, pValue = 0.01): CompareReport {
  const s = (m: number) => ({ n: 10, median: m, mean: m, min: m, max: m, q1: m, q3: m, iqr: 0, mad: 0, outliers: [] });
  return {
    variants: [{ label: 'without this patch' }, { label: 'with this patch' }],
    metrics: [
      {
        key: 'qemuDowntime',
        label: 'QEMU downtime',
        unit: 'ms',
        values: [],
        summaries: [s(medianA), s(medianB)],
        comparisons: [null, { medianA, medianB, deltaMs: medianB - medianA, deltaPct: ((medianB - medianA) / medianA) * 100, verdict, pValue }],
      },
    ],
  } as unknown as CompareReport;
}

describe('CI gates', () => {
  it('validates its values before anything runs', () => {
    expect(() => parseGateOptions({ maxDowntime: 'soon' })).toThrow(new UsageError('--max-downtime: "soon" is not a non-negative number'));
    expect(() => parseGateOptions({ failIfRegression: '-5' })).toThrow(new UsageError('--fail-if-regression: "-5" is not a non-negative number'));
    expect(parseGateOptions({ maxDowntime: '50', failIfRegression: '10' })).toEqual({ maxDowntimeMs: 50, regressionPct: 10 });
    expect(parseGateOptions({})).toEqual({});
  });

  it('--max-downtime fails a median above the limit', () => {
    expect(checkGates({ maxDowntimeMs: 30 }, reportWith(35, 40, 'slower'))).toMatch(
      /--max-downtime: with this patch median downtime 40ms is above the limit of 30ms/,
    );
    expect(checkGates({ maxDowntimeMs: 50 }, reportWith(35, 40, 'slower'))).toBeUndefined();
  });

  it('--fail-if-regression fails only a significant regression beyond the threshold', () => {
    expect(checkGates({ regressionPct: 10 }, reportWith(35, 40, 'slower'))).toMatch(/14\.3% worse than without this patch's 35ms \(limit 10%, p = 0\.010\)/);
    expect(checkGates({ regressionPct: 20 }, reportWith(35, 40, 'slower'))).toBeUndefined();
    expect(checkGates({ regressionPct: 10 }, reportWith(35, 40, 'no significant difference', 0.3))).toBeUndefined();
    expect(checkGates({ regressionPct: 10 }, reportWith(35, 4, 'faster'))).toBeUndefined();
  });
});
