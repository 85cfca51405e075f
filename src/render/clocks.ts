// The pause by two clocks, per trial: guest-observed downtime against the traced end-to-end
// pause, and their difference; a trial where they disagree by more than two heartbeat periods
// is flagged. One section for every text format (table, mail, markdown), rows for csv, and a
// table for the HTML report; json carries each trial's `clocks` and the summary.

import { FLAG_PERIODS, HONEST_SLACK_MS, type ClockAgreement, type ClockAgreementSummary } from '../trial/clock-agreement.js';
import type { Analysis } from '../stats/analysis.js';
import type { RunHeader, TrialRecord } from '../trial/types.js';
import { formatNumber, formatSignedMs, markdownRow } from './format.js';
import { boxTable, MAIL_WIDTH, renderTable, toAscii, wrap } from './text-table.js';

export const FLAG_MARK = 'DISAGREE';

interface ClockRow {
  who: string;
  c: ClockAgreement;
}

function rowsOf(header: RunHeader, trials: readonly TrialRecord[]): ClockRow[] {
  const many = header.variants.length > 1;
  return trials
    .filter((t) => !t.warmup && t.status === 'completed' && t.clocks)
    .map((t) => ({ who: `${many ? `${t.variant} ` : ''}#${t.index}${t.point ? ` ${Object.values(t.point).join(' ')}` : ''}`, c: t.clocks! }));
}

const ms = (v: number) => formatNumber(Number(v.toFixed(v < 10 ? 2 : 1)));

function headline(rows: ClockRow[], s: ClockAgreementSummary): string {
  const p = rows[0]!.c.heartbeatPeriodMs;
  return (
    `Two clocks: guest-observed minus traced pause within [-${HONEST_SLACK_MS}, P+${HONEST_SLACK_MS}] ms (P = ${formatNumber(p)} ms heartbeat) ` +
    `in ${s.honest} of ${s.n} trials; ${s.flagged} flagged (apart by more than ${FLAG_PERIODS} periods).`
  );
}

function flaggedLines(rows: ClockRow[]): string[] {
  return rows
    .filter((r) => r.c.flagged)
    .map(
      (r) =>
        `${FLAG_MARK}: trial ${r.who}: guest-observed ${ms(r.c.guestObservedMs)} ms, traced pause ${ms(r.c.tracedPauseMs)} ms ` +
        `(${formatSignedMs(Number(r.c.differenceMs.toFixed(2)))}): ` +
        (r.c.edgesReadOnTime === true
          ? 'both edge beats were read on time, so the guest itself did not run that much longer than the traced pause'
          : r.c.edgesReadOnTime === false
            ? 'the reader was late at an edge of the gap'
            : 'one of the two clocks is wrong for this trial'),
    );
}

function cells(r: ClockRow): string[] {
  return [r.who, ms(r.c.guestObservedMs), ms(r.c.tracedPauseMs), formatSignedMs(Number(r.c.differenceMs.toFixed(2))), r.c.flagged ? FLAG_MARK : r.c.honest ? 'ok' : 'outside'];
}

const TITLES = ['trial', 'guest-observed', 'traced pause', 'difference', 'clocks'];

/** Lines for the terminal (ascii false) or the mail (ascii true); [] when no trial has both measures. */
export function renderClocksText(header: RunHeader, analysis: Analysis, ascii: boolean): string[] {
  const rows = rowsOf(header, analysis.trials);
  if (!rows.length) return [];
  const s = analysis.clocks;
  const out = ['', 'Guest-observed downtime against the traced pause (ms):'];
  if (ascii) {
    out.push(...renderTable(TITLES.slice(1), rows.map((r) => cells(r).map(toAscii)), MAIL_WIDTH));
  } else {
    out.push(boxTable(TITLES, rows.map(cells), ['left', 'right', 'right', 'right', 'left']));
  }
  for (const l of [headline(rows, s), ...flaggedLines(rows)]) out.push(...(ascii ? wrap(toAscii(l), MAIL_WIDTH) : [l]));
  return out;
}

export function renderClocksMarkdown(header: RunHeader, analysis: Analysis): string[] {
  const rows = rowsOf(header, analysis.trials);
  if (!rows.length) return [];
  const s = analysis.clocks;
  return [
    '',
    '**Guest-observed downtime against the traced pause** (ms)',
    '',
    markdownRow(TITLES),
    '| :--- | ---: | ---: | ---: | :--- |',
    ...rows.map((r) => markdownRow(cells(r).map((c) => (c === FLAG_MARK ? `**${c}**` : c)))),
    '',
    `- ${headline(rows, s)}`,
    ...flaggedLines(rows).map((l) => `- **${l}**`),
  ];
}

/** One CSV row per trial with both measures (the metric column says "clocks"). */
export function clocksCsvRows(analysis: Analysis): Array<Record<string, string | number>> {
  return analysis.trials
    .filter((t) => !t.warmup && t.status === 'completed' && t.clocks)
    .map((t) => ({
      metric: `clocks:trial ${t.index}${t.point ? ` ${Object.values(t.point).join(' ')}` : ''}`,
      variant: t.variant,
      n: 1,
      median_ms: t.clocks!.differenceMs,
      min_ms: t.clocks!.tracedPauseMs,
      max_ms: t.clocks!.guestObservedMs,
      verdict: t.clocks!.flagged ? FLAG_MARK : t.clocks!.honest ? 'ok' : 'outside',
    }));
}

/** The HTML report's section, or '' when no trial has both measures. */
export function clocksHtml(header: RunHeader, analysis: Analysis, e: (s: string) => string): string {
  const rows = rowsOf(header, analysis.trials);
  if (!rows.length) return '';
  const s = analysis.clocks;
  const body = rows
    .map((r) => `<tr${r.c.flagged ? ' class="flagged"' : ''}>${cells(r).map((c, i) => (i === 0 ? `<th>${e(c)}</th>` : `<td>${c === FLAG_MARK ? `<strong>${e(c)}</strong>` : e(c)}</td>`)).join('')}</tr>`)
    .join('\n');
  const flagged = flaggedLines(rows);
  return (
    `<section id="clocks">\n<h2>Guest-observed downtime against the traced pause</h2>\n` +
    `<table class="summary">\n<thead><tr>${TITLES.map((t) => `<th>${e(t)}</th>`).join('')}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>\n` +
    `<p class="method">${e(headline(rows, s))}</p>` +
    (flagged.length ? `\n<ul class="notes">\n${flagged.map((l) => `<li><strong>${e(l)}</strong></li>`).join('\n')}\n</ul>` : '') +
    `\n</section>`
  );
}
