// The HTML report's tables: the summary (the same numbers and wording as the markdown and mail
// tables), published figures beside the measured medians, and the notes under them. Every
// piece of text that came from the results file is HTML-escaped here.

import type { RunHeader } from '../trial/types.js';
import type { Comparison } from '../stats/compare.js';
import type { CompareReport } from '../stats/report.js';
import { hasValues } from '../stats/summary.js';
import { formatChange, formatCI, formatConfidence, formatMs, formatP, formatPct, formatSignedMs, medianCell, pTitle, rangeCell, trialsCell, verdictText } from './format.js';
import { referenceRows, referencesOf, type Reference, type ReferenceRow } from './reference.js';
import { plural } from '../util/plural.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}


const e = escapeHtml;


/**
 * The header with only well-formed reference figures in its config. A results file can be edited
 * by hand and reference.ts trusts the shape the scenario schema checked; a malformed entry is
 * left out here rather than allowed to throw or to print "undefined".
 */
export function withValidReferences(header: RunHeader): RunHeader {
  const raw = header.config.reference;
  if (!Array.isArray(raw)) return header;
  const valid: Reference[] = [];
  for (const r of raw as unknown[]) {
    if (!r || typeof r !== 'object') continue;
    const { source, url, values, metric, note } = r as Record<string, unknown>;
    if (typeof source !== 'string' || !values || typeof values !== 'object' || Array.isArray(values)) continue;
    const nums = Object.entries(values as Record<string, unknown>).filter((kv): kv is [string, number] => typeof kv[1] === 'number' && Number.isFinite(kv[1]));
    if (nums.length === 0) continue;
    const ref: Reference = { source, values: Object.fromEntries(nums) };
    if (typeof url === 'string' && url.trim() !== '') ref.url = url.trim();
    if (metric === 'qemu-downtime' || metric === 'guest-downtime' || metric === 'total-time') ref.metric = metric;
    else if (metric !== undefined) continue; // a metric this version does not know: no guessing
    if (typeof note === 'string' && note.trim() !== '') ref.note = note.trim();
    valid.push(ref);
  }
  return { ...header, config: { ...header.config, reference: valid } };
}

/** A link only for web addresses: a results file must not be able to plant a javascript: URL. */
export function sourceHtml(source: string, url: string | undefined): string {
  return url && /^https?:\/\//i.test(url) ? `<a href="${e(url)}">${e(source)}</a>` : e(source);
}

function verdictClass(c: Comparison | null | undefined): string {
  if (!c) return '';
  return c.verdict === 'faster' ? ' class="better"' : c.verdict === 'slower' ? ' class="worse"' : '';
}

// ---------------------------------------------------------------------------------------------

export function summaryTable(report: CompareReport, labels: string[]): string {
  const n = report.variants.length;
  const rows: string[] = [];
  const row = (head: string, cells: string[], cls = '') =>
    rows.push(`<tr${cls}><th scope="row">${head}</th>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`);
  for (const m of report.metrics) {
    rows.push(`<tr class="group"><th scope="rowgroup" colspan="${n + 1}">${e(m.label)}</th></tr>`);
    row('median', report.variants.map((v, i) => `<strong>${e(medianCell(v, m.summaries[i]))}</strong>`));
    row('min-max', m.summaries.map((s) => e(rangeCell(s))));
    if (n > 1) {
      const cmp = (f: (c: Comparison) => string | undefined, baseline: string) =>
        Array.from({ length: n }, (_, i) => {
          if (i === 0) return e(baseline);
          const c = m.comparisons[i];
          return e((c && f(c)) ?? '-');
        });
      row('change', cmp(formatChange, 'baseline'));
      row(`${e(formatConfidence(report.confidence))} CI`, cmp((c) => (c.ci ? formatCI(c.ci) : undefined), ''));
      row(e(pTitle(m)), cmp((c) => (c.pValue === undefined ? undefined : formatP(c.pValue)), ''));
      rows.push(
        `<tr><th scope="row">verdict</th>${report.variants
          .map((_, i) => (i === 0 ? '<td></td>' : `<td${verdictClass(m.comparisons[i])}>${e(m.comparisons[i] ? verdictText(m.comparisons[i]!.verdict) : '-')}</td>`))
          .join('')}</tr>`,
      );
    }
  }
  rows.push(`<tr class="group"><th scope="rowgroup" colspan="${n + 1}">trials</th></tr>`);
  row('completed (n)', report.variants.map((v) => e(trialsCell(v))));
  if (report.variants.some((v) => v.warmups > 0)) row('warm-up, not counted', report.variants.map((v) => String(v.warmups)));
  return (
    `<table class="summary">\n<thead><tr><td></td>${labels.map((l) => `<th scope="col">${e(l)}</th>`).join('')}</tr></thead>\n` +
    `<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`
  );
}

