// Two-sample comparison of one metric between a baseline (A, "without this patch") and a
// candidate (B, "with this patch"). Downtime is lower-is-better, so "faster" means B's median is
// lower. Everything random is driven by a seeded PRNG: the same samples and seed give the same
// interval and p-value on every machine, which is what lets a results file be re-rendered and a
// mailing-list table be checked by someone else.

import {
  combinations,
  errorFunction,
  median,
  permutationTest,
  quantile,
  sampleWithReplacement,
  wilcoxonRankSum,
} from 'simple-statistics';
import { holmAdjust } from './holm.js';

export type Verdict = 'faster' | 'slower' | 'no significant difference' | 'insufficient data';

/** Below this many values on either side no test or interval is attempted. */
export const MIN_N = 3;
export const DEFAULT_RESAMPLES = 10_000;
export const DEFAULT_CONFIDENCE = 0.95;
/**
 * Largest number of distinct A/B splits that is enumerated exactly instead of sampled. It also
 * bounds memory: simple-statistics' `combinations` materialises every split.
 */
export const EXACT_SPLIT_LIMIT = 100_000;

export interface CompareOptions {
  /** seeds both the bootstrap and the permutation test; coerced to an unsigned 32-bit integer */
  seed: number;
  /** bootstrap resamples and Monte Carlo permutations (default 10000) */
  resamples?: number;
  /** confidence level of the interval; the test's alpha is 1 - confidence (default 0.95) */
  confidence?: number;
}

/** Two-sided Wilcoxon-Mann-Whitney rank-sum test of A against B. */
export interface MannWhitneyResult {
  /** pairs (a, b) with a > b, ties counting 1/2; uA + uB = nA * nB */
  uA: number;
  uB: number;
  /** two-sided p-value of the permutation distribution of the rank sum (see mannWhitney) */
  pValue: number;
  /** 'exact': every split enumerated; 'monte-carlo': `permutations` random splits */
  method: 'exact' | 'monte-carlo';
  /** splits enumerated (exact) or sampled (Monte Carlo) */
  permutations: number;
  /** large-sample normal approximation with tie and continuity correction, as R's wilcox.test(exact = FALSE) */
  pNormal: number;
}

/** How B's median differs from A's (the baseline's). */
export interface MedianChangeOf {
  nA: number;
  nB: number;
  medianA?: number;
  medianB?: number;
  /** medianB - medianA, ms (negative: B takes less time) */
  deltaMs?: number;
  /** deltaMs relative to medianA, percent; absent when medianA is 0 or missing */
  deltaPct?: number;
}

export interface Comparison extends MedianChangeOf {
  confidence: number;
  /** percentile-bootstrap interval of medianB - medianA at `confidence` */
  ci?: [number, number];
  /** the p-value the verdict uses: the test's, or Holm-adjusted when `adjusted` is set */
  pValue?: number;
  /** with several comparisons against one baseline: the test's own p, before adjusting */
  pRaw?: number;
  /** how pValue was adjusted for multiplicity, over how many comparisons */
  adjusted?: { method: 'holm'; comparisons: number };
  test?: MannWhitneyResult;
  verdict: Verdict;
  seed: number;
  resamples: number;
}

/**
 * mulberry32 (Tommy Ettinger, public domain): a 32-bit state PRNG returning floats in [0, 1).
 * Not cryptographic and with a 2^32 period, which is ample for 10^4-10^6 draws; chosen because
 * it is tiny, fast, and gives identical sequences in every JavaScript engine, which
 * Math.random cannot be made to do (it has no seed).
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A second, independent stream from the same user seed, so that changing the number of bootstrap
 * resamples does not change the permutation test's draws (and vice versa).
 */
function streamSeed(seed: number, stream: number): number {
  return (Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) + stream) >>> 0;
}

/** Midranks (1-based, ties share the mean of their positions) of `values`, in input order. */
function midranks(values: readonly number[]): number[] {
  // simple-statistics ranks internally in wilcoxonRankSum but exposes only the sum.
  const order = values.map((_, i) => i).sort((i, j) => values[i]! - values[j]!);
  const ranks = new Array<number>(values.length);
  let start = 0;
  while (start < order.length) {
    let end = start;
    while (end + 1 < order.length && values[order[end + 1]!] === values[order[start]!]) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k]!] = rank;
    start = end + 1;
  }
  return ranks;
}

/** C(n, k) as a float; exact while below 2^53, and only compared against limits here. */
function choose(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return Math.round(c);
}

/** Standard normal CDF from simple-statistics' erf (absolute error about 1e-7). */
function normalCdf(z: number): number {
  return 0.5 * (1 + errorFunction(z / Math.SQRT2));
}

/**
 * Normal approximation to the Mann-Whitney U distribution with the tie correction of the
 * variance and a continuity correction of 1/2, two-sided; the same formula R's
 * `wilcox.test(..., exact = FALSE, correct = TRUE)` uses. Kept next to the permutation p-value
 * as a deterministic cross-check that needs no seed.
 */
