// CI gates: turn a measured result into a pass or fail with one line saying why.
// Both judge every variant but the first (the builds under test: `run`'s only one, `compare`'s
// B, C ...), each against the first, at every sweep point.

import { formatMs, formatP } from '../render/format.js';
import { metricOf, type CompareReport } from '../stats/report.js';
import { hasValues } from '../stats/summary.js';
import type { Analysis } from '../stats/analysis.js';
import { verdictFor, type Comparison } from '../stats/compare.js';
import { holmAdjust } from '../stats/holm.js';
import { plural } from '../util/plural.js';
import type { GateThresholds } from './gates.js';

/** One report the gates judge, with where it was measured ('' when nothing is swept). */
interface Judged {
  key: string;
  report: CompareReport;
}

/** The reason a gate fails for one report, or undefined when every gate passes. */
export function checkGates(gates: GateThresholds, report: CompareReport): string | undefined {
  return judge([{ key: '', report }], gates.maxDowntimeMs, gates.regressionPct);
}

const at = (key: string, why: string) => (key ? `at ${key}: ${why}` : why);

/**
 * The gates apply to every variant but the first (the baseline; `run`'s only variant is judged
 * itself), at every sweep point. --fail-if-regression tests every variant against the first at
 * every point: with more than one such test, their p-values are Holm-adjusted over all of them
 * (points x variants), so a gate over a sweep or several builds false-alarms no more often
 * than one test at alpha would. --max-downtime is a threshold on a median, not a test.
 */
function judge(judged: Judged[], maxDowntime: number | undefined, regression: number | undefined): string | undefined {
  const failures: string[] = [];
  const candidates = (r: CompareReport) => (r.variants.length > 1 ? r.variants.map((_, i) => i).slice(1) : [0]);
  if (maxDowntime !== undefined) {
    for (const { key, report } of judged) {
      const summaries = metricOf(report, 'qemuDowntime')?.summaries ?? [];
      for (const i of candidates(report)) {
        const label = report.variants[i]?.label ?? 'B';
        const s = summaries[i];
        if (!s || !hasValues(s)) failures.push(at(key, `--max-downtime: ${label} has no completed migration to judge`));
        else if (s.median > maxDowntime) failures.push(at(key, `--max-downtime: ${label} median downtime ${formatMs(s.median)} is above the limit of ${formatMs(maxDowntime)}`));
      }
    }
  }
  if (regression !== undefined) {
    const tests: Array<{ key: string; label: string; base: string; c: Comparison }> = [];
    for (const { key, report } of judged) {
      if (report.variants.length < 2) continue;
      const comparisons = metricOf(report, 'qemuDowntime')?.comparisons ?? [];
      for (const i of candidates(report)) {
        const label = report.variants[i]?.label ?? 'B';
        const base = report.variants[0]?.label ?? 'A';
        const c = comparisons[i];
        if (!c || c.deltaPct === undefined || c.medianA === undefined || c.medianB === undefined) {
          failures.push(at(key, `--fail-if-regression: cannot compare ${label} with ${base}: not enough completed migrations`));
        } else tests.push({ key, label, base, c });
      }
    }
    const family = tests.filter((t) => (t.c.pRaw ?? t.c.pValue) !== undefined);
    const adjusted = holmAdjust(family.map((t) => (t.c.pRaw ?? t.c.pValue)!));
    const points = new Set(judged.map((j) => j.key)).size;
    const how = () => {
      if (family.length < 2) return '';
      const per = family.length / points;
      const shape = points > 1 ? `: ${plural(points, 'point')} x ${plural(per, 'variant')} against the first` : '';
      return `, Holm-adjusted over ${family.length} comparisons${Number.isInteger(per) ? shape : ''}`;
    };
    for (const t of tests) {
      const k = family.indexOf(t);
      const p = k < 0 ? undefined : family.length > 1 ? adjusted[k]! : t.c.pValue;
      const verdict = family.length > 1 && p !== undefined ? verdictFor(t.c, p) : t.c.verdict;
      if (verdict === 'slower' && t.c.deltaPct! > regression) {
        failures.push(
          at(
            t.key,
            `--fail-if-regression: ${t.label} median downtime ${formatMs(t.c.medianB!)} is ${t.c.deltaPct!.toFixed(1)}% worse than ` +
              `${t.base}'s ${formatMs(t.c.medianA!)} (limit ${regression}%, p = ${p === undefined ? '?' : formatP(p)}${how()})`,
          ),
        );
      }
    }
  }
  if (failures.length === 0) return undefined;
  return failures.length === 1 ? failures[0] : `${failures[0]} (and ${failures.length - 1} more gate failure${failures.length > 2 ? 's' : ''})`;
}

/** The gates at every sweep point (a whole run when nothing is swept), as one family. */
export function checkGatesPerPoint(gates: GateThresholds, analysis: Analysis): string | undefined {
  if (gates.maxDowntimeMs === undefined && gates.regressionPct === undefined) return undefined;
  return judge(
    analysis.points.map(({ key, report }) => ({ key, report })),
    gates.maxDowntimeMs,
    gates.regressionPct,
  );
}
