// The results as one self-contained HTML page, for `report --html FILE`: the summary table (the
// same numbers and wording as the markdown and mail tables), published reference figures beside
// the measured medians, the charts as inline SVG, and everything known about the run. The page
// has no script, no external stylesheet, font or image, so it opens offline, can be mailed or
// attached to an issue as it is, and shows the same thing in every browser. Every piece of text
// that came from the results file (labels, reasons, paths, config) is HTML-escaped.

import { clocksHtml } from './clocks.js';
import type { RunHeader } from '../trial/types.js';
import type { Analysis } from '../stats/analysis.js';
import type { CompareReport } from '../stats/report.js';
import { formatBytes } from '../util/units.js';
import { MIGDOWN_VERSION } from '../version.js';
import { renderChartsSvg, type ChartSvg } from './charts.js';
import { describeMethod, describeSetup, displayLabels } from './format.js';
import { escapeHtml, noteItems, referenceTables, summaryTable, withValidReferences } from './html-tables.js';
import { referencesOf } from './reference.js';
import { noiseLines } from './noise.js';

export interface HtmlReportOptions {
  /** column titles, overriding the variants' labels (as the tables' labels option does) */
  labels?: readonly string[];
  /** the page's heading; by default worded from the variants */
  title?: string;
  /** when the page was made (ISO 8601), shown in the footer; left out by default so output is reproducible */
  generatedAt?: string;
}

const e = escapeHtml;

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
p.warning { border-left: 4px solid #d97706; padding: 4px 10px; background: #fffbeb; }
code { font: 13px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; }
code.hash { word-break: break-all; }
table.meta th { width: 200px; }
table.meta td { word-break: break-word; }
pre.config { background: var(--band); padding: 10px 12px; overflow-x: auto; font: 12px/1.4 ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; max-height: 420px; }
figure.chart { margin: 12px 0; overflow-x: auto; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
.points { display: flex; flex-wrap: wrap; gap: 0 28px; align-items: flex-start; }
.point { max-width: 100%; }
.point ul.notes { max-width: 360px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 8px 24px; }
.grid figure.chart { margin: 4px 0; }
details > summary { cursor: pointer; color: var(--accent); margin: 4px 0 8px; }
a { color: var(--accent); }
tr.flagged th, tr.flagged td { color: #b00020; }
footer { margin-top: 36px; color: var(--muted); font-size: 13px; }
@media print { body { padding: 0; } details { display: block; } figure.chart { break-inside: avoid; } }
`;

/**
 * The page from a header, its trials and their charts already rendered: pure and synchronous
 * (the charts come from renderChartsSvg, which has to be asynchronous).
 */
export function htmlReportPage(header: RunHeader, analysis: Analysis, charts: readonly ChartSvg[], opts: HtmlReportOptions = {}): string {
  // A sweep gets one table per point, as the text formats have one row per point: pooling the
  // points would mix, say, 1 GiB and 16 GiB downtimes into one median.
  const groups = analysis.swept ? analysis.points : [];
  const report = analysis.points[0]!.report;
  const labels = displayLabels(report, opts.labels);
  const title = opts.title ?? (labels.length > 1 ? `Migration downtime: ${labels.join(' vs ')}` : `Migration downtime: migdown ${header.command}`);
  const refHeader = withValidReferences(header);

  const main = charts.filter((c) => !c.name.startsWith('progress-'));
  const progress = charts.filter((c) => c.name.startsWith('progress-'));
  const noteList = (items: string[]) => (items.length > 0 ? `\n<ul class="notes">\n${items.map((n) => `<li>${n}</li>`).join('\n')}\n</ul>` : '');

  const parts: string[] = [];
  parts.push(`<header>\n<h1>${e(title)}</h1>\n<p class="setup">${e(describeSetup(report))}; migdown ${e(report.migdownVersion)}, run <code>${e(report.runId)}</code>, ${e(report.createdAt)}</p>\n</header>`);
  // The noisy-host warning first, where nobody reads past it; the noise floor with it.
  const noise = noiseLines(analysis.noise);
  if (noise.warning) parts.push(`<p class="warning" role="alert">${e(noise.warning)}</p>`);
  if (noise.floor) parts.push(`<p class="muted">${e(noise.floor)}</p>`);
  if (groups.length > 0) {
    const tables = groups.map((g) => `<div class="point">\n<h3>${e(g.key)}</h3>\n${summaryTable(g.report, labels)}${noteList(noteItems(g.report, labels))}\n</div>`);
    parts.push(
      `<section id="summary">\n<h2>Summary, per sweep point</h2>\n<div class="points">\n${tables.join('\n')}\n</div>\n<p class="method">${e(methodText(report))}</p>\n</section>`,
    );
  } else {
    parts.push(
      `<section id="summary">\n<h2>Summary</h2>\n${summaryTable(report, labels)}\n<p class="method">${e(methodText(report))}</p>${noteList(noteItems(report, labels))}\n</section>`,
    );
    // As in the text formats, published figures are set beside a single point's medians only.
    if (referencesOf(refHeader).length > 0) {
      parts.push(
        `<section id="reference">\n<h2>Published figures</h2>\n<p class="muted">Figures as their sources published them, beside this run's medians; ` +
          `a different machine and setup can explain a difference.</p>\n${referenceTables(refHeader, report)}\n</section>`,
      );
    }
  }
  const clocks = clocksHtml(header, analysis, e);
  if (clocks) parts.push(clocks);
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
export async function renderHtmlReport(header: RunHeader, analysis: Analysis, opts: HtmlReportOptions = {}): Promise<string> {
  const charts = await renderChartsSvg(header, analysis, opts.labels ? { labels: opts.labels } : {});
  return htmlReportPage(header, analysis, charts, opts);
}
