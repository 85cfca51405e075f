// `migdown run`: the seed's reproduction, N times, on one QEMU.

import { randomUUID } from 'node:crypto';
import { Command, Option } from 'commander';
import { EXIT, Interrupted } from '../errors.js';
import { defaultResultsPath, ResultsWriter } from '../bench/results-file.js';
import { runSeries, type PlannedTrial } from '../bench/series.js';
import type { RunHeader, TrialRecord } from '../bench/types.js';
import { hostFacts, probeQemu } from '../qemu/probe.js';
import { FORMATS, buildReport, renderResults, type Format } from '../render/results.js';
import { renderRunTable, trialLine } from '../render/run-table.js';
import { MIGDOWN_VERSION } from '../version.js';
import type { CommandContext } from './context.js';
import { addGateOptions, checkGates, type RawGateOptions } from './gates.js';
import { addVmOptions, resolveVmOptions, type RawVmOptions } from './vm-options.js';

interface RawRunOptions extends RawVmOptions, RawGateOptions {
  qemu: string;
  format: Format;
}

export function runCommand(ctx: CommandContext, setResult: (p: Promise<number>) => void): Command {
  const cmd = new Command('run')
    .description("migrate a VM from one QEMU to another N times and tabulate QEMU's downtime")
    .option('--qemu <path>', 'QEMU binary (env MIGDOWN_QEMU)', process.env.MIGDOWN_QEMU ?? 'qemu-system-x86_64')
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table'));
  addVmOptions(cmd);
  addGateOptions(cmd, { regression: false });
  return cmd.action((opts: RawRunOptions) => setResult(run(opts, ctx)));
}

async function run(opts: RawRunOptions, ctx: CommandContext): Promise<number> {
  const vm = await resolveVmOptions(opts);
  checkGates(opts);
  const format: Format = opts.json ? 'json' : opts.format;
  const qemu = await probeQemu(opts.qemu);
  const say = (line: string) => {
    if (!opts.quiet) ctx.stderr.write(`${line}\n`);
  };
  if (vm.accelNote) ctx.stderr.write(`${ctx.chalkErr.yellow('migdown:')} ${vm.accelNote}\n`);
  for (const w of vm.warnings) ctx.stderr.write(`${ctx.chalkErr.yellow('migdown: warning:')} ${w}\n`);

  const runId = randomUUID();
  const outFile = opts.out ?? defaultResultsPath();
  const writer = new ResultsWriter(outFile);
  const header: RunHeader = {
    kind: 'header',
    runId,
    command: 'run',
    migdownVersion: MIGDOWN_VERSION,
    createdAt: new Date().toISOString(),
    host: await hostFacts(),
    accel: vm.accel,
    ...(vm.accelNote && { accelNote: vm.accelNote }),
    config: {
      ram: vm.ramText,
      ramBytes: vm.ramBytes,
      smp: vm.smp,
      speed: vm.speedText,
      speedBytes: vm.speedBytes,
      downtime: vm.downtimeText,
      downtimeMs: vm.downtimeMs,
      runs: vm.runs,
      pollMs: vm.pollMs,
      timeoutMs: vm.timeoutMs,
      extraArgs: vm.extraArgs,
    },
    variants: [{ label: 'run', qemu, extraArgs: vm.extraArgs, params: {} }],
  };
  writer.append(header);
  say(`migdown: ${vm.runs} migrations of a ${vm.ramText} VM with QEMU ${qemu.version} (${vm.accel.toUpperCase()}); results in ${outFile}`);

  const plan: PlannedTrial[] = Array.from({ length: vm.runs }, (_, i) => ({
    variant: 'run',
    index: i + 1,
    warmup: false,
    config: {
      qemu,
      accel: vm.accel,
      ramBytes: vm.ramBytes,
      smp: vm.smp,
      speedBytes: vm.speedBytes,
      downtimeMs: vm.downtimeMs,
      ...(vm.port !== undefined && { port: vm.port }),
      extraArgs: vm.extraArgs,
      params: {},
      pollMs: vm.pollMs,
      timeoutMs: vm.timeoutMs,
    },
  }));

  const finished: TrialRecord[] = [];
  try {
    await runSeries(runId, plan, writer, ctx.signal, {
      onTrialDone: (t, pos, total) => {
        finished.push(t);
        say(trialLine(t, total));
      },
    });
  } catch (err) {
    if (err instanceof Interrupted) {
      // What was measured is in the file already; show it before leaving.
      if (finished.length && format === 'table') ctx.stdout.write(`${renderRunTable(header, finished, ctx.chalk)}\n`);
      ctx.stderr.write(`migdown: interrupted after ${finished.length} of ${vm.runs} trials; results in ${outFile}\n`);
    }
    throw err;
  }

  ctx.stdout.write(`${renderResults(format, header, finished, ctx.chalk, {}, { resultsFile: outFile })}\n`);
  if (format !== 'json') say(`results: ${outFile}`);
  const gate = checkGates(opts, buildReport(header, finished));
  if (gate) {
    ctx.stderr.write(`migdown: ${gate}\n`);
    return EXIT.failure;
  }
  return finished.every((t) => t.status === 'completed') ? EXIT.ok : EXIT.failure;
}
