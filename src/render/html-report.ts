// The results as one self-contained HTML page, for `report --html FILE`: the summary table (the
// same numbers and wording as the markdown and mail tables), published reference figures beside
// the measured medians, the charts as inline SVG, and everything known about the run. The page
// has no script, no external stylesheet, font or image, so it opens offline, can be mailed or
// attached to an issue as it is, and shows the same thing in every browser. Every piece of text
// that came from the results file (labels, reasons, paths, config) is HTML-escaped.

import type { RunHeader, TrialRecord } from '../bench/types.js';
import type { Comparison } from '../stats/compare.js';
import { METRIC_DEFS, type CompareReport, type MetricKey, type MetricReport } from '../stats/report.js';
import { hasValues } from '../stats/summary.js';
import { formatBytes } from '../util/units.js';
import { MIGDOWN_VERSION } from '../version.js';
import { renderChartsSvg, type ChartSvg } from './charts.js';
import {
  describeMethod,
  describeSetup,
  displayLabels,
  formatChange,
  formatCI,
  formatConfidence,
  formatMs,
  formatP,
  formatPct,
  formatSignedMs,
  medianCell,
  rangeCell,
  trialsCell,
  verdictText,
} from './compare-mail.js';
import { buildReport, type RenderOptions } from './results.js';

export interface HtmlReportOptions extends RenderOptions {
  /** column titles, overriding the variants' labels (as the tables' labels option does) */
  labels?: readonly string[];
  /** the page's heading; by default worded from the variants */
  title?: string;
  /** when the page was made (ISO 8601), shown in the footer; left out by default so output is reproducible */
  generatedAt?: string;
}

