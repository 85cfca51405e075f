// Descriptive statistics of one sample (one metric of one variant), as the compare renderers
// show them. Pure: numbers in, plain data out, so a results file gives the same summary as a
// live run. Every statistic simple-statistics has is taken from it rather than re-derived here.

import {
  interquartileRange,
  max,
  mean,
  median,
  medianAbsoluteDeviation,
  min,
  quantile,
  sampleStandardDeviation,
} from 'simple-statistics';

/** 1/Phi^-1(3/4): turns a MAD into a consistent estimate of a normal distribution's sd. */
export const MAD_TO_SD = 1.4826;
/** sqrt(pi/2): turns a mean absolute deviation into an estimate of a normal distribution's sd. */
export const MEAN_AD_TO_SD = 1.253314;
/**
 * Modified z-score above which a value counts as an outlier. 3.5 is the cut-off Iglewicz and
 * Hoaglin (1993) recommend, the reference hyperfine's outlier detection cites. (hyperfine itself
 * flags only scores above 10 sd-equivalents; migdown samples are small, a few dozen trials, and
 * a 3.5-sd excursion in downtime is worth a warning on a shared host.)
 */
export const OUTLIER_Z = 3.5;

/** The statistics of a sample with at least one value. */
export interface FilledSummary {
  n: number;
  median: number;
  mean: number;
  /** sample standard deviation (n - 1 denominator); undefined for n = 1, where it does not exist */
  sd?: number;
  min: number;
  max: number;
  /** quartiles by linear interpolation between order statistics (Hyndman and Fan type 7, R's default) */
  q1: number;
  q3: number;
  iqr: number;
  /** raw median absolute deviation from the median (not scaled by MAD_TO_SD) */
  mad: number;
  /** indices into the input of the values whose modified z-score exceeds OUTLIER_Z */
  outliers: number[];
  /** set when outliers is non-empty, worded after hyperfine's warning */
  outlierWarning?: string;
}

/** An empty sample: no statistics exist, so none are given (rather than NaN, which JSON loses). */
export interface EmptySummary {
  n: 0;
  outliers: [];
}

export type Summary = FilledSummary | EmptySummary;

/** True when the summary has statistics (n >= 1); narrows the type for callers. */
export function hasValues(s: Summary): s is FilledSummary {
  return s.n > 0;
}

/**
 * Modified z-scores |x - median| / (1.4826 * MAD) (Iglewicz and Hoaglin). When more than half
 * the values are equal the MAD is 0 and the score is undefined; QEMU reports downtime in whole
 * milliseconds, so that happens in ordinary runs ([4,4,4,5,4,4,5]). Then the mean absolute
 * deviation scaled by sqrt(pi/2) stands in for the sd, as IBM SPSS/Cognos define the modified
 * z-score for MAD = 0; only if that is 0 too (all values equal) is nothing an outlier. hyperfine
 * divides by machine epsilon instead, which would flag every 5 in the example above.
 */
export function modifiedZScores(values: readonly number[]): number[] {
  if (values.length === 0) return [];
  const med = median(values);
  const mad = medianAbsoluteDeviation(values);
  let scale = MAD_TO_SD * mad;
  if (scale === 0) {
    scale = MEAN_AD_TO_SD * mean(values.map((x) => Math.abs(x - med)));
  }
  if (scale === 0) return values.map(() => 0);
  return values.map((x) => Math.abs(x - med) / scale);
}

/** hyperfine's outlier warning, with the count so a reader of the table can judge it. */
export function outlierWarningText(outliers: number, n: number): string {
  return (
    `Statistical outliers were detected (${outliers} of ${n} values). Consider re-running ` +
    'this benchmark on a quiet system without any interferences from other programs.'
  );
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) return { n: 0, outliers: [] };
  for (const v of values) {
    // A NaN would poison every statistic silently; the caller must filter missing values.
    if (!Number.isFinite(v)) throw new RangeError(`summarize: non-finite value ${v}`);
  }
  const [q1, q3] = quantile(values, [0.25, 0.75]) as [number, number];
  const outliers: number[] = [];
  modifiedZScores(values).forEach((z, i) => {
    if (z > OUTLIER_Z) outliers.push(i);
  });
  const summary: FilledSummary = {
    n,
    median: median(values),
    mean: mean(values),
    min: min(values),
    max: max(values),
    q1,
    q3,
    iqr: interquartileRange(values),
    mad: medianAbsoluteDeviation(values),
    outliers,
  };
  // simple-statistics throws for n < 2: a sample sd needs two values
  if (n >= 2) summary.sd = sampleStandardDeviation(values);
  if (outliers.length > 0) summary.outlierWarning = outlierWarningText(outliers.length, n);
  return summary;
}