export function mannWhitneyNormalP(uA: number, nA: number, nB: number, pooled: readonly number[]): number {
  const n = nA + nB;
  const counts = new Map<number, number>();
  for (const v of pooled) counts.set(v, (counts.get(v) ?? 0) + 1);
  let tieTerm = 0;
  for (const t of counts.values()) tieTerm += t * t * t - t;
  const variance = ((nA * nB) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (!(variance > 0)) return 1; // every value tied: no evidence of any shift
  const diff = uA - (nA * nB) / 2;
  const z = (diff - Math.sign(diff) * 0.5) / Math.sqrt(variance);
  return Math.min(1, 2 * Math.min(normalCdf(z), 1 - normalCdf(z)));
}

/**
 * Two-sided Wilcoxon-Mann-Whitney test as a permutation test of the rank sum, conditional on the
 * observed ranks (so ties are handled exactly, with midranks, and no normal approximation is
 * needed at any n):
 *
 * - when the number of distinct ways to split the pooled values into groups of nA and nB is at
 *   most min(resamples, EXACT_SPLIT_LIMIT), every split is enumerated and the p-value is exact
 *   (5 vs 5 trials: 252 splits; 7 vs 7: 3432);
 * - otherwise simple-statistics' `permutationTest` draws `resamples` random splits with the
 *   seeded PRNG, and the p-value is (extreme + 1) / (resamples + 1) (Phipson and Smyth 2010:
 *   counting the observed split keeps a Monte Carlo p-value from being 0, and valid). With
 *   10000 draws its standard error near p = 0.05 is about 0.002.
 *
 * `permutationTest` compares differences of means, so it is given midranks instead of the raw
 * values: the difference of mean ranks is a strictly increasing function of A's rank sum (for
 * fixed nA, nB), which makes it the Mann-Whitney test, and makes it insensitive to the outlier
 * trials that a mean-difference test on raw downtimes would be dominated by. Each rank is scaled
 * by 2 * nA * nB so that every group mean the test computes is an exact integer: a split and its
 * mirror image then compare equal in floating point instead of differing in the last bit.
 */
export function mannWhitney(
  a: readonly number[],
  b: readonly number[],
  opts: { seed: number; resamples?: number },
): MannWhitneyResult {
  const nA = a.length;
  const nB = b.length;
  if (nA === 0 || nB === 0) throw new RangeError('mannWhitney: both samples need at least one value');
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const pooled = [...a, ...b];
  const uA = wilcoxonRankSum([...a], [...b]) - (nA * (nA + 1)) / 2;
  const uB = nA * nB - uA;
  const pNormal = mannWhitneyNormalP(uA, nA, nB, pooled);

  // Doubled midranks are integers; times nA*nB every group mean below is an integer too. Group
  // sums stay below 2^53, so exact, up to about 5000 trials a side, far beyond any real run.
  const scaled = midranks(pooled).map((r) => 2 * r * nA * nB);
  const total = scaled.reduce((s, v) => s + v, 0);
  // Same statistic as permutationTest's mean(A) - mean(B), computed on integers.
  const statistic = (sumA: number) => sumA / nA - (total - sumA) / nB;
  const observed = Math.abs(statistic(scaled.slice(0, nA).reduce((s, v) => s + v, 0)));

  const splits = choose(nA + nB, nA);
  if (splits <= Math.min(resamples, EXACT_SPLIT_LIMIT)) {
    const indices = scaled.map((_, i) => i);
    let extreme = 0;
    for (const group of combinations(indices, nA)) {
      let sumA = 0;
      for (const i of group) sumA += scaled[i]!;
      if (Math.abs(statistic(sumA)) >= observed) extreme++;
    }
    return { uA, uB, pValue: extreme / splits, method: 'exact', permutations: splits, pNormal };
  }

  const rng = mulberry32(streamSeed(opts.seed, 2));
  const fraction = permutationTest(scaled.slice(0, nA), scaled.slice(nA), 'two_side', resamples, rng);
  // permutationTest returns extreme / resamples; recover the count to add the observed split.
  const extreme = Math.round(fraction * resamples);
  return {
    uA,
    uB,
    pValue: (extreme + 1) / (resamples + 1),
    method: 'monte-carlo',
    permutations: resamples,
    pNormal,
  };
}

/**
 * Percentile-bootstrap interval of median(B) - median(A): each resample draws nA values from A
 * and nB from B with replacement (the two samples are independent, so they are resampled
 * independently), and the interval is the (alpha/2, 1 - alpha/2) quantiles of the resampled
 * differences. With few distinct values the bootstrap distribution of a median is lumpy, so the
 * interval moves in steps of the data's own spacing; that is a property of the data, not noise.
 */
export function bootstrapMedianDiffCI(
  a: readonly number[],
  b: readonly number[],
  opts: { seed: number; resamples?: number; confidence?: number },
): [number, number] {
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const alpha = 1 - (opts.confidence ?? DEFAULT_CONFIDENCE);
  const rng = mulberry32(streamSeed(opts.seed, 1));
  const aa = [...a];
  const bb = [...b];
  const diffs = new Array<number>(resamples);
  for (let i = 0; i < resamples; i++) {
    diffs[i] = median(sampleWithReplacement(bb, bb.length, rng)) - median(sampleWithReplacement(aa, aa.length, rng));
  }
  const [lo, hi] = quantile(diffs, [alpha / 2, 1 - alpha / 2]) as [number, number];
  return [lo, hi];
}

function checkOptions(opts: CompareOptions): { seed: number; resamples: number; confidence: number } {
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const confidence = opts.confidence ?? DEFAULT_CONFIDENCE;
  if (!Number.isFinite(opts.seed)) throw new RangeError(`compareSamples: seed must be a finite number, got ${opts.seed}`);
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new RangeError(`compareSamples: resamples must be a positive integer, got ${resamples}`);
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`compareSamples: confidence must be between 0 and 1, got ${confidence}`);
  }
  return { seed: opts.seed >>> 0, resamples, confidence };
}

