// The comparison as CSV (RFC 4180: CRLF line ends, fields quoted when they hold a comma, a
// quote, CR or LF, quotes doubled), one row per metric and variant, for spreadsheets and
// scripts. Numbers are written at full precision (15 significant digits), not as the tables
// round them, so a reader can recompute; an empty field means "does not exist" (no values, or
// the baseline's change against itself).
//
// One naming scheme for every CSV migdown writes (run, compare, sweep, report): column names
// and metric names are snake_case (qemu_downtime, median_ms); a pause phase is
// "phase:" + QEMU's own checkpoint names ("phase:src-downtime-start>src-vm-stopped"). A sweep
// puts its point first: a "point" column and one column per swept setting. JSON keeps the
// results file's camelCase.

import type { CompareReport } from '../stats/report.js';
import { hasValues } from '../stats/summary.js';
import { spreadsheetSafe } from './sanitize.js';

export const CSV_COLUMNS = [
  'run_id',
  'metric',
  'variant',
  'qemu_version',
  'trials',
  'completed',
  'failed',
  'n',
  'median_ms',
  'mean_ms',
  'sd_ms',
  'min_ms',
  'max_ms',
  'q1_ms',
  'q3_ms',
  'iqr_ms',
  'mad_ms',
  'outliers',
  'baseline',
  'delta_ms',
  'delta_pct',
  'ci_low_ms',
  'ci_high_ms',
  'confidence',
  'p_value',
  'p_method',
  'verdict',
  'failure_reasons',
] as const;

type Field = string | number | undefined;

/** camelCase -> snake_case: metric keys and swept settings as CSV names them. */
export function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/**
 * One RFC 4180 field. Numbers keep 15 significant digits, as many as a double holds reliably,
 * which drops binary noise like -30.999999999999996 without losing anything measured.
 */
export function csvField(value: Field): string {
  if (value === undefined) return '';
  const s = typeof value === 'number' ? (Number.isFinite(value) ? String(Number(value.toPrecision(15))) : '') : spreadsheetSafe(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV row in CSV_COLUMNS order from named values (missing ones empty). */
export function csvRow(values: Partial<Record<(typeof CSV_COLUMNS)[number], Field>>): string {
  return CSV_COLUMNS.map((c) => csvField(values[c])).join(',');
}

export function renderCsv(report: CompareReport): string {
  const lines: string[] = [CSV_COLUMNS.join(',')];
  const baseline = report.variants[0]?.label;
  for (const m of report.metrics) {
    report.variants.forEach((v, i) => {
      const s = m.summaries[i];
      const c = m.comparisons[i];
      const filled = s && hasValues(s) ? s : undefined;
      const reasons = v.failures.map((g) => `${g.count}x ${g.status}: ${g.reason}`).join('; ');
      const record: Record<(typeof CSV_COLUMNS)[number], Field> = {
        run_id: report.runId,
        metric: snakeCase(m.key),
        variant: v.label,
        qemu_version: v.qemuVersion,
        trials: v.trials,
        completed: v.completed,
        failed: v.failed,
        n: s?.n ?? 0,
        median_ms: filled?.median,
        mean_ms: filled?.mean,
        sd_ms: filled?.sd,
        min_ms: filled?.min,
        max_ms: filled?.max,
        q1_ms: filled?.q1,
        q3_ms: filled?.q3,
        iqr_ms: filled?.iqr,
        mad_ms: filled?.mad,
        outliers: filled?.outliers.length,
        baseline: i === 0 ? undefined : baseline,
        delta_ms: c?.deltaMs,
        delta_pct: c?.deltaPct,
        ci_low_ms: c?.ci?.[0],
        ci_high_ms: c?.ci?.[1],
        confidence: c ? c.confidence : undefined,
        p_value: c?.pValue,
        p_method: c?.test?.method,
        verdict: c?.verdict,
        failure_reasons: reasons === '' ? undefined : reasons,
      };
      lines.push(CSV_COLUMNS.map((col) => csvField(record[col])).join(','));
    });
  }
  return `${lines.join('\r\n')}\r\n`;
}
