// CI gates: turn a measured result into a pass or fail with one line saying why.
// Both judge the last variant (the build under test: `run`'s only one, `compare`'s B).

import type { Command } from 'commander';
import { BisectSkip, BuildFailed, EXIT, RuntimeFailure, UsageError } from '../errors.js';
import { formatMs, formatP } from '../render/compare-mail.js';
import { metricOf, type CompareReport } from '../stats/report.js';
import { hasValues } from '../stats/summary.js';
import { pointKey } from '../bench/sweep.js';
import type { RunHeader, TrialRecord } from '../bench/types.js';
import { buildReport } from '../render/results.js';

export interface RawGateOptions {
  bisect?: boolean;
  maxDowntime?: string;
  failIfRegression?: string;
}

/** The gates; --bisect too unless the command measures nothing (report: nothing to skip). */
export function addGateOptions(cmd: Command, { regression = true, bisect = true } = {}): Command {
  if (bisect) addBisectOption(cmd);
  cmd.option('--max-downtime <ms>', 'exit 3 if the median QEMU downtime is above this many ms');
  if (regression) {
    cmd.option('--fail-if-regression <pct>', "exit 3 if B's median downtime is worse than A's by more than PCT % and the difference is significant");
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
    if (err instanceof RuntimeFailure || err instanceof BuildFailed) throw new BisectSkip(err);
    throw err;
  }
}

function parseNumber(option: string, text: string): number {
  const v = Number(text);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(text) || !Number.isFinite(v)) throw new UsageError(`${option}: "${text}" is not a non-negative number`);
  return v;
}

/**
 * Without a report: validate the gate options (throws UsageError). With one: the reason the
 * gate fails, or undefined when it passes.
 */
export function checkGates(opts: RawGateOptions, report?: CompareReport): string | undefined {
  const maxDowntime = opts.maxDowntime === undefined ? undefined : parseNumber('--max-downtime', opts.maxDowntime);
  const regression = opts.failIfRegression === undefined ? undefined : parseNumber('--fail-if-regression', opts.failIfRegression);
  if (!report) return undefined;
  const metric = metricOf(report, 'qemuDowntime');
  const last = report.variants.length - 1;
  const label = report.variants[last]?.label ?? 'B';
  const summary = metric?.summaries[last];
  if (maxDowntime !== undefined) {
    if (!summary || !hasValues(summary)) return `--max-downtime: ${label} has no completed migration to judge`;
    if (summary.median > maxDowntime) {
      return `--max-downtime: ${label} median downtime ${formatMs(summary.median)} is above the limit of ${formatMs(maxDowntime)}`;
    }
  }
  if (regression !== undefined && last >= 1) {
    const c = metric?.comparisons[last];
    if (!c || c.deltaPct === undefined || c.medianA === undefined || c.medianB === undefined) {
      return `--fail-if-regression: cannot compare ${label} with ${report.variants[0]?.label}: not enough completed migrations`;
    }
    if (c.verdict === 'slower' && c.deltaPct > regression) {
      return (
        `--fail-if-regression: ${label} median downtime ${formatMs(c.medianB)} is ${c.deltaPct.toFixed(1)}% worse than ` +
        `${formatMs(c.medianA)} (limit ${regression}%, p = ${c.pValue === undefined ? '?' : formatP(c.pValue)})`
      );
    }
  }
  return undefined;
}

/** The gates at every sweep point (a whole run when nothing is swept); the first failure. */
export function checkGatesPerPoint(opts: RawGateOptions, header: RunHeader, trials: TrialRecord[]): string | undefined {
  if (opts.maxDowntime === undefined && opts.failIfRegression === undefined) return undefined;
  const groups = new Map<string, TrialRecord[]>();
  for (const t of trials) {
    const key = pointKey(t.point);
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  for (const [key, group] of groups) {
    const why = checkGates(opts, buildReport(header, group));
    if (why) return key ? `at ${key}: ${why}` : why;
  }
  return undefined;
}
