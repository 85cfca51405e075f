// Charts of a run or compare, as SVG strings, for `report --svg DIR` and the HTML report.
// The charts are described as Vega-Lite specs built from the header and trials alone (pure, and
// JSON, so a spec can be stored or opened in the Vega editor), then compiled with vega-lite and
// rendered by vega's headless SVG renderer: no browser and no canvas, so this runs anywhere
// Node does. All data is inline in the spec and nothing in it is random (the jitter of the
// points is a fixed sequence), so the same results file always gives the same SVG bytes.

import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { RunHeader } from '../trial/types.js';
import type { Analysis } from '../stats/analysis.js';
import { variantTitles, type ChartSpec } from './chart-look.js';
import { breakdownSpec, distributionSpec } from './chart-distribution.js';
import { progressSpecs, sweepSpecs } from './chart-sweep.js';

export { jitter, type ChartSpec } from './chart-look.js';

export interface ChartSvg {
  name: string;
  title: string;
  svg: string;
}

export interface ChartOptions {
  /** variant titles in the header's order, overriding the labels (as the tables' --label does) */
  labels?: readonly string[];
}


/** Every chart the results support, as Vega-Lite specs. Pure: nothing is rendered here. */
export function buildChartSpecs(header: RunHeader, analysis: Analysis, opts: ChartOptions = {}): ChartSpec[] {
  const { trials } = analysis;
  const titles = variantTitles(header, trials.filter((t) => t.runId === header.runId), opts.labels);
  const specs = [
    ...[distributionSpec(header, trials, titles), breakdownSpec(analysis, titles)].filter((s): s is ChartSpec => s !== undefined),
    ...sweepSpecs(header, analysis, titles),
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
export async function renderChartsSvg(header: RunHeader, analysis: Analysis, opts: ChartOptions = {}): Promise<ChartSvg[]> {
  const out: ChartSvg[] = [];
  for (const c of buildChartSpecs(header, analysis, opts)) {
    out.push({ name: c.name, title: c.title, svg: await renderSpecSvg(c.spec, c.name) });
  }
  return out;
}