/**
 * Published figures beside the measured medians: one table per metric, a row per published
 * label, the median measured here (matched as reference.ts matches it for the text formats, so
 * every format agrees), then one column per source.
 */
export function referenceTables(header: RunHeader, report: CompareReport): string {
  const rows = referenceRows(header, report);
  const refs = referencesOf(header);
  const byMetric = new Map<string, Array<{ row: ReferenceRow; note?: string }>>();
  rows.forEach((row, i) => {
    const list = byMetric.get(row.metricLabel) ?? [];
    const note = refs[i]?.note;
    list.push({ row, ...(note !== undefined && { note }) });
    byMetric.set(row.metricLabel, list);
  });
  const out: string[] = [];
  for (const [metricLabel, sources] of byMetric) {
    const labels: string[] = [];
    for (const { row } of sources) for (const p of row.pairs) if (!labels.includes(p.label)) labels.push(p.label);
    const body = labels.map((label) => {
      const measured = sources.flatMap(({ row }) => row.pairs.filter((p) => p.label === label && p.measured !== undefined)).map((p) => p.measured!)[0];
      const cells = sources.map(({ row }) => {
        const pair = row.pairs.find((p) => p.label === label);
        if (!pair) return '<td class="muted">-</td>';
        let diff = '';
        if (measured !== undefined) {
          const d = measured - pair.published;
          diff = ` <span class="muted">(measured ${e(formatSignedMs(d))}${pair.published !== 0 ? `, ${e(formatPct((d / pair.published) * 100))}` : ''})</span>`;
        }
        return `<td>${e(formatMs(pair.published))}${diff}</td>`;
      });
      const m = measured === undefined ? '<td class="muted">not measured</td>' : `<td><strong>${e(formatMs(measured))}</strong></td>`;
      return `<tr><th scope="row">${e(label)}</th>${m}${cells.join('')}</tr>`;
    });
    const notes = sources.filter((s) => s.note !== undefined).map((s) => `<p class="muted">${e(s.row.source)}: ${e(s.note!)}</p>`);
    out.push(
      `<table class="reference">\n<caption>${e(metricLabel)}: measured here and published</caption>\n` +
        `<thead><tr><td></td><th scope="col">measured median</th>${sources
          .map(({ row }) => `<th scope="col">published: ${sourceHtml(row.source, row.url)}</th>`)
          .join('')}</tr></thead>\n<tbody>\n${body.join('\n')}\n</tbody>\n</table>${notes.length ? `\n${notes.join('\n')}` : ''}`,
    );
  }
  return out.join('\n');
}

export function noteItems(report: CompareReport, labels: string[]): string[] {
  const items: string[] = [];
  report.variants.forEach((v, i) => {
    if (v.failed === 0) return;
    const who = `<strong>${e(labels[i] ?? v.label)}</strong>`;
    const head = v.allFailed ? `${who}: all ${plural(v.trials, 'migration')} failed` : `${who}: ${v.failed} of ${plural(v.trials, 'migration')} did not complete`;
    const reasons = v.failures.map((g) => `${g.count}&times; ${g.status === 'failed' ? 'QEMU said' : e(g.status)}: <code>${e(g.reason)}</code>`);
    items.push(`${head}: ${reasons.join('; ')}`);
  });
  for (const m of report.metrics) {
    m.summaries.forEach((s, i) => {
      if (hasValues(s) && s.outlierWarning) items.push(`${e(m.label)}, ${e(labels[i] ?? '')}: ${e(s.outlierWarning)}`);
    });
  }
  for (const note of report.notes) items.push(e(note));
  return items;
}
