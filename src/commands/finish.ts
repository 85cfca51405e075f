// What `run` and `compare` do once their series is over, from one analysis of the trials:
// print the results, write the artifacts, apply the gates. experiment.ts loadFinish() loads it.

import { EXIT } from '../errors.js';
import { writeArtifacts, type ArtifactOptions } from '../render/artifacts.js';
import { terminalColumns } from '../render/fit.js';
import type { Format } from '../render/formats.js';
import { noiseNotes, renderResults } from '../render/results.js';
import { renderRunTable } from '../render/run-table.js';
import { analyze } from '../stats/analysis.js';
import { summarizeRun } from '../stats/run-summary.js';
import type { RunHeader, TrialRecord } from '../trial/types.js';
import type { CommandContext } from './context.js';
import { checkGatesPerPoint } from './gate-checks.js';
import type { GateThresholds } from './gates.js';

/** The trials an interrupted `run` finished, as its table (what is measured is shown before leaving). */
export function interruptedRunTable(ctx: CommandContext, header: RunHeader, finished: TrialRecord[]): string {
  return renderRunTable(header, finished, summarizeRun(finished), ctx.chalk, terminalColumns(ctx.stdout, ctx.env));
}

/**
 * What `run` and `compare` do once the series is over: print the results in the chosen format,
 * write the artifacts asked for, apply the gates, all from one analysis. Returns the exit code: 3 for a tripped
 * gate, 1 for a measured trial that did not complete.
 */
export async function finishExperiment(
  ctx: CommandContext,
  opts: ArtifactOptions & { gates: GateThresholds },
  format: Format,
  header: RunHeader,
  trials: TrialRecord[],
  outFile: string,
  say: (line: string) => void,
  resultsFailure?: string,
): Promise<number> {
  const analysis = analyze(header, trials);
  ctx.stdout.write(`${renderResults(format, header, analysis, ctx.chalk, { columns: terminalColumns(ctx.stdout, ctx.env) }, { resultsFile: outFile })}\n`);
  for (const note of noiseNotes(format, analysis)) ctx.stderr.write(`migdown: ${note}\n`);
  if (resultsFailure) {
    // Always said, even with --quiet: what is printed above is all that is left of those trials.
    ctx.stderr.write(`migdown: could not write the results file ${outFile}: ${resultsFailure}; stopped after ${trials.length} trials, printed above\n`);
  } else if (format !== 'json') say(`results: ${outFile}`);
  const artifacts = await writeArtifacts(header, analysis, opts);
  for (const line of artifacts.written) say(line);
  for (const line of artifacts.failed) ctx.stderr.write(`migdown: ${line}\n`);
  const measured = trials.filter((t) => !t.warmup);
  // Nothing completed: nothing could be measured (exit 1), whatever a gate would say.
  const gate = measured.some((t) => t.status === 'completed') ? checkGatesPerPoint(opts.gates, analysis) : undefined;
  if (gate) {
    ctx.stderr.write(`migdown: ${gate}\n`);
    return EXIT.gate;
  }
  if (!measured.every((t) => t.status === 'completed')) return EXIT.failure;
  return resultsFailure || artifacts.failed.length ? EXIT.couldNotMeasure : EXIT.ok;
}
