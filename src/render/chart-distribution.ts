// The distribution of the downtimes (every trial a point over a box plot) and the pause's
// anatomy (a stacked bar of the phases' medians per variant), as Vega-Lite specs.

import type { TopLevelSpec } from 'vega-lite';
import type { RunHeader, TrialRecord } from '../trial/types.js';
import { pointKey } from '../trial/sweep.js';
import type { Analysis } from '../stats/analysis.js';
import { METRIC_DEFS } from '../stats/report.js';
import { CONFIG, PALETTE, PLOTTED, SCHEMA, colorScale, finite, jitter, measured, plannedOrder, pointOf, type ChartSpec, type VariantTitle } from './chart-look.js';

// ---------------------------------------------------------------------------------------------
// (a) distribution: every trial as a point over a box plot, one panel per downtime metric

type DistributionRow = { metric: string; row: string; variant: string; ms: number; jitter: number; desc: string };

/** One row per trial and metric, with the order of the rows (variant, or variant @ point) and the metrics that have any. */
function distributionRows(header: RunHeader, trials: readonly TrialRecord[], titles: VariantTitle[]) {
  const done = measured(header, trials);
  // In a sweep each point gets its own row (pooling 1 GiB and 16 GiB downtimes would show
  // nothing); the colour still tells the variants apart.
  const keys = [...new Set([...plannedOrder(header), ...done.map((t) => pointKey(pointOf(t)))])];
  const rowName = (variantTitle: string, key: string) => (key === '' ? variantTitle : `${variantTitle} @ ${key}`);
  const rows: DistributionRow[] = [];
  const metrics = METRIC_DEFS.filter((d) => PLOTTED.includes(d.key));
  const shown: typeof metrics = [];
  const order: string[] = [];
  for (const def of metrics) {
    let any = false;
    for (const key of keys) {
      for (const { label, title } of titles) {
        let k = 0;
        for (const t of done) {
          if (t.variant !== label || pointKey(pointOf(t)) !== key) continue;
          const v = def.pick(t);
          if (!finite(v)) continue;
          const row = rowName(title, key);
          if (!order.includes(row)) order.push(row);
          // what a screen reader says for the point (vega would read out every field, jitter too)
          rows.push({ metric: def.label, row, variant: title, ms: v, jitter: jitter(k++), desc: `${row}, trial ${t.index}: ${v} ms` });
          any = true;
        }
      }
    }
    if (any) shown.push(def);
  }
  return { rows, shown, order, keys };
}

export function distributionSpec(header: RunHeader, trials: readonly TrialRecord[], titles: VariantTitle[]): ChartSpec | undefined {
  const { rows, shown, order, keys } = distributionRows(header, trials, titles);
  if (shown.length === 0) return undefined;

  const variantTitlesShown = titles.map((t) => t.title);
  // A sweep's row label is "variant @ point": on two lines, so long labels are not cut short.
  const axis = keys.length > 1 ? { labelLimit: 220, labelExpr: "split(datum.label, ' @ ')" } : { labelLimit: 220 };
  const y = { field: 'row', type: 'nominal', sort: order, title: null, axis } as const;
  const color = {
    field: 'variant',
    type: 'nominal',
    scale: colorScale(variantTitlesShown),
    // the row labels name the variant unless a sweep adds the point to them
    legend: keys.length > 1 && variantTitlesShown.length > 1 ? { title: null } : null,
  } as const;
  const panel = (label: string) => ({
    title: { text: label, fontSize: 12, fontWeight: 'normal' as const },
    width: shown.length > 1 ? 330 : 600,
    height: { step: 56 },
    transform: [{ filter: { field: 'metric', equal: label } }],
    layer: [
      {
        // min-max whiskers: every trial is drawn as a point anyway, so Tukey's outlier marks
        // would only draw the extreme points a second time
        mark: { type: 'boxplot', extent: 'min-max', size: 34, box: { opacity: 0.3 }, rule: { color: '#999' }, median: { color: '#222', strokeWidth: 2.5 } },
        encoding: { y, color, x: { field: 'ms', type: 'quantitative', title: 'ms', scale: { zero: true, nice: true } } },
      },
      {
        mark: { type: 'circle', size: 50, opacity: 0.85, stroke: 'white', strokeWidth: 0.7 },
        encoding: {
          y,
          color,
          x: { field: 'ms', type: 'quantitative' },
          // the jitter spreads points over most of the band, so equal downtimes stay countable
          yOffset: { field: 'jitter', type: 'quantitative', scale: { domain: [-1.6, 1.6] } },
          description: { field: 'desc' },
        },
      },
    ],
    // the points' offset scale must not reach the box plot's own tick marks (median, whiskers)
    resolve: { scale: { yOffset: 'independent' } },
  });
  const title = shown.length > 1 ? 'Downtime per migration: QEMU-reported and guest-observed' : `${shown[0]!.label} per migration`;
  return {
    name: 'distribution',
    title,
    spec: {
      $schema: SCHEMA,
      title: { text: title, subtitle: 'each dot is one completed migration; boxes span the quartiles, the bar is the median, whiskers the min and max' },
      data: { values: rows },
      hconcat: shown.map((d) => panel(d.label)),
      resolve: { scale: { x: 'independent' } },
      config: CONFIG,
    } as TopLevelSpec,
  };
}


// ---------------------------------------------------------------------------------------------
// (d) the pause's anatomy: one stacked bar per variant, the median of each phase

export function breakdownSpec(analysis: Analysis, titles: VariantTitle[]): ChartSpec | undefined {
  const rows: Array<{ variant: string; phase: string; order: number; ms: number }> = [];
  const phaseOrder: string[] = [];
  for (const { label, title } of titles) {
    const summary = analysis.breakdowns.find((b) => b.variant === label)?.completed;
    for (const p of summary?.phases ?? []) {
      if (!phaseOrder.includes(p.name)) phaseOrder.push(p.name);
      rows.push({ variant: title, phase: p.name, order: phaseOrder.indexOf(p.name), ms: p.medianMs });
    }
  }
  if (rows.length === 0) return undefined;
  return {
    name: 'breakdown',
    title: 'Where the pause goes (median of each phase, QEMU tracepoints)',
    spec: {
      $schema: SCHEMA,
      config: CONFIG,
      width: 560,
      height: { step: 28 },
      data: { values: rows },
      mark: { type: 'bar', tooltip: true },
      encoding: {
        y: { field: 'variant', type: 'nominal', title: null, sort: titles.map((t) => t.title) },
        x: { field: 'ms', type: 'quantitative', title: 'ms', stack: 'zero' },
        color: {
          field: 'phase',
          type: 'nominal',
          title: 'phase',
          sort: phaseOrder,
          scale: { range: PALETTE },
          legend: { orient: 'bottom', columns: 2, labelLimit: 320 },
        },
        order: { field: 'order', type: 'quantitative' },
      },
    } as TopLevelSpec,
  };
}

