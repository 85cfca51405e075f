// `migdown reproduce [SCENARIO]`: a scenario whose variants name builds, end to end. Builds both
// QEMUs (cached), compares them at the scenario's settings and prints the seed's table with the
// published figures beside the measured ones. It is `compare --scenario` with that default and
// the mail format; --source rebuilds the same comparison from another QEMU (debian:10.0).

import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { compare, compareCommand, type RawCompareOptions } from './compare.js';
import type { CommandContext } from './context.js';
import { bisectExit } from './gates.js';

interface RawReproduceOptions extends RawCompareOptions {
  source?: string;
}

export function reproduceCommand(ctx: CommandContext, setResult: (p: Promise<number>) => void): Command {
  const cmd = compareCommand(ctx, setResult)
    .name('reproduce')
    .description("build a scenario's two QEMUs (e.g. without and with the seed's patch), compare them, and print its table beside the published figures")
    .argument('[scenario]', 'scenario name or file whose variants have build: sections', 'seed-2015')
    .option('--source <spec>', 'build both variants from this source instead of the scenario\'s (debian:10.0, a QEMU directory, DIR@REF); patches stay');
  return cmd.action((name: string, opts: RawReproduceOptions, self: Command) => setResult(bisectExit(reproduce(name, opts, self, ctx), opts.bisect)));
}

async function reproduce(name: string, opts: RawReproduceOptions, self: Command, ctx: CommandContext): Promise<number> {
  const [{ loadScenario }, { scenarioBuildSpec }] = await Promise.all([import('../scenario/load.js'), import('../scenario/apply.js')]);
  const scenarioName = opts.scenario ?? name;
  const { scenario, file } = await loadScenario(scenarioName);
  const variants = scenario.variants ?? [];
  if (variants.length !== 2 || !variants.every((v) => v.build)) {
    throw new UsageError(`reproduce: scenario ${scenario.name} does not name a build for both variants; use migdown compare --scenario ${scenario.name} with --qemu-a/--qemu-b`);
  }
  opts.scenario = scenarioName;
  // The seed's table by default; a --format on the command line wins.
  if (self.getOptionValueSource('format') !== 'cli') opts.format = 'mail';
  // A user's --qemu-a/--qemu-b win as for compare; otherwise the scenario's builds, from --source if given.
  for (const [key, v] of [['qemuA', variants[0]!], ['qemuB', variants[1]!]] as const) {
    if (self.getOptionValueSource(key) === 'cli') continue;
    opts[key] = scenarioBuildSpec(v.build!, file, opts.source);
    self.setOptionValueWithSource(key, opts[key], 'cli');
  }
  return compare(opts, self, ctx);
}
