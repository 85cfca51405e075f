// `migdown report FILE.jsonl`: render a run or compare from its results file, running nothing.
// `migdown report OLD.jsonl NEW.jsonl`: compare two stored runs, so CI can measure each build
// once and compare later; both forms take the gates.

import path from 'node:path';
import { Command, Option } from 'commander';
import { EXIT, UsageError } from '../errors.js';
import { readResults } from '../trial/results-file.js';
import { combineRuns, relabel, type StoredRun } from '../trial/combine.js';
import { FORMATS, type Format } from '../render/formats.js';
import { noiseNotes, renderResults } from '../render/results.js';
import { parsePositiveInt } from '../util/units.js';
import { assertArtifactsWritable, writeArtifacts, type ArtifactOptions } from '../render/artifacts.js';
import type { RunHeader, TrialRecord } from '../trial/types.js';
import type { CommandContext } from './context.js';
import { terminalColumns } from '../render/fit.js';
import { checkGatesPerPoint } from './gate-checks.js';
import { addGateOptions, parseGateOptions, type GateThresholds, type RawGateOptions } from './gates.js';
import { analyze } from '../stats/analysis.js';

export interface RawReportOptions extends RawGateOptions {
  format: Format;
  html?: string;
  svg?: string;
  run?: string;
  seed?: string;
  labelA?: string;
  labelB?: string;
  quiet?: boolean;
}

export function reportCommand(ctx: CommandContext, setResult: (p: Promise<number>) => void): Command {
  const cmd = new Command('report')
    .description('render a run or compare from its results file, or compare two stored runs (nothing is run)')
    .argument('<file>', 'results file written by run or compare (JSON lines)')
    .argument('[new-file]', "a second results file: compare its run (B) with the first file's (A)")
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table'))
    .option('--run <id>', 'which run of the file, by run id (prefix), when it holds several (default: the last)')
    .option('--seed <n>', 'bootstrap seed (default: the one the run recorded)')
    .option('--label-a <text>', 'name of variant A (with two files: default the first file name)')
    .option('--label-b <text>', 'name of variant B (with two files: default the second file name)')
    .option('--html <file>', 'also write a self-contained HTML report (tables, charts, references, metadata)')
    .option('--svg <dir>', 'also write the charts as SVG files into this directory')
    .option('-q, --quiet', 'no notes on stderr (gate failures are still printed)');
  addGateOptions(cmd, { bisect: false }); // it measures nothing, so there is nothing for git bisect to skip
  return cmd.action((file: string, newFile: string | undefined, opts: RawReportOptions) => setResult(report(file, newFile, opts, ctx)));
}

/** Everything `report` does, decided from its arguments and options before a file is read. */
export interface ReportPlan {
  file: string;
  /** the second file: compare its run (B) with the first file's (A) */
  newFile?: string;
  /** --run: a run id prefix in the first file */
  run?: string;
  seed?: number;
  labelA?: string;
  labelB?: string;
  format: Format;
  artifacts: ArtifactOptions;
  quiet: boolean;
  gates: GateThresholds;
}

/** The plan of `report` (pure): the gates first, then the seed, as they always were checked. */
export function planReport(file: string, newFile: string | undefined, opts: RawReportOptions): ReportPlan {
  const gates = parseGateOptions(opts);
  const seed = opts.seed === undefined ? undefined : parsePositiveInt('--seed', opts.seed, { min: 0, max: 2 ** 32 - 1 });
  return {
    file,
    ...(newFile !== undefined && { newFile }),
    ...(opts.run !== undefined && { run: opts.run }),
    ...(seed !== undefined && { seed }),
    ...(opts.labelA !== undefined && { labelA: opts.labelA }),
    ...(opts.labelB !== undefined && { labelB: opts.labelB }),
    format: opts.format,
    artifacts: { ...(opts.html && { html: opts.html }), ...(opts.svg && { svg: opts.svg }) },
    quiet: Boolean(opts.quiet),
    gates,
  };
}

async function storedRun(file: string, runPrefix: string | undefined): Promise<{ run: StoredRun; skipped: string[] }> {
  const content = await readResults(file);
  const header = runPrefix ? content.headers.find((h) => h.runId.startsWith(runPrefix)) : content.headers.at(-1);
  if (!header) {
    throw new UsageError(runPrefix ? `report: no run ${runPrefix} in ${file}` : `report: ${file} has trials but no header line`);
  }
  const skipped = content.skippedLines.length ? [`skipped unreadable lines ${content.skippedLines.join(', ')} of ${file}`] : [];
  return { run: { file, header, trials: content.trials.filter((t) => t.runId === header.runId) }, skipped };
}

/** Default names for two files' runs: their base names, unless those are the same. */
function fileLabels(a: string, b: string): [string, string] {
  const name = (f: string) => path.basename(f).replace(/\.jsonl$/, '');
  return name(a) === name(b) ? ['old', 'new'] : [name(a), name(b)];
}

async function report(file: string, newFile: string | undefined, opts: RawReportOptions, ctx: CommandContext): Promise<number> {
  const plan = planReport(file, newFile, opts);
  assertArtifactsWritable(plan.artifacts);
  return reportPlanned(plan, ctx);
}

/** The run to render: the first file's (relabelled), or the two files' runs combined. */
async function runToRender(plan: ReportPlan, notes: string[]): Promise<{ header: RunHeader; trials: TrialRecord[] }> {
  const { run: first, skipped } = await storedRun(plan.file, plan.run);
  notes.push(...skipped);
  if (plan.newFile === undefined) return relabel(first.header, first.trials, [plan.labelA, plan.labelB]);
  // --run picks the run of the first file; the second file's is its last.
  const { run: second, skipped: skippedB } = await storedRun(plan.newFile, undefined);
  notes.push(...skippedB);
  const [a, b] = fileLabels(plan.file, plan.newFile);
  const combined = combineRuns(first, second, [plan.labelA || a, plan.labelB || b]);
  notes.push(...combined.notes);
  return combined;
}

async function reportPlanned(plan: ReportPlan, ctx: CommandContext): Promise<number> {
  const notes: string[] = [];
  const { header, trials } = await runToRender(plan, notes);
  // One analysis, with the seed asked for, for every output and the gates.
  const analysis = analyze(header, trials, plan.seed === undefined ? {} : { seed: plan.seed });
  ctx.stdout.write(`${renderResults(plan.format, header, analysis, ctx.chalk, { columns: terminalColumns(ctx.stdout, ctx.env) })}\n`);
  const artifacts = await writeArtifacts(header, analysis, plan.artifacts);
  notes.push(...artifacts.written);
  notes.push(...noiseNotes(plan.format, analysis));
  if (!plan.quiet) for (const line of notes) ctx.stderr.write(`migdown: ${line}\n`);
  // Always said: a file the user asked for was not written.
  for (const line of artifacts.failed) ctx.stderr.write(`migdown: ${line}\n`);
  const gate = checkGatesPerPoint(plan.gates, analysis);
  if (gate) {
    ctx.stderr.write(`migdown: ${gate}\n`);
    return EXIT.gate;
  }
  return artifacts.failed.length ? EXIT.failure : EXIT.ok;
}
