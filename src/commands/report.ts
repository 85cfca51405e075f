// `migdown report FILE.jsonl`: render a run or compare from its results file, running nothing.

import { Command, Option } from 'commander';
import { EXIT, UsageError } from '../errors.js';
import { readResults } from '../bench/results-file.js';
import { FORMATS, renderResults, type Format } from '../render/results.js';
import { parsePositiveInt } from '../util/units.js';
import { assertArtifactsWritable, writeArtifacts } from '../render/artifacts.js';
import type { CommandContext } from './context.js';

interface RawReportOptions {
  format: Format;
  html?: string;
  svg?: string;
  run?: string;
  seed?: string;
}

export function reportCommand(ctx: CommandContext, setResult: (p: Promise<number>) => void): Command {
  return new Command('report')
    .description('render a run or compare from its results file (nothing is run)')
    .argument('<file>', 'results file written by run or compare (JSON lines)')
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table'))
    .option('--run <id>', 'which run of the file, by run id (prefix), when it holds several (default: the last)')
    .option('--seed <n>', 'bootstrap seed (default: the one the run recorded)')
    .option('--html <file>', 'also write a self-contained HTML report (tables, charts, references, metadata)')
    .option('--svg <dir>', 'also write the charts as SVG files into this directory')
    .action((file: string, opts: RawReportOptions) => setResult(report(file, opts, ctx)));
}

async function report(file: string, opts: RawReportOptions, ctx: CommandContext): Promise<number> {
  assertArtifactsWritable(opts);
  const content = await readResults(file);
  const header = opts.run ? content.headers.find((h) => h.runId.startsWith(opts.run!)) : content.headers.at(-1);
  if (!header) {
    throw new UsageError(opts.run ? `report: no run ${opts.run} in ${file}` : `report: ${file} has trials but no header line`);
  }
  const trials = content.trials.filter((t) => t.runId === header.runId);
  const seed = opts.seed === undefined ? undefined : parsePositiveInt('--seed', opts.seed, { min: 0, max: 2 ** 32 - 1 });
  ctx.stdout.write(`${renderResults(opts.format, header, trials, ctx.chalk, seed === undefined ? {} : { seed })}\n`);
  const artifacts = await writeArtifacts(header, trials, opts, seed === undefined ? {} : { seed });
  for (const line of [...artifacts.written, ...artifacts.failed]) ctx.stderr.write(`migdown: ${line}\n`);
  if (content.skippedLines.length) {
    ctx.stderr.write(`migdown: skipped unreadable lines ${content.skippedLines.join(', ')} of ${file}\n`);
  }
  return artifacts.failed.length ? EXIT.failure : EXIT.ok;
}
