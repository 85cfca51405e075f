// Files a run can leave besides its results: the self-contained HTML report and the charts as
// SVG. vega is loaded only when asked for: it adds a noticeable delay to every CLI start.

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunHeader } from '../trial/types.js';
import type { Analysis } from '../stats/analysis.js';
import { UsageError } from '../errors.js';
import { assertWritableDir, assertWritableFile, makeDirs, OutputPathError } from '../util/output-path.js';
import { safeFileName } from './sanitize.js';

export interface ArtifactOptions {
  html?: string;
  svg?: string;
}

/** Before anything is measured or rendered: --html and --svg must be writable, else exit 2. */
export function assertArtifactsWritable(opts: ArtifactOptions): void {
  try {
    if (opts.html) assertWritableFile(opts.html);
  } catch (err) {
    throw new UsageError(`--html ${opts.html}: cannot write ${(err as OutputPathError).message}`);
  }
  try {
    if (opts.svg) assertWritableDir(opts.svg);
  } catch (err) {
    throw new UsageError(`--svg ${opts.svg}: cannot write ${(err as OutputPathError).message}`);
  }
}

export interface ArtifactsWritten {
  /** one line per file or directory written */
  written: string[];
  /** one line per file that could not be written (the disk filled up since the check, say) */
  failed: string[];
}

/** A file system error as one line; anything else is a bug and goes on to the boundary. */
function failure(what: string, err: unknown): string {
  if (err instanceof OutputPathError) return `could not write ${what}: ${err.message}`;
  const code = (err as NodeJS.ErrnoException).code;
  if (!code) throw err;
  return `could not write ${what}: ${code}`;
}

/** Writes what was asked for; one failure does not stop the other file. */
export async function writeArtifacts(header: RunHeader, analysis: Analysis, opts: ArtifactOptions): Promise<ArtifactsWritten> {
  const out: ArtifactsWritten = { written: [], failed: [] };
  if (opts.html) {
    try {
      const { renderHtmlReport } = await import('./html-report.js');
      makeDirs(path.dirname(path.resolve(opts.html)));
      await writeFile(opts.html, await renderHtmlReport(header, analysis));
      out.written.push(`report: ${opts.html}`);
    } catch (err) {
      out.failed.push(failure(`the HTML report ${opts.html}`, err));
    }
  }
  if (opts.svg) {
    try {
      const { renderChartsSvg } = await import('./charts.js');
      makeDirs(opts.svg);
      const charts = await renderChartsSvg(header, analysis);
      // chart names carry labels and trial numbers from the results file: never a path
      for (const c of charts) await writeFile(path.join(opts.svg, `${safeFileName(c.name)}.svg`), c.svg);
      out.written.push(`charts: ${charts.length} SVG files in ${opts.svg}`);
    } catch (err) {
      out.failed.push(failure(`the charts in ${opts.svg}`, err));
    }
  }
  return out;
}
