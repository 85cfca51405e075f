// Files a run can leave besides its results: the self-contained HTML report and the charts as
// SVG. vega is loaded only when asked for: it adds a noticeable delay to every CLI start.

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunHeader, TrialRecord } from '../bench/types.js';
import type { RenderOptions } from './results.js';
import { safeFileName } from './sanitize.js';

export interface ArtifactOptions {
  html?: string;
  svg?: string;
}

/** Writes what was asked for; returns one line per file written. */
export async function writeArtifacts(header: RunHeader, trials: TrialRecord[], opts: ArtifactOptions, render: RenderOptions = {}): Promise<string[]> {
  const written: string[] = [];
  if (opts.html) {
    const { renderHtmlReport } = await import('./html-report.js');
    await mkdir(path.dirname(path.resolve(opts.html)), { recursive: true });
    await writeFile(opts.html, await renderHtmlReport(header, trials, render));
    written.push(`report: ${opts.html}`);
  }
  if (opts.svg) {
    const { renderChartsSvg } = await import('./charts.js');
    await mkdir(opts.svg, { recursive: true });
    const charts = await renderChartsSvg(header, trials);
    // chart names carry labels and trial numbers from the results file: never a path
    for (const c of charts) await writeFile(path.join(opts.svg, `${safeFileName(c.name)}.svg`), c.svg);
    written.push(`charts: ${charts.length} SVG files in ${opts.svg}`);
  }
  return written;
}
