// The CI gates' options (--max-downtime, --fail-if-regression, --bisect) and the exit code
// they lead to; gate-checks.ts judges a finished analysis against them.

import type { Command } from 'commander';
import { BisectSkip, BuildFailed, CouldNotMeasure, EXIT, RuntimeFailure } from '../errors.js';
import { parseNonNegative } from '../util/units.js';

export interface RawGateOptions {
  bisect?: boolean;
  maxDowntime?: string;
  failIfRegression?: string;
}

/** The gates; --bisect too unless the command measures nothing (report: nothing to skip). */
export function addGateOptions(cmd: Command, { regression = true, bisect = true } = {}): Command {
  if (bisect) addBisectOption(cmd);
  cmd.option('--max-downtime <ms>', `exit 3 if the median QEMU downtime${regression ? ' (of each variant but the first)' : ''} is above this many ms`);
  if (regression) {
    cmd.option('--fail-if-regression <pct>', "exit 3 if a variant's median downtime is worse than the first's by more than PCT % and significantly so (Holm-adjusted over variants and sweep points)");
  }
  return cmd;
}

export function addBisectOption(cmd: Command): Command {
  return cmd.option('--bisect', `for git bisect run: exit ${EXIT.bisectSkip} (skip this commit) when nothing could be measured (build failed, QEMU would not start, migrations failed)`);
}

/**
 * With --bisect, "could not measure" (exit 1 or 4, or the errors behind them) becomes 125, so
 * `git bisect run` skips the commit; a tripped gate (3) stays a bad commit, 0 a good one.
 */
export async function bisectExit(result: Promise<number>, bisect: boolean | undefined): Promise<number> {
  if (!bisect) return result;
  try {
    const code = await result;
    return code === EXIT.failure || code === EXIT.buildFailed ? EXIT.bisectSkip : code;
  } catch (err) {
    if (err instanceof RuntimeFailure || err instanceof BuildFailed || err instanceof CouldNotMeasure) throw new BisectSkip(err);
    throw err;
  }
}

/** The gate thresholds, parsed once from the command line into the command's plan. */
export interface GateThresholds {
  /** --max-downtime, ms */
  maxDowntimeMs?: number;
  /** --fail-if-regression, % */
  regressionPct?: number;
}

/** --max-downtime and --fail-if-regression as numbers, or a UsageError naming the bad one. */
export function parseGateOptions(opts: RawGateOptions): GateThresholds {
  const maxDowntimeMs = opts.maxDowntime === undefined ? undefined : parseNonNegative('--max-downtime', opts.maxDowntime);
  const regressionPct = opts.failIfRegression === undefined ? undefined : parseNonNegative('--fail-if-regression', opts.failIfRegression);
  return { ...(maxDowntimeMs !== undefined && { maxDowntimeMs }), ...(regressionPct !== undefined && { regressionPct }) };
}