/** A published figure to set beside the measured medians (`config.reference` of the header). */
export interface ReferenceFigure {
  source: string;
  url?: string;
  /** per variant label: the published value, in ms */
  values: Record<string, number>;
  /** a metric key (qemuDowntime, guestDowntime, totalTime) or its label; QEMU downtime if absent */
  metric?: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const e = escapeHtml;

/**
 * The reference figures of the header's config, or none. The config is whatever the results file
 * holds, so the shape is checked and anything malformed is left out rather than trusted.
 */
export function referenceFigures(header: RunHeader): ReferenceFigure[] {
  const raw = header.config['reference'];
  if (!Array.isArray(raw)) return [];
  const out: ReferenceFigure[] = [];
  for (const r of raw) {
    if (!r || typeof r !== 'object') continue;
    const { source, url, values, metric } = r as Record<string, unknown>;
    if (typeof source !== 'string' || !values || typeof values !== 'object' || Array.isArray(values)) continue;
    const nums: Record<string, number> = {};
    for (const [k, v] of Object.entries(values as Record<string, unknown>)) {
      if (typeof v === 'number' && Number.isFinite(v)) nums[k] = v;
    }
    if (Object.keys(nums).length === 0) continue;
    const fig: ReferenceFigure = { source, values: nums };
    if (typeof url === 'string' && url.trim() !== '') fig.url = url.trim();
    if (typeof metric === 'string' && metric.trim() !== '') fig.metric = metric.trim();
    out.push(fig);
  }
  return out;
}

/** A link only for web addresses: a results file must not be able to plant a javascript: URL. */
function sourceHtml(ref: ReferenceFigure): string {
  return ref.url && /^https?:\/\//i.test(ref.url) ? `<a href="${e(ref.url)}">${e(ref.source)}</a>` : e(ref.source);
}

function resolveMetric(name: string | undefined): { key?: MetricKey; label: string } {
  if (name === undefined) return { key: 'qemuDowntime', label: METRIC_DEFS[0]!.label };
  const n = name.toLowerCase();
  const def = METRIC_DEFS.find((d) => d.key.toLowerCase() === n || d.label.toLowerCase() === n);
  return def ? { key: def.key, label: def.label } : { label: name };
}

function verdictClass(c: Comparison | null | undefined): string {
  if (!c) return '';
  return c.verdict === 'faster' ? ' class="better"' : c.verdict === 'slower' ? ' class="worse"' : '';
}

// ---------------------------------------------------------------------------------------------

function summaryTable(report: CompareReport, labels: string[]): string {
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
      row('p (Mann-Whitney)', cmp((c) => (c.pValue === undefined ? undefined : formatP(c.pValue)), ''));
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
 * One table per metric the references name: rows are the variants, columns the measured median
 * and range of this run and then each source's published figure, so "published" sits beside
 * "measured". A published figure for a label this run does not have still gets a row.
 */
function referenceTables(report: CompareReport, labels: string[], refs: ReferenceFigure[]): string {
  const byMetric = new Map<string, { key?: MetricKey; label: string; refs: ReferenceFigure[] }>();
  for (const r of refs) {
    const m = resolveMetric(r.metric);
    const id = m.key ?? m.label;
    const entry = byMetric.get(id) ?? { ...m, refs: [] };
    entry.refs.push(r);
    byMetric.set(id, entry);
  }
  const out: string[] = [];
  for (const { key, label, refs: mine } of byMetric.values()) {
    const metric: MetricReport | undefined = key ? report.metrics.find((m) => m.key === key) : undefined;
    const matches = (k: string, i: number) => {
      const want = k.trim().toLowerCase();
      return want === report.variants[i]!.label.trim().toLowerCase() || want === (labels[i] ?? '').trim().toLowerCase();
    };
    const rows: string[] = [];
    report.variants.forEach((v, i) => {
      const s = metric?.summaries[i];
      const measuredMedian = metric ? medianCell(v, s) : 'not measured';
      const cells = mine.map((r) => {
        const k = Object.keys(r.values).find((key2) => matches(key2, i));
        if (k === undefined) return '<td class="muted">-</td>';
        const published = r.values[k]!;
        let diff = '';
        if (s && hasValues(s)) {
          const d = s.median - published;
          diff = ` <span class="muted">(measured ${e(formatSignedMs(d))}${published !== 0 ? `, ${e(formatPct((d / published) * 100))}` : ''})</span>`;
        }
        return `<td>${e(formatMs(published))}${diff}</td>`;
      });
      rows.push(
        `<tr><th scope="row">${e(labels[i] ?? v.label)}</th><td><strong>${e(measuredMedian)}</strong></td><td>${e(metric ? rangeCell(s) : '-')}</td>${cells.join('')}</tr>`,
      );
    });
    // published labels that match no variant of this run: shown, not dropped
    const extra = [...new Set(mine.flatMap((r) => Object.keys(r.values)))].filter((k) => !report.variants.some((_, i) => matches(k, i)));
    for (const k of extra) {
      const cells = mine.map((r) => (r.values[k] === undefined ? '<td class="muted">-</td>' : `<td>${e(formatMs(r.values[k]!))}</td>`));
      rows.push(`<tr><th scope="row">${e(k)} <span class="muted">(not in this run)</span></th><td class="muted">-</td><td class="muted">-</td>${cells.join('')}</tr>`);
    }
    out.push(
      `<table class="reference">\n<caption>${e(label)}: measured here and published</caption>\n` +
        `<thead><tr><td></td><th scope="col">measured median</th><th scope="col">measured min-max</th>${mine
          .map((r) => `<th scope="col">published: ${sourceHtml(r)}</th>`)
          .join('')}</tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`,
    );
  }
  return out.join('\n');
}

function noteItems(report: CompareReport, labels: string[]): string[] {
  const items: string[] = [];
  report.variants.forEach((v, i) => {
    if (v.failed === 0) return;
    const who = `<strong>${e(labels[i] ?? v.label)}</strong>`;
    const head = v.allFailed ? `${who}: all ${v.trials} migrations failed` : `${who}: ${v.failed} of ${v.trials} migrations did not complete`;
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

function definitionRows(rows: Array<[string, string | undefined]>): string {
  return rows
    .filter((r): r is [string, string] => r[1] !== undefined && r[1] !== '')
    .map(([k, v]) => `<tr><th scope="row">${e(k)}</th><td>${v}</td></tr>`)
    .join('\n');
}

function metadata(header: RunHeader, labels: string[], opts: HtmlReportOptions): string {
  const h = header.host;
  const run = definitionRows([
    ['run id', `<code>${e(header.runId)}</code>`],
    ['command', e(`migdown ${header.command}`)],
    ['started', e(header.createdAt)],
    ['migdown version', e(header.migdownVersion)],
    ['host', e(h.hostname)],
    ['CPU', e(`${h.cpuModel}, ${h.cpus} CPU${h.cpus === 1 ? '' : 's'}`)],
    ['memory', e(formatBytes(h.memBytes))],
    ['kernel', e(h.kernel)],
    ['accelerator', e(header.accel.toUpperCase() + (header.accelNote ? ` (${header.accelNote})` : ''))],
    ['report generated', opts.generatedAt === undefined ? undefined : e(opts.generatedAt)],
  ]);
  const variants = header.variants
    .map((v, i) => {
      const params = Object.entries(v.params);
      return (
        `<h3>${e(labels[i] ?? v.label)}</h3>\n<table class="meta">\n` +
        definitionRows([
          ['QEMU', e(v.qemu.versionLine || v.qemu.version)],
          ['binary', `<code>${e(v.qemu.path)}</code>`],
          ['sha256', v.qemu.sha256 ? `<code class="hash">${e(v.qemu.sha256)}</code>` : '<span class="muted">not recorded</span>'],
          ['extra QEMU arguments', v.extraArgs.length ? `<code>${e(v.extraArgs.join(' '))}</code>` : undefined],
          ['migration parameters', params.length ? `<code>${e(params.map(([k, val]) => `${k}=${val}`).join(' '))}</code>` : undefined],
        ]) +
        '\n</table>'
      );
    })
    .join('\n');
  return (
    `<table class="meta">\n${run}\n</table>\n${variants}\n` +
    `<h3>Configuration</h3>\n<pre class="config">${e(JSON.stringify(header.config, null, 2))}</pre>`
  );
}

function figure(c: ChartSvg): string {
  return `<figure class="chart" id="${e(`chart-${c.name}`)}" aria-label="${e(c.title)}">\n${c.svg}\n</figure>`;
}

/** The line under the table; a single run has no comparison, so no word about one. */
function methodText(report: CompareReport): string {
  return report.variants.length > 1
    ? describeMethod(report)
    : 'Downtimes are medians of the completed migrations; warm-up trials and failed migrations are left out.';
}

/** Progress charts collapse behind a summary line when there are more than this many. */
const OPEN_PROGRESS_LIMIT = 12;

const CSS = `
:root { color-scheme: light; --fg: #1d1d1f; --muted: #666; --rule: #d8d8d8; --band: #f4f5f7; --accent: #2f5d8a; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px; color: var(--fg); background: #fff;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1160px; margin: 0 auto; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--rule); }
h3 { font-size: 15px; margin: 18px 0 6px; }
p { margin: 6px 0; }
.setup { color: var(--muted); margin-bottom: 18px; }
table { border-collapse: collapse; margin: 8px 0 12px; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 12px; border-bottom: 1px solid var(--rule); vertical-align: top; }
thead th { text-align: right; font-weight: 600; border-bottom: 2px solid #999; }
tbody th { text-align: left; font-weight: normal; color: #333; white-space: nowrap; }
table.summary td, table.reference td { text-align: right; white-space: nowrap; }
tr.group th { background: var(--band); font-weight: 600; color: var(--fg); }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
td.better { color: #1a7f37; font-weight: 600; }
td.worse { color: #c62828; font-weight: 600; }
.muted { color: var(--muted); }
.method { color: #444; font-size: 14px; max-width: 900px; }
ul.notes { padding-left: 20px; font-size: 14px; }
code { font: 13px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; }
code.hash { word-break: break-all; }
table.meta th { width: 200px; }
table.meta td { word-break: break-word; }
pre.config { background: var(--band); padding: 10px 12px; overflow-x: auto; font: 12px/1.4 ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; max-height: 420px; }
figure.chart { margin: 12px 0; overflow-x: auto; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 8px 24px; }
.grid figure.chart { margin: 4px 0; }
details > summary { cursor: pointer; color: var(--accent); margin: 4px 0 8px; }
a { color: var(--accent); }
footer { margin-top: 36px; color: var(--muted); font-size: 13px; }
@media print { body { padding: 0; } details { display: block; } figure.chart { break-inside: avoid; } }
`;

/**
 * The page from a header, its trials and their charts already rendered: pure and synchronous
 * (the charts come from renderChartsSvg, which has to be asynchronous).
 */
export function htmlReportPage(header: RunHeader, trials: TrialRecord[], charts: readonly ChartSvg[], opts: HtmlReportOptions = {}): string {
  const report = buildReport(header, trials, opts);
  const labels = displayLabels(report, opts.labels);
  const title = opts.title ?? (labels.length > 1 ? `Migration downtime: ${labels.join(' vs ')}` : `Migration downtime: migdown ${header.command}`);
  const refs = referenceFigures(header);
  const notes = noteItems(report, labels);

  const main = charts.filter((c) => !c.name.startsWith('progress-'));
  const progress = charts.filter((c) => c.name.startsWith('progress-'));

  const parts: string[] = [];
  parts.push(`<header>\n<h1>${e(title)}</h1>\n<p class="setup">${e(describeSetup(report))}; migdown ${e(report.migdownVersion)}, run <code>${e(report.runId)}</code>, ${e(report.createdAt)}</p>\n</header>`);
  parts.push(`<section id="summary">\n<h2>Summary</h2>\n${summaryTable(report, labels)}\n<p class="method">${e(methodText(report))}</p>`);
  if (notes.length > 0) parts.push(`<ul class="notes">\n${notes.map((n) => `<li>${n}</li>`).join('\n')}\n</ul>`);
  parts.push('</section>');
  if (refs.length > 0) {
    parts.push(
      `<section id="reference">\n<h2>Published figures</h2>\n<p class="muted">Figures as their sources published them, beside this run's medians; ` +
        `a different machine and setup can explain a difference.</p>\n${referenceTables(report, labels, refs)}\n</section>`,
    );
  }
  if (main.length > 0) parts.push(`<section id="charts">\n<h2>Charts</h2>\n${main.map(figure).join('\n')}\n</section>`);
  if (progress.length > 0) {
    parts.push(
      `<section id="progress">\n<h2>Migration progress</h2>\n<p class="muted">From <code>info migrate</code>, polled while each migration ran.</p>\n` +
        `<details${progress.length <= OPEN_PROGRESS_LIMIT ? ' open' : ''}>\n<summary>${progress.length} trial${progress.length === 1 ? '' : 's'}</summary>\n` +
        `<div class="grid">\n${progress.map(figure).join('\n')}\n</div>\n</details>\n</section>`,
    );
  }
  parts.push(`<section id="run">\n<h2>Run</h2>\n${metadata(header, labels, opts)}\n</section>`);

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="migdown ${e(MIGDOWN_VERSION)}">
<title>${e(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${parts.join('\n')}
<footer>Page made by migdown ${e(MIGDOWN_VERSION)} from the results of run <code>${e(header.runId)}</code>, recorded by migdown ${e(header.migdownVersion)}.</footer>
</main>
</body>
</html>
`;
}

/** The whole page: renders the charts, then lays them out with everything else. */
export async function renderHtmlReport(header: RunHeader, trials: TrialRecord[], opts: HtmlReportOptions = {}): Promise<string> {
  const charts = await renderChartsSvg(header, trials, opts.labels ? { labels: opts.labels } : {});
  return htmlReportPage(header, trials, charts, opts);
}
