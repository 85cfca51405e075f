// Charts of a run or compare, as SVG strings, for `report --svg DIR` and the HTML report.
// The charts are described as Vega-Lite specs built from the header and trials alone (pure, and
// JSON, so a spec can be stored or opened in the Vega editor), then compiled with vega-lite and
// rendered by vega's headless SVG renderer: no browser and no canvas, so this runs anywhere
// Node does. All data is inline in the spec and nothing in it is random (the jitter of the
// points is a fixed sequence), so the same results file always gives the same SVG bytes.

import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { max, median, min } from 'simple-statistics';
import type { RunHeader, TrialRecord } from '../bench/types.js';
import { pointKey } from '../bench/sweep.js';
import { METRIC_DEFS, type MetricKey } from '../stats/report.js';
import { displayLabels } from './format.js';
import { summarizeBreakdowns } from '../stats/breakdown.js';

export interface ChartSpec {
  /** file-name safe and unique within one call: "distribution", "sweep-max-bandwidth", "progress-1-a-3" */
  name: string;
  title: string;
  spec: TopLevelSpec;
}

export interface ChartSvg {
  name: string;
  title: string;
  svg: string;
}

export interface ChartOptions {
  /** variant titles in the header's order, overriding the labels (as the tables' --label does) */
  labels?: readonly string[];
}

// Only the downtimes are plotted: they are what the benchmark is about, and total migration time
// is 10-100 times larger, so it would need its own scale and adds little to the picture.
const PLOTTED: readonly MetricKey[] = ['qemuDowntime', 'guestDowntime'];

/** Tableau 10, vega's default: distinguishable for the common forms of colour blindness. */
const PALETTE = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

// Shared look: white background (the SVG files are opened on their own too), no chart border.
const CONFIG = {
  background: 'white',
  font: FONT,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal', gridColor: '#e6e6e6' },
  title: { fontSize: 14, subtitleFontSize: 11, subtitleColor: '#555', anchor: 'start', offset: 10 },
  header: { labelFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 11, orient: 'bottom' },
} as const;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Lower-case letters, digits and dashes: safe as a file name on every system. */
function slug(text: string): string {
  const s = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return s === '' ? 'x' : s;
}

/**
 * Variant labels in the order the tables use (the header's, then labels only seen in trials),
 * paired with the title the tables show for them (displayLabels).
 */
function variantTitles(header: RunHeader, trials: readonly TrialRecord[], override?: readonly string[]): Array<{ label: string; title: string }> {
  const labels = header.variants.map((v) => v.label);
  for (const t of trials) if (!labels.includes(t.variant)) labels.push(t.variant);
  const titles = displayLabels({ variants: labels.map((label) => ({ label })) }, override);
  return labels.map((label, i) => ({ label, title: titles[i]! }));
}

/**
 * Position of the k-th point of a group within its band, in [-1, 1): the fractional parts of
 * multiples of the golden ratio spread any number of points evenly without randomness.
 */
export function jitter(k: number): number {
  return (((k + 1) * 0.6180339887498949) % 1) * 2 - 1;
}

/** The trials the statistics use: this run's, measured (not warm-up), completed. */
function measured(header: RunHeader, trials: readonly TrialRecord[]): TrialRecord[] {
  return trials.filter((t) => t.runId === header.runId && !t.warmup && t.status === 'completed');
}

function colorScale(titles: string[]) {
  return { domain: titles, range: titles.map((_, i) => PALETTE[i % PALETTE.length]!) };
}

// ---------------------------------------------------------------------------------------------
// (a) distribution: every trial as a point over a box plot, one panel per downtime metric

