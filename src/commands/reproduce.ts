// `migdown reproduce [SCENARIO]`: a scenario whose variants name builds, end to end. Builds both
// QEMUs (cached), compares them at the scenario's settings and prints the seed's table with the
// published figures beside the measured ones. It is `compare --scenario` with that default and
// the mail format; --source rebuilds the same comparison from another QEMU (debian:10.0).

import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { compare, compareCommand, type RawCompareOptions } from './compare.js';
import type { CommandContext } from './context.js';
import { bisectExit } from './gates.js';
import { givenOnCli, type GivenOnCli } from './experiment-plan.js';
import type { Scenario, ScenarioBuild } from '../scenario/schema.js';

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

/** What `reproduce` sets on compare's options: the scenario's builds, the seed's table. */
export interface ReproducePlan {
  scenario: string;
  format?: RawCompareOptions['format'];
  qemuA?: string;
  qemuB?: string;
}

/**
 * The plan of `reproduce` (pure): the loaded scenario must name a build for both variants; a
 * --format or --qemu-a/--qemu-b given on the command line wins, as for compare.
 */
export function planReproduce(
  scenarioName: string,
  scenario: Scenario,
  given: GivenOnCli,
  buildSpecOf: (build: ScenarioBuild) => string,
): ReproducePlan {
  const variants = scenario.variants ?? [];
  if (variants.length !== 2 || !variants.every((v) => v.build)) {
    throw new UsageError(`reproduce: scenario ${scenario.name} does not name a build for both variants; use migdown compare --scenario ${scenario.name} with --qemu-a/--qemu-b`);
  }
  return {
    scenario: scenarioName,
    ...(!given('format') && { format: 'mail' as const }),
    ...(!given('qemuA') && { qemuA: buildSpecOf(variants[0]!.build!) }),
    ...(!given('qemuB') && { qemuB: buildSpecOf(variants[1]!.build!) }),
  };
}

async function reproduce(name: string, opts: RawReproduceOptions, self: Command, ctx: CommandContext): Promise<number> {
  const [{ loadScenario }, { scenarioBuildSpec }] = await Promise.all([import('../scenario/load.js'), import('../scenario/apply.js')]);
  const scenarioName = opts.scenario ?? name;
  const { scenario, file } = await loadScenario(scenarioName);
  const plan = planReproduce(scenarioName, scenario, givenOnCli(self), (build) => scenarioBuildSpec(build, file, opts.source));
  opts.scenario = plan.scenario;
  if (plan.format) opts.format = plan.format;
  // Marked as given, so that compare's scenario step keeps them (its own qemuA/qemuB would drop --source).
  for (const key of ['qemuA', 'qemuB'] as const) {
    const value = plan[key];
    if (value === undefined) continue;
    opts[key] = value;
    self.setOptionValueWithSource(key, value, 'cli');
  }
  return compare(opts, self, ctx);
}
