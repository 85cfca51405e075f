// Downtime against each swept parameter (median with min-max, from the analysis of each
// point), and the progress of each migration from its `info migrate` samples, as Vega-Lite specs.

import type { TopLevelSpec } from 'vega-lite';
import type { RunHeader, TrialRecord } from '../trial/types.js';
import { pointKey } from '../trial/sweep.js';
import type { Analysis } from '../stats/analysis.js';
import { METRIC_DEFS, metricOf } from '../stats/report.js';
import { hasValues } from '../stats/summary.js';
import { CONFIG, PALETTE, PLOTTED, SCHEMA, colorScale, finite, measured, plannedOrder, pointOf, slug, type ChartSpec, type VariantTitle } from './chart-look.js';

// ---------------------------------------------------------------------------------------------
// (b) sweeps: median with min-max against each swept parameter

type SweepRow = { metric: string; series: string; x: string | number; median: number; min: number; max: number; n: number };

/** Swept keys in first-seen order (a key with a single value was not swept, only recorded), with their values. */
function sweptKeys(header: RunHeader, done: readonly TrialRecord[]): { valuesOf: Map<string, Array<string | number>>; swept: string[] } {
  const valuesOf = new Map<string, Array<string | number>>();
  const points = [...(header.config.sweep ?? []), ...done.map((t) => pointOf(t)!)];
  for (const point of points) {
    for (const [k, v] of Object.entries(point)) {
      if (typeof v !== 'string' && !finite(v)) continue;
      const seen = valuesOf.get(k) ?? [];
      if (!seen.includes(v)) seen.push(v);
      valuesOf.set(k, seen);
    }
  }
  return { valuesOf, swept: [...valuesOf.entries()].filter(([, vs]) => vs.length > 1).map(([k]) => k) };
}

/**
 * One line per variant (and per value of the other swept keys, so a grid sweep does not average
 * over them), a point per value of `key`: the median and range of that sweep point's analysis.
 */
function sweepRows(key: string, swept: string[], done: readonly TrialRecord[], analysis: Analysis, titles: VariantTitle[]): SweepRow[] {
  const titleOf = new Map(titles.map((t) => [t.label, t.title]));
  const others = swept.filter((k) => k !== key);
  const groups = new Map<string, { series: string; x: string | number; point: string; variant: string }>();
  for (const t of done) {
    const p = pointOf(t)!;
    const x = p[key];
    if (x === undefined || (typeof x !== 'string' && !finite(x))) continue;
    const rest = others.map((k) => `${k}=${p[k] ?? '?'}`).join(', ');
    const variant = titleOf.get(t.variant) ?? t.variant;
    const series = rest === '' ? variant : `${variant}, ${rest}`;
    const id = JSON.stringify([series, x]);
    if (!groups.has(id)) groups.set(id, { series, x, point: pointKey(p), variant: t.variant });
  }
  const rows: SweepRow[] = [];
  for (const def of METRIC_DEFS.filter((d) => PLOTTED.includes(d.key))) {
    for (const g of groups.values()) {
      const report = analysis.points.find((p) => p.key === g.point)?.report;
      const i = report?.variants.findIndex((v) => v.label === g.variant) ?? -1;
      const s = report && metricOf(report, def.key)?.summaries[i];
      if (!s || !hasValues(s)) continue;
      rows.push({ metric: def.label, series: g.series, x: g.x, median: s.median, min: s.min, max: s.max, n: s.n });
    }
  }
  return rows;
}

export function sweepSpecs(header: RunHeader, analysis: Analysis, titles: VariantTitle[]): ChartSpec[] {
  const done = measured(header, analysis.trials).filter((t) => pointOf(t) !== undefined);
  if (done.length === 0) return [];
  const { valuesOf, swept } = sweptKeys(header, done);
  const out: ChartSpec[] = [];
  for (const key of swept) {
    const rows = sweepRows(key, swept, done, analysis, titles);
    if (rows.length === 0) continue;
    out.push(sweepSpec(key, valuesOf.get(key)!, rows));
  }
  return out;
}

function sweepSpec(key: string, xOrder: Array<string | number>, rows: SweepRow[]): ChartSpec {
  const numeric = xOrder.every(finite);
  const shown = [...new Set(rows.map((r) => r.metric))];
    const seriesNames = [...new Set(rows.map((r) => r.series))];
    const x = numeric
      ? ({ field: 'x', type: 'quantitative', title: key, scale: { zero: false, nice: true } } as const)
      : ({ field: 'x', type: 'ordinal', title: key, sort: xOrder } as const);
    const color = {
      field: 'series',
      type: 'nominal',
      title: null,
      scale: colorScale(seriesNames),
      legend: seriesNames.length > 1 ? { labelLimit: 400 } : null,
    } as const;
    const panel = (label: string) => ({
      title: { text: label, fontSize: 12, fontWeight: 'normal' as const },
      width: shown.length > 1 ? 330 : 600,
      height: 220,
      transform: [{ filter: { field: 'metric', equal: label } }],
      layer: [
        {
          mark: { type: 'rule', strokeWidth: 1.5, opacity: 0.6 },
          encoding: { x, color, y: { field: 'min', type: 'quantitative', title: 'ms', scale: { zero: true } }, y2: { field: 'max' } },
        },
        { mark: { type: 'line', strokeWidth: 2 }, encoding: { x, color, y: { field: 'median', type: 'quantitative' } } },
        { mark: { type: 'point', filled: true, size: 50 }, encoding: { x, color, y: { field: 'median', type: 'quantitative' } } },
      ],
    });
    const title = `Downtime against ${key}`;
    return {
      name: `sweep-${slug(key)}`,
      title,
      spec: {
        $schema: SCHEMA,
        title: { text: title, subtitle: 'median of the completed migrations at each value; the bar spans min to max' },
        data: { values: rows },
        hconcat: shown.map(panel),
        resolve: { scale: { y: 'independent' } },
        config: CONFIG,
      } as TopLevelSpec,
    };
}

