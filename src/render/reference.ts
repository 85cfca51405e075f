// Published figures beside measured ones, so a reader sees at a glance whether the
// reproduction agrees: "published (Liang Li, qemu-devel, 2015-11-02): 35ms -> 4ms".

import type { RunHeader } from '../trial/types.js';
import { metricOf, type CompareReport, type MetricKey } from '../stats/report.js';
import { hasValues } from '../stats/summary.js';
import { formatMs } from './format.js';

export interface Reference {
  source: string;
  url?: string;
  metric?: 'qemu-downtime' | 'guest-downtime' | 'total-time';
  values: Record<string, number>;
  note?: string;
}

const METRIC: Record<NonNullable<Reference['metric']>, MetricKey> = {
  'qemu-downtime': 'qemuDowntime',
  'guest-downtime': 'guestDowntime',
  'total-time': 'totalTime',
};

export function referencesOf(header: RunHeader): Reference[] {
  const refs = header.config.reference;
  return Array.isArray(refs) ? (refs as Reference[]) : [];
}

export interface ReferenceRow {
  source: string;
  url?: string;
  metricLabel: string;
  /** one entry per published value, matched to a measured variant by label, or by position */
  pairs: Array<{ label: string; published: number; measured?: number }>;
}

export function referenceRows(header: RunHeader, report: CompareReport): ReferenceRow[] {
  return referencesOf(header).map((ref) => {
    const key = METRIC[ref.metric ?? 'qemu-downtime'];
    const m = metricOf(report, key);
    const entries = Object.entries(ref.values);
    return {
      source: ref.source,
      ...(ref.url && { url: ref.url }),
      metricLabel: m?.label ?? key,
      pairs: entries.map(([label, published], i) => {
        // A run has one variant labelled "run": it is measured against every published value.
        let idx = report.variants.findIndex((v) => v.label === label);
        if (idx < 0) idx = report.variants.length === 1 ? 0 : i;
        const s = m?.summaries[idx];
        return { label, published, ...(s && hasValues(s) && { measured: s.median }) };
      }),
    };
  });
}

/** Plain lines for table, mail and markdown output. */
export function referenceText(rows: ReferenceRow[]): string[] {
  return rows.map((r) => {
    const published = r.pairs.map((p) => `${p.label} ${formatMs(p.published)}`).join(', ');
    const measured = r.pairs.map((p) => (p.measured === undefined ? '-' : formatMs(p.measured))).join(', ');
    return `Published (${r.source}): ${published}; measured here (median ${r.metricLabel}): ${measured}.${r.url ? ` ${r.url}` : ''}`;
  });
}
