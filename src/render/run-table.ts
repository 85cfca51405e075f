// The table `migdown run` prints: one row per trial, then the downtime summary.

import type { ChalkInstance } from 'chalk';
import type { RunHeader, TrialRecord } from '../trial/types.js';
import { formatBytes } from '../util/units.js';
import { firmwareLabel } from '../util/firmware-label.js';
import { sparkline } from './sparkline.js';
import { fitTable } from './fit.js';
import { boxTable } from './text-table.js';
import { plural } from '../util/plural.js';
import type { RunSummary } from '../stats/run-summary.js';
import { ms } from './trial-line.js';

export function describeSetup(header: RunHeader): string {
  const c = header.config;
  const q = header.variants[0]?.qemu;
  const fw = firmwareLabel(header.config.firmware);
  return `RAM ${c.ram}, ${typeof c.smp === 'number' ? plural(c.smp, 'vCPU') : `${c.smp} vCPUs`}, ${header.accel.toUpperCase()}, speed ${c.speed}, downtime limit ${c.downtime}, QEMU ${q?.version ?? '?'}${fw ? `, ${fw}` : ''}`;
}

export function renderRunTable(header: RunHeader, trials: readonly TrialRecord[], s: RunSummary, chalk: ChalkInstance, columns?: number): string {
  const hasGuest = trials.some((t) => t.guest?.observedDowntimeMs !== undefined);
  const head = ['trial', 'status', 'downtime', ...(hasGuest ? ['guest-observed'] : []), 'total', 'setup', 'transferred', 'throughput'];
  const aligns = ['right', 'left', 'right', ...(hasGuest ? ['right' as const] : []), 'right', 'right', 'right', 'right'] as const;
  const rows: string[][] = [];
  for (const t of trials) {
    const statusText = t.status === 'completed' ? chalk.green(t.status) : chalk.red(t.status);
    rows.push([
      `${t.index}${t.warmup ? ' (warm-up)' : ''}`,
      statusText,
      ms(t.info?.downtimeMs),
      ...(hasGuest ? [ms(t.guest?.observedDowntimeMs)] : []),
      ms(t.info?.totalTimeMs),
      ms(t.info?.setupMs),
      formatBytes(t.info?.transferredRamBytes),
      t.info?.throughputMbps === undefined ? '-' : `${t.info.throughputMbps} Mbps`,
    ]);
  }
  const lines = [chalk.dim(describeSetup(header)), fitTable(boxTable(head.map((h) => chalk.bold(h)), rows, [...aligns]), head.slice(1), rows, columns)];
  const failures = trials.filter((t) => t.status !== 'completed');
  for (const f of failures) lines.push(chalk.red(`trial ${f.index} ${f.status}: ${f.reason ?? 'no reason given'}`));
  if (s.downtimeMs) {
    const d = s.downtimeMs;
    const values = trials.filter((t) => !t.warmup && t.status === 'completed').map((t) => t.info?.downtimeMs ?? NaN);
    // The distribution at a glance: min on the left, max on the right.
    const spark = values.length >= 3 ? `  ${ms(d.min)} ${chalk.cyan(sparkline(values))} ${ms(d.max)}` : '';
    let line = `downtime: median ${ms(d.median)} (min ${ms(d.min)}, max ${ms(d.max)}) over ${s.completed} of ${plural(s.n, 'trial')}${spark}`;
    if (s.guestDowntimeMs) line += `; guest-observed median ${ms(s.guestDowntimeMs.median)}`;
    lines.push(chalk.bold(line));
  } else {
    lines.push(chalk.red(`no completed migration in ${plural(s.n, 'trial')}`));
  }
  return lines.join('\n');
}