// ---------------------------------------------------------------------------------------------
// (c) progress of each migration, from the `info migrate` samples taken while polling

const PROGRESS_SERIES = [
  { key: 'remaining', title: 'remaining RAM (MiB)', pick: (s: NonNullable<TrialRecord['samples']>[number]) => (finite(s.remainingRamBytes) ? s.remainingRamBytes / 1024 ** 2 : undefined) },
  { key: 'throughput', title: 'throughput (Mbps)', pick: (s: NonNullable<TrialRecord['samples']>[number]) => s.throughputMbps },
  { key: 'dirty', title: 'dirty pages rate (pages/s)', pick: (s: NonNullable<TrialRecord['samples']>[number]) => s.dirtyPagesRate },
] as const;

export function progressSpecs(header: RunHeader, trials: readonly TrialRecord[], titles: VariantTitle[]): ChartSpec[] {
  const out: ChartSpec[] = [];
  const ours = trials.filter((t) => t.runId === header.runId);
  const keys = [...new Set([...plannedOrder(header), ...ours.map((t) => pointKey(pointOf(t)))])];
  titles.forEach(({ label, title: variantTitle }, vi) => {
    // Warm-ups and failures too: how a migration that never converged progressed is the most
    // telling chart of all.
    const rank = (t: TrialRecord) => keys.indexOf(pointKey(pointOf(t)));
    const mine = ours
      .filter((t) => t.variant === label)
      .sort((a, b) => rank(a) - rank(b) || Number(a.warmup === false) - Number(b.warmup === false) || a.index - b.index);
    for (const t of mine) {
      const rows: Array<{ series: string; atMs: number; value: number }> = [];
      for (const s of t.samples ?? []) {
        if (!finite(s.atMs)) continue;
        for (const p of PROGRESS_SERIES) {
          const v = p.pick(s);
          if (finite(v)) rows.push({ series: p.title, atMs: s.atMs, value: v });
        }
      }
      if (rows.length === 0) continue;
      const shown = PROGRESS_SERIES.filter((p) => rows.some((r) => r.series === p.title));
      const atMax = Math.max(...(t.samples ?? []).map((s) => s.atMs).filter(finite), t.wallMs ?? 0);
      const color = PALETTE[vi % PALETTE.length]!;
      const key = pointKey(pointOf(t));
      const trialName = `${t.warmup ? 'warm-up ' : ''}trial ${t.index}${key === '' ? '' : ` at ${key}`}`;
      const who = titles.length > 1 || label !== 'run' ? `${variantTitle}, ${trialName}` : trialName;
      const outcome =
        t.status === 'completed'
          ? `completed${finite(t.info?.downtimeMs) ? `, downtime ${t.info.downtimeMs} ms` : ''}`
          : `${t.status}${t.reason ? `: ${t.reason}` : ''}`;
      const title = `Migration progress: ${who}`;
      out.push({
        name: `progress-${vi + 1}-${slug(label)}-${key === '' ? '' : `${slug(key)}-`}${t.warmup ? 'warmup-' : ''}${t.index}`,
        title,
        spec: {
          $schema: SCHEMA,
          title: { text: title, subtitle: `${outcome}; ${(t.samples ?? []).length} samples of info migrate`, subtitleLimit: 420 },
          data: { values: rows },
          vconcat: shown.map((p, i) => ({
            width: 420,
            height: 70,
            transform: [{ filter: { field: 'series', equal: p.title } }],
            mark: { type: 'line', point: { filled: true, size: 22 }, color, strokeWidth: 1.8, interpolate: 'linear' },
            encoding: {
              // one time axis for all panels, labelled once under the last
              x: {
                field: 'atMs',
                type: 'quantitative',
                scale: { domain: [0, atMax], nice: false },
                title: i === shown.length - 1 ? 'ms since the trial started' : null,
                axis: i === shown.length - 1 ? {} : { labels: false, ticks: false },
              },
              y: { field: 'value', type: 'quantitative', title: p.title, axis: { titleAngle: 0, titleAlign: 'left', titleY: -8, titleX: 0, tickCount: 3, format: ',.4~g' } },
            },
          })),
          spacing: 18,
          config: CONFIG,
        } as TopLevelSpec,
      });
    }
  });
  return out;
}