function distributionSpec(header: RunHeader, trials: readonly TrialRecord[], titles: Array<{ label: string; title: string }>): ChartSpec | undefined {
  const done = measured(header, trials);
  // In a sweep each point gets its own row (pooling 1 GiB and 16 GiB downtimes would show
  // nothing); the colour still tells the variants apart.
  const keys = [...new Set([...plannedOrder(header), ...done.map((t) => pointKey(pointOf(t)))])];
  const rowName = (variantTitle: string, key: string) => (key === '' ? variantTitle : `${variantTitle} @ ${key}`);
  const rows: Array<{ metric: string; row: string; variant: string; ms: number; jitter: number; desc: string }> = [];
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
// (b) sweeps: median with min-max against each swept parameter

function pointOf(t: TrialRecord): Record<string, string | number> | undefined {
  const p = t.point;
  return p && typeof p === 'object' && !Array.isArray(p) && Object.keys(p).length > 0 ? p : undefined;
}

/** The sweep's points in the order the header planned them (config.sweep), else as first seen. */
function plannedOrder(header: RunHeader): string[] {
  return (header.config.sweep ?? []).map(pointKey);
}

function sweepSpecs(header: RunHeader, trials: readonly TrialRecord[], titles: Array<{ label: string; title: string }>): ChartSpec[] {
  const done = measured(header, trials).filter((t) => pointOf(t) !== undefined);
  if (done.length === 0) return [];
  // Swept keys in first-seen order; a key with a single value was not swept, only recorded.
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
  const swept = [...valuesOf.entries()].filter(([, vs]) => vs.length > 1).map(([k]) => k);
  const titleOf = new Map(titles.map((t) => [t.label, t.title]));
  const out: ChartSpec[] = [];
  for (const key of swept) {
    const numeric = valuesOf.get(key)!.every(finite);
    // The other swept keys split the lines too, so a grid sweep does not average over them.
    const others = swept.filter((k) => k !== key);
    const groups = new Map<string, { series: string; x: string | number; trials: TrialRecord[] }>();
    for (const t of done) {
      const p = pointOf(t)!;
      const x = p[key];
      if (x === undefined || (typeof x !== 'string' && !finite(x))) continue;
      const rest = others.map((k) => `${k}=${p[k] ?? '?'}`).join(', ');
      const variant = titleOf.get(t.variant) ?? t.variant;
      const series = rest === '' ? variant : `${variant}, ${rest}`;
      const id = JSON.stringify([series, x]);
      const g = groups.get(id) ?? { series, x, trials: [] };
      g.trials.push(t);
      groups.set(id, g);
    }
    const rows: Array<{ metric: string; series: string; x: string | number; median: number; min: number; max: number; n: number }> = [];
    const shown: string[] = [];
    for (const def of METRIC_DEFS.filter((d) => PLOTTED.includes(d.key))) {
      for (const g of groups.values()) {
        const vs = g.trials.map(def.pick).filter(finite);
        if (vs.length === 0) continue;
        rows.push({ metric: def.label, series: g.series, x: g.x, median: median(vs), min: min(vs), max: max(vs), n: vs.length });
        if (!shown.includes(def.label)) shown.push(def.label);
      }
    }
    if (rows.length === 0) continue;
    const seriesNames = [...new Set(rows.map((r) => r.series))];
    const xOrder = valuesOf.get(key)!;
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
    out.push({
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
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// (c) progress of each migration, from the `info migrate` samples taken while polling

const PROGRESS_SERIES = [
  { key: 'remaining', title: 'remaining RAM (MiB)', pick: (s: NonNullable<TrialRecord['samples']>[number]) => (finite(s.remainingRamBytes) ? s.remainingRamBytes / 1024 ** 2 : undefined) },
  { key: 'throughput', title: 'throughput (Mbps)', pick: (s: NonNullable<TrialRecord['samples']>[number]) => s.throughputMbps },
  { key: 'dirty', title: 'dirty pages rate (pages/s)', pick: (s: NonNullable<TrialRecord['samples']>[number]) => s.dirtyPagesRate },
] as const;

function progressSpecs(header: RunHeader, trials: readonly TrialRecord[], titles: Array<{ label: string; title: string }>): ChartSpec[] {
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

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// (d) the pause's anatomy: one stacked bar per variant, the median of each phase

function breakdownSpec(header: RunHeader, trials: readonly TrialRecord[], titles: Array<{ label: string; title: string }>): ChartSpec | undefined {
  const done = measured(header, trials).filter((t) => t.breakdown?.available);
  if (done.length === 0) return undefined;
  const rows: Array<{ variant: string; phase: string; order: number; ms: number }> = [];
  const phaseOrder: string[] = [];
  for (const { label, title } of titles) {
    const summary = summarizeBreakdowns(done.filter((t) => t.variant === label).map((t) => t.breakdown!));
    for (const p of summary.phases) {
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

/** Every chart the results support, as Vega-Lite specs. Pure: nothing is rendered here. */
export function buildChartSpecs(header: RunHeader, trials: readonly TrialRecord[], opts: ChartOptions = {}): ChartSpec[] {
  const titles = variantTitles(header, trials.filter((t) => t.runId === header.runId), opts.labels);
  const specs = [
    ...[distributionSpec(header, trials, titles), breakdownSpec(header, trials, titles)].filter((s): s is ChartSpec => s !== undefined),
    ...sweepSpecs(header, trials, titles),
    ...progressSpecs(header, trials, titles),
  ];
  // Slugs of different labels or keys can coincide ("a b", "a-b"); names must stay unique files.
  const used = new Set<string>();
  for (const s of specs) {
    let name = s.name;
    for (let n = 2; used.has(name); n++) name = `${s.name}-${n}`;
    used.add(name);
    s.name = name;
  }
  return specs;
}

/**
 * Gives every id in the SVG (vega's clip paths and gradients, numbered by a counter global to the
 * process) a name derived from `prefix`, numbered from 1 in order of appearance. Without this,
 * two charts inline in one HTML page could both define "clip1", and the second chart would be
 * clipped by the first one's rectangle; and the bytes would depend on what was rendered before.
 */
export function namespaceSvgIds(svg: string, prefix: string): string {
  const ids = new Map<string, string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) {
    if (!ids.has(m[1]!)) ids.set(m[1]!, `${prefix}-${ids.size + 1}`);
  }
  if (ids.size === 0) return svg;
  return svg
    .replace(/(\sid=")([^"]+)(")/g, (all, a: string, id: string, b: string) => (ids.has(id) ? `${a}${ids.get(id)}${b}` : all))
    .replace(/url\(#([^)]+)\)/g, (all, id: string) => (ids.has(id) ? `url(#${ids.get(id)})` : all))
    .replace(/(href=")#([^"]+)(")/g, (all, a: string, id: string, b: string) => (ids.has(id) ? `${a}#${ids.get(id)}${b}` : all));
}

/** One spec to an SVG document string (headless: no DOM, no canvas). */
export async function renderSpecSvg(spec: TopLevelSpec, idPrefix = 'chart'): Promise<string> {
  const compiled = compile(spec).spec;
  // The loader refuses everything: the specs carry their data inline and nothing may be fetched.
  const loader = vega.loader();
  loader.load = () => Promise.reject(new Error('migdown charts load nothing'));
  loader.sanitize = () => Promise.reject(new Error('migdown charts load nothing'));
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', loader, logLevel: vega.Error });
  try {
    return namespaceSvgIds(await view.toSVG(), idPrefix);
  } finally {
    view.finalize();
  }
}

/**
 * Every chart the results support, rendered to SVG: the downtime distribution of each variant,
 * one chart per swept parameter (none without sweeps), and one progress chart per trial that
 * recorded samples. Asynchronous because vega's renderer is; charts are rendered one at a time.
 */
export async function renderChartsSvg(header: RunHeader, trials: readonly TrialRecord[], opts: ChartOptions = {}): Promise<ChartSvg[]> {
  const out: ChartSvg[] = [];
  for (const c of buildChartSpecs(header, trials, opts)) {
    out.push({ name: c.name, title: c.title, svg: await renderSpecSvg(c.spec, c.name) });
  }
  return out;
}
