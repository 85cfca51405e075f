// The statistics layer against worked examples whose answers are published, so a regression
// shows up as a disagreement with a textbook rather than with our own earlier output.

import { describe, expect, it } from 'vitest';
import {
  bootstrapMedianDiffCI,
  compareSamples,
  mannWhitney,
  mulberry32,
} from '../../src/stats/compare.js';
import { hasValues, modifiedZScores, summarize } from '../../src/stats/summary.js';

function filled(values: number[]) {
  const s = summarize(values);
  if (!hasValues(s)) throw new Error('expected a filled summary');
  return s;
}

describe('summarize', () => {
  it('gives the quartiles of Wikipedia\'s "Quartile" example 1', () => {
    // 6 7 15 36 39 40 41 42 43 47 49: Q1 25.5, Q2 40, Q3 42.5 (method 2, which agrees with the
    // linear-interpolation method R calls type 7 for n = 11; R: quantile(x) gives the same).
    const s = filled([6, 47, 49, 15, 42, 41, 7, 39, 43, 40, 36]);
    expect(s.q1).toBe(25.5);
    expect(s.median).toBe(40);
    expect(s.q3).toBe(42.5);
    expect(s.iqr).toBe(17);
    expect(s.min).toBe(6);
    expect(s.max).toBe(49);
    expect(s.n).toBe(11);
  });

  it('gives the sample standard deviation of Wikipedia\'s "Standard deviation" example', () => {
    // 2 4 4 4 5 5 7 9: mean 5, population sd 2, sample sd sqrt(32/7) = 2.138
    const s = filled([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.mean).toBe(5);
    expect(s.sd).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(s.sd).toBeCloseTo(2.138, 3);
    expect(s.median).toBe(4.5);
  });

  it('gives the MAD of Wikipedia\'s "Median absolute deviation" example', () => {
    // 1 1 2 2 4 6 9: median 2, absolute deviations 1 1 0 0 2 4 7, MAD 1
    const s = filled([1, 1, 2, 2, 4, 6, 9]);
    expect(s.median).toBe(2);
    expect(s.mad).toBe(1);
    // and 9, 7 MADs out, has modified z 7 / 1.4826 = 4.7 > 3.5
    expect(s.outliers).toEqual([6]);
  });

  it('returns an empty summary, without throwing, for no values', () => {
    const s = summarize([]);
    expect(s).toEqual({ n: 0, outliers: [] });
    expect(hasValues(s)).toBe(false);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('has no sd for a single value', () => {
    const s = filled([35]);
    expect(s.sd).toBeUndefined();
    expect([s.min, s.median, s.max, s.q1, s.q3, s.iqr, s.mad]).toEqual([35, 35, 35, 35, 35, 0, 0]);
  });

  it('rejects non-finite values instead of returning NaN statistics', () => {
    expect(() => summarize([1, Number.NaN])).toThrow(RangeError);
  });
});

describe('outliers (modified z-score, Iglewicz and Hoaglin)', () => {
  it('flags the worked example 10 11 12 12 13 14 35 (z of 35 = 0.6745 * 23 / 1 = 15.5)', () => {
    const values = [10, 11, 12, 12, 13, 14, 35];
    expect(modifiedZScores(values)[6]).toBeCloseTo(23 / 1.4826, 6);
    const s = filled(values);
    expect(s.outliers).toEqual([6]);
    expect(s.outlierWarning).toMatch(/^Statistical outliers were detected \(1 of 7 values\)\. Consider re-running/);
  });

  it("agrees with hyperfine's own outlier test cases", () => {
    expect(filled([50]).outliers).toEqual([]);
    expect(filled([1000, 0]).outliers).toEqual([]);
    expect(filled([-0.2, 0.0, 0.2]).outliers).toEqual([]);
    expect(filled([-0.2, 0.0, 0.2, 4.0]).outliers).toEqual([3]);
    expect(filled([0.5, 0.3, 0.29, 0.31, 0.3]).outliers).toEqual([0]);
    const normal = [
      2.33269488, 1.42195907, -0.57527698, -0.31293437, 2.2948158, 0.75813273, -1.0712388, -0.96394741, -1.15897446,
      1.10976285,
    ];
    expect(filled(normal).outliers).toEqual([]);
    expect(filled([...normal, 20.0, -500.0]).outliers).toEqual([10, 11]);
  });

  it('handles MAD = 0 with the mean absolute deviation (hyperfine cases, stats.stackexchange 339932)', () => {
    expect(filled([10, 10, 10, 10, 10, 10, 10, 100]).outliers).toEqual([7]);
    expect(filled([10, 10, 10, 10, 10, 10, 10, 100, 100]).outliers).toEqual([7, 8]);
  });

  it('does not flag whole-millisecond jitter when most values are equal', () => {
    // MAD 0; dividing by epsilon (hyperfine) would call both 5s outliers
    const s = filled([4, 4, 4, 4, 5, 4, 4, 5]);
    expect(s.mad).toBe(0);
    expect(s.outliers).toEqual([]);
    expect(s.outlierWarning).toBeUndefined();
    expect(filled([7, 7, 7, 7]).outliers).toEqual([]);
  });
});

describe('mannWhitney', () => {
  it("reproduces Wikipedia's tortoise-and-hare U values", () => {
    // Finishing order T H H H H H T T T T T H; positions used as times (lower = faster).
    // Wikipedia: U_T = 11 (hares each tortoise beats), U_H = 25; 11 is above the two-sided 5%
    // critical value 5 for 6 and 6, so the result is not significant.
    const tortoises = [1, 7, 8, 9, 10, 11];
    const hares = [2, 3, 4, 5, 6, 12];
    const r = mannWhitney(tortoises, hares, { seed: 1 });
    expect(r.uA).toBe(25); // pairs where a tortoise is slower = U_H
    expect(r.uB).toBe(11); // pairs where a hare is slower = U_T
    expect(r.uA + r.uB).toBe(36);
    expect(r.method).toBe('exact');
    expect(r.permutations).toBe(924);
    expect(r.pValue).toBeGreaterThan(0.05);
  });

  it("reproduces R's wilcox.test example (Hollander and Wolfe 1973, p. 69): W = 35, exact p", () => {
    // R documents wilcox.test(x, y, alternative = "greater") as W = 35, p-value = 0.1272;
    // the two-sided exact p is twice that (the untied null distribution is symmetric).
    const x = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
    const y = [1.15, 0.88, 0.9, 0.74, 1.21];
    const r = mannWhitney(x, y, { seed: 1 });
    expect(r.uA).toBe(35);
    expect(r.method).toBe('exact');
    expect(r.permutations).toBe(3003);
    expect(r.pValue).toBeCloseTo(2 * 0.1272, 4);
  });

  it('gives the exact p of complete separation, 2 / C(15, 5) = 0.000666 (exactRankTests output)', () => {
    const r = mannWhitney([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15], { seed: 1 });
    expect(r.uA).toBe(0);
    expect(r.pValue).toBeCloseTo(0.000666, 6);
    expect(r.pValue).toBe(2 / 3003);
  });

  it("matches R's normal approximation with ties and continuity correction (W = 51.5, p = 0.5966)", () => {
    // wilcox.test(x, y) on these tied data prints "W = 51.5, p-value = 0.5966"
    const x = [1, 5, 9, 24, 56, 21, 3, 7, 21, 4];
    const y = [12, 15, 5, 9, 9, 14, 56, 22, 3, 7, 32, 5];
    const r = mannWhitney(x, y, { seed: 42 });
    expect(r.uA).toBe(51.5);
    expect(r.pNormal).toBeCloseTo(0.5966, 4);
    // C(22, 10) splits is too many to enumerate: Monte Carlo estimate of the exact conditional p
    expect(r.method).toBe('monte-carlo');
    expect(r.permutations).toBe(10_000);
    expect(Math.abs(r.pValue - r.pNormal)).toBeLessThan(0.03);
    expect(mannWhitney(x, y, { seed: 42 }).pValue).toBe(r.pValue);
  });

  it('never gives a Monte Carlo p-value of 0', () => {
    const a = Array.from({ length: 12 }, (_, i) => 30 + i);
    const b = Array.from({ length: 12 }, (_, i) => 3 + i / 10);
    const r = mannWhitney(a, b, { seed: 3 });
    expect(r.method).toBe('monte-carlo');
    expect(r.pValue).toBe(1 / 10_001);
  });

  it('gives p = 1 when every value is tied', () => {
    const r = mannWhitney([5, 5, 5], [5, 5, 5], { seed: 1 });
    expect(r.pValue).toBe(1);
    expect(r.pNormal).toBe(1);
  });
});

describe('mulberry32', () => {
  it('is deterministic for a seed and stays in [0, 1)', () => {
    const a = mulberry32(12345);
    const b = mulberry32(12345);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(mulberry32(12346)()).not.toBe(xs[0]);
  });
});

// Two clearly separated samples in the seed's spirit: ~35 ms without, ~4 ms with the patch.
const WITHOUT = [35, 33, 36, 34, 35, 38, 32, 35, 37, 34, 36, 35];
const WITH = [4, 5, 4, 3, 4, 6, 4, 5, 3, 4, 4, 5];

describe('bootstrapMedianDiffCI', () => {
  it('is deterministic for a fixed seed', () => {
    const one = bootstrapMedianDiffCI(WITHOUT, WITH, { seed: 2015 });
    const two = bootstrapMedianDiffCI(WITHOUT, WITH, { seed: 2015 });
    expect(two).toEqual(one);
  });

  it('contains the true difference for clearly separated samples, and excludes 0', () => {
    // Generated as 20 + noise and 20 - 31 + the same noise, reordered: the true shift is -31.
    const noise = [0.3, -1.2, 2.1, 0.7, -0.4, 1.6, -2.3, 0.1, -0.9, 1.1, -1.7, 0.5, 2.8, -0.2, 0.9];
    const a = noise.map((e) => 35 + e);
    const b = [...noise].reverse().map((e) => 4 + e);
    for (const seed of [1, 2, 3, 99, 2 ** 31]) {
      const [lo, hi] = bootstrapMedianDiffCI(a, b, { seed });
      expect(lo).toBeLessThanOrEqual(-31);
      expect(hi).toBeGreaterThanOrEqual(-31);
      expect(hi).toBeLessThan(0);
    }
  });

  it('narrows as confidence drops', () => {
    const wide = bootstrapMedianDiffCI(WITHOUT, WITH, { seed: 5, confidence: 0.99 });
    const narrow = bootstrapMedianDiffCI(WITHOUT, WITH, { seed: 5, confidence: 0.5 });
    expect(narrow[0]).toBeGreaterThanOrEqual(wide[0]);
    expect(narrow[1]).toBeLessThanOrEqual(wide[1]);
  });
});

describe('compareSamples', () => {
  it('calls a clearly lower B "faster", with the change relative to A', () => {
    const c = compareSamples(WITHOUT, WITH, { seed: 7 });
    expect(c.medianA).toBe(35);
    expect(c.medianB).toBe(4);
    expect(c.deltaMs).toBe(-31);
    expect(c.deltaPct).toBeCloseTo((-31 / 35) * 100, 10);
    expect(c.ci![0]).toBeLessThanOrEqual(-31);
    expect(c.ci![1]).toBeGreaterThanOrEqual(-31);
    expect(c.pValue).toBeLessThan(0.001);
    expect(c.verdict).toBe('faster');
    expect(c.confidence).toBe(0.95);
    expect(c.resamples).toBe(10_000);
    expect(compareSamples(WITHOUT, WITH, { seed: 7 })).toEqual(c);
  });

  it('calls a clearly higher B "slower"', () => {
    expect(compareSamples(WITH, WITHOUT, { seed: 7 }).verdict).toBe('slower');
  });

  it('finds no significant difference between two halves of one distribution', () => {
    const c = compareSamples([35, 33, 36, 34, 35, 38], [32, 35, 37, 34, 36, 35], { seed: 7 });
    expect(c.verdict).toBe('no significant difference');
    expect(c.pValue).toBeGreaterThan(0.05);
    expect(c.ci![0]).toBeLessThanOrEqual(0);
    expect(c.ci![1]).toBeGreaterThanOrEqual(0);
  });

  it('reports insufficient data below 3 values a side, without a p-value or interval', () => {
    const c = compareSamples([35, 36], [4, 5, 4, 4], { seed: 1 });
    expect(c.verdict).toBe('insufficient data');
    expect(c.pValue).toBeUndefined();
    expect(c.ci).toBeUndefined();
    expect(c.medianA).toBe(35.5);
    expect(c.deltaMs).toBe(-31.5);
    const none = compareSamples([], [4, 5, 4], { seed: 1 });
    expect(none.verdict).toBe('insufficient data');
    expect(none.medianA).toBeUndefined();
    expect(none.medianB).toBe(4);
    expect(none.deltaMs).toBeUndefined();
  });

  it('leaves deltaPct out when A has a zero median', () => {
    const c = compareSamples([0, 0, 0], [1, 1, 2], { seed: 1 });
    expect(c.deltaMs).toBe(1);
    expect(c.deltaPct).toBeUndefined();
  });

  it('uses alpha = 1 - confidence', () => {
    // 4 vs 4 fully separated: exact two-sided p = 2 / C(8, 4) = 0.0286
    const strict = compareSamples([10, 11, 12, 13], [1, 2, 3, 4], { seed: 1, confidence: 0.99 });
    expect(strict.pValue).toBeCloseTo(2 / 70, 12);
    expect(strict.verdict).toBe('no significant difference');
    expect(compareSamples([10, 11, 12, 13], [1, 2, 3, 4], { seed: 1 }).verdict).toBe('faster');
  });

  it('rejects nonsense options', () => {
    expect(() => compareSamples([1, 2, 3], [1, 2, 3], { seed: 1, confidence: 1 })).toThrow(RangeError);
    expect(() => compareSamples([1, 2, 3], [1, 2, 3], { seed: 1, resamples: 0 })).toThrow(RangeError);
    expect(() => compareSamples([1, 2, 3], [1, 2, 3], { seed: Number.NaN })).toThrow(RangeError);
  });
});
