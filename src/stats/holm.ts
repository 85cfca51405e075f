// Holm's step-down adjustment of p-values for multiple comparisons (S. Holm, "A simple
// sequentially rejective multiple test procedure", Scand. J. Statist. 6:65-70, 1979). It keeps
// the family-wise error rate at alpha for any dependence between the tests, and is uniformly
// more powerful than Bonferroni. Same definition as R's p.adjust(p, method = "holm"):
// the i-th smallest of m p-values becomes max over j <= i of min(1, (m - j + 1) * p_(j)).

/** Holm-adjusted p-values, in the input's order. */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((_, i) => i).sort((i, j) => pValues[i]! - pValues[j]!);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach((idx, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * pValues[idx]!));
    adjusted[idx] = running;
  });
  return adjusted;
}
