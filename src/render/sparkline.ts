// A variant's downtimes as a one-line histogram for the terminal table: the range is cut into
// `width` equal bins and each bin's count drawn as a block of matching height, so a reader sees
// at a glance whether the downtimes cluster, spread or have a straggler, which the median and
// min-max cells cannot show. Give every variant of a table the same min and max so their lines
// share one axis and can be compared column by column.

export interface SparklineOptions {
  /** characters in the line, one per bin (default 16) */
  width?: number;
  /** left edge of the axis (default: the smallest value) */
  min?: number;
  /** right edge of the axis (default: the largest value) */
  max?: number;
  /** printable ASCII only, for terminals and logs that cannot show block characters */
  ascii?: boolean;
}

export const DEFAULT_SPARKLINE_WIDTH = 16;

// Heights 1 to 8 (index 0 is an empty bin). An occupied bin always shows at least the lowest
// block, so a single trial in a bin is never drawn as nothing.
const BLOCKS = [' ', '\u2581', '\u2582', '\u2583', '\u2584', '\u2585', '\u2586', '\u2587', '\u2588'] as const;
const ASCII = [' ', '.', ',', ':', '-', '=', '+', '*', '#'] as const;
const LEVELS = BLOCKS.length - 1;

/**
 * Exactly `width` characters (a table column stays aligned), blank when there is nothing to
 * draw. Non-finite values are skipped; values outside [min, max] go to the edge bins, so a
 * straggler beyond a shared axis still shows. When all values are equal (or min equals max)
 * they share the middle bin.
 */
export function sparkline(values: readonly number[], opts: SparklineOptions = {}): string {
  const width = Math.max(1, Math.floor(opts.width ?? DEFAULT_SPARKLINE_WIDTH));
  const chars = opts.ascii ? ASCII : BLOCKS;
  const xs = values.filter((v) => Number.isFinite(v));
  if (xs.length === 0) return ' '.repeat(width);

  let lo = opts.min !== undefined && Number.isFinite(opts.min) ? opts.min : Math.min(...xs);
  let hi = opts.max !== undefined && Number.isFinite(opts.max) ? opts.max : Math.max(...xs);
  if (lo > hi) [lo, hi] = [hi, lo];

  const counts = new Array<number>(width).fill(0);
  for (const v of xs) {
    let bin: number;
    if (hi === lo) bin = Math.floor((width - 1) / 2);
    else bin = Math.floor(((v - lo) / (hi - lo)) * width);
    // v === hi lands one past the last bin; values off the axis are clamped to its ends
    counts[Math.min(width - 1, Math.max(0, bin))]!++;
  }
  const peak = Math.max(...counts);
  return counts.map((c) => chars[c === 0 ? 0 : Math.max(1, Math.ceil((c / peak) * LEVELS))]).join('');
}