/**
 * Compare sample B against baseline A. Medians and the change are given whenever both samples
 * have a value; the interval, the test and a verdict other than 'insufficient data' need at least
 * MIN_N values on each side, because with 1 or 2 trials a bootstrap only re-shuffles those trials
 * and the smallest attainable two-sided p-value is 1/3 or more.
 *
 * The verdict follows the test: p <= alpha = 1 - confidence rejects "same distribution", and the
 * sign of the median change gives the direction. If the medians are equal while the test rejects
 * (the distributions differ away from the centre), the rank statistic gives it: B faster when
 * its values tend to be lower (uB < uA). The interval is reported alongside; near the threshold
 * it can include 0 while p is just below alpha, since the two answer different questions.
 */
export function compareSamples(a: readonly number[], b: readonly number[], opts: CompareOptions): Comparison {
  const { seed, resamples, confidence } = checkOptions(opts);
  for (const v of [...a, ...b]) {
    if (!Number.isFinite(v)) throw new RangeError(`compareSamples: non-finite value ${v}`);
  }
  const result: Comparison = { nA: a.length, nB: b.length, confidence, verdict: 'insufficient data', seed, resamples };
  if (a.length > 0 && b.length > 0) {
    const medianA = median(a);
    const medianB = median(b);
    result.medianA = medianA;
    result.medianB = medianB;
    Object.assign(result, medianChange(medianA, medianB));
  } else if (a.length > 0) {
    result.medianA = median(a);
  } else if (b.length > 0) {
    result.medianB = median(b);
  }
  if (a.length < MIN_N || b.length < MIN_N) return result;

  result.ci = bootstrapMedianDiffCI(a, b, { seed, resamples, confidence });
  const test = mannWhitney(a, b, { seed, resamples });
  result.test = test;
  result.pValue = test.pValue;
  result.verdict = verdictFor(result, test.pValue);
  return result;
}

/** B's median against A's: the difference in ms and, unless A's is 0, relative to A's in percent. */
export function medianChange(medianA: number, medianB: number): { deltaMs: number; deltaPct?: number } {
  return { deltaMs: medianB - medianA, ...(medianA !== 0 && { deltaPct: ((medianB - medianA) / medianA) * 100 }) };
}

/** The verdict of a comparison at p-value `p` (the test's, or an adjusted one). */
export function verdictFor(c: Comparison, p: number): Verdict {
  if (!c.test) return 'insufficient data';
  if (p > 1 - c.confidence) return 'no significant difference';
  const delta = c.deltaMs ?? 0;
  const bLower = delta !== 0 ? delta < 0 : c.test.uB < c.test.uA;
  return bLower ? 'faster' : 'slower';
}

/**
 * Several comparisons against one baseline (variants B, C ... against A): each p-value
 * Holm-adjusted over the comparisons that have one, and the verdicts redone with the adjusted
 * p, so the chance of any false "faster"/"slower" stays at alpha. One comparison: unchanged.
 */
export function adjustComparisons(comparisons: ReadonlyArray<Comparison | null>): Array<Comparison | null> {
  const tested = comparisons.filter((c): c is Comparison => c?.pValue !== undefined);
  if (tested.length < 2) return [...comparisons];
  const adjusted = holmAdjust(tested.map((c) => c.pValue!));
  return comparisons.map((c) => {
    const k = c ? tested.indexOf(c) : -1;
    if (!c || k < 0) return c;
    const p = adjusted[k]!;
    return { ...c, pRaw: c.pValue, pValue: p, adjusted: { method: 'holm', comparisons: tested.length }, verdict: verdictFor(c, p) };
  });
}
