// What every chart shares: the look (palette, font, Vega-Lite config), the variant titles, the
// deterministic jitter, and which trials are plotted.

import type { TopLevelSpec } from 'vega-lite';
import type { RunHeader, TrialRecord } from '../trial/types.js';
import { pointKey } from '../trial/sweep.js';
import type { MetricKey } from '../stats/report.js';
import { displayLabels } from './format.js';

export interface ChartSpec {
  /** file-name safe and unique within one call: "distribution", "sweep-max-bandwidth", "progress-1-a-3" */
  name: string;
  title: string;
  spec: TopLevelSpec;
}

/** A variant's label and the title the charts show for it. */
export type VariantTitle = { label: string; title: string };

// Only the downtimes are plotted: they are what the benchmark is about, and total migration time
// is 10-100 times larger, so it would need its own scale and adds little to the picture.
export const PLOTTED: readonly MetricKey[] = ['qemuDowntime', 'guestDowntime'];

/** Tableau 10, vega's default: distinguishable for the common forms of colour blindness. */
export const PALETTE = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

// Shared look: white background (the SVG files are opened on their own too), no chart border.
export const CONFIG = {
  background: 'white',
  font: FONT,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal', gridColor: '#e6e6e6' },
  title: { fontSize: 14, subtitleFontSize: 11, subtitleColor: '#555', anchor: 'start', offset: 10 },
  header: { labelFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 11, orient: 'bottom' },
} as const;

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Lower-case letters, digits and dashes: safe as a file name on every system. */
export function slug(text: string): string {
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
export function variantTitles(header: RunHeader, trials: readonly TrialRecord[], override?: readonly string[]): VariantTitle[] {
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
export function measured(header: RunHeader, trials: readonly TrialRecord[]): TrialRecord[] {
  return trials.filter((t) => t.runId === header.runId && !t.warmup && t.status === 'completed');
}

export function colorScale(titles: string[]) {
  return { domain: titles, range: titles.map((_, i) => PALETTE[i % PALETTE.length]!) };
}

export function pointOf(t: TrialRecord): Record<string, string | number> | undefined {
  const p = t.point;
  return p && typeof p === 'object' && !Array.isArray(p) && Object.keys(p).length > 0 ? p : undefined;
}

/** The sweep's points in the order the header planned them (config.sweep), else as first seen. */
export function plannedOrder(header: RunHeader): string[] {
  return (header.config.sweep ?? []).map(pointKey);
}
