// Where the pause went: the phases from QEMU's downtime tracepoints, per trial for a run and
// per variant (with the change of each phase) for a compare. Plain lines, so the same text
// serves the terminal, the mail (ASCII, 72 columns) and markdown.

import type { RunHeader, TrialRecord } from '../trial/types.js';
import { NO_TRACEPOINTS_NOTE, type DowntimeBreakdown } from '../trace/breakdown.js';
import type { Analysis } from '../stats/analysis.js';
import { formatNumber, formatSignedMs, markdownRow } from './format.js';
import { boxTable, MAIL_WIDTH, renderTable, toAscii, wrap } from './text-table.js';
import { fitTable } from './fit.js';
import { plural } from '../util/plural.js';

const ms = (v: number | undefined) => (v === undefined ? '-' : `${formatNumber(Number(v.toFixed(v < 10 ? 2 : 1)))}ms`);

function measured(trials: readonly TrialRecord[]): TrialRecord[] {
  return trials.filter((t) => !t.warmup && t.status === 'completed');
}

/** Whether anything is to be said about breakdowns for these trials. */
export function breakdownNote(header: RunHeader, trials: readonly TrialRecord[]): string | undefined {
  const done = measured(trials);
  if (done.length === 0) return undefined;
  if (done.some((t) => t.breakdown?.available)) return undefined;
  const legacy = done.some((t) => t.breakdown?.legacyPause);
  if (legacy) return `Pause breakdown: ${NO_TRACEPOINTS_NOTE} (8.2 or later); the dirty-log stop below comes from older tracepoints.`;
  return header.config.breakdown === 'unavailable' || header.config.breakdown === 'recorded' ? `Pause breakdown: ${NO_TRACEPOINTS_NOTE} (8.2 or later).` : undefined;
}

interface Section {
  titles: string[];
  rows: string[][];
  lines: string[];
}

const yesNo = (v: boolean | undefined) => (v === undefined ? '?' : v ? 'yes' : 'no');

/**
 * QEMU before 8.2: no phases, but the pause bracketed by run states, whether dirty logging
 * stopped inside it, and how long the slot updates that stopped it took.
 */
function legacySection(header: RunHeader, analysis: Analysis, done: TrialRecord[]): Section | undefined {
  const withLegacy = done.filter((t) => t.breakdown?.legacyPause);
  if (!withLegacy.length) return undefined;
  const bracket = `${withLegacy[0]!.breakdown!.legacyPause!.from} to ${withLegacy[0]!.breakdown!.legacyPause!.to}`;
  if (header.command === 'compare') {
    const labels = header.variants.map((v) => v.label);
    const sums = analysis.breakdowns.slice(0, labels.length).map((b) => b.legacy);
    const change = (a?: number, b?: number) => (a === undefined || b === undefined ? '-' : formatSignedMs(Number((b - a).toFixed(2))));
    const a = sums[0]!;
    const b = sums[1];
    const rows = [
      ['pause (run states)', ...sums.map((s) => ms(s.legacyPauseMs?.medianMs)), change(a.legacyPauseMs?.medianMs, b?.legacyPauseMs?.medianMs)],
      ['dirty-log stop in pause', ...sums.map((s) => `${s.dirtyLogStop.inPause}/${s.dirtyLogStop.inPause + s.dirtyLogStop.outside + s.dirtyLogStop.unknown}`), ''],
      ['slot updates stopping it', ...sums.map((s) => ms(s.dirtyLogStop.durationMs?.medianMs)), change(a.dirtyLogStop.durationMs?.medianMs, b?.dirtyLogStop.durationMs?.medianMs)],
    ];
    return { titles: ['dirty logging (median)', ...labels, 'change'], rows, lines: [`pause bracketed from ${bracket}`] };
  }
  const bs = withLegacy.map((t) => t.breakdown!);
  const s = analysis.breakdowns[0]!.legacy;
  const rows = [
    ['pause (run states)', ...bs.map((b) => ms(b.legacyPause?.ms)), ms(s.legacyPauseMs?.medianMs)],
    ['QEMU downtime', ...withLegacy.map((t) => ms(t.info?.downtimeMs)), ''],
    ['dirty-log stop in pause', ...bs.map((b) => yesNo(b.dirtyLogStop.inPause)), `${s.dirtyLogStop.inPause}/${bs.length}`],
    ['slot updates stopping it', ...bs.map((b) => ms(b.dirtyLogStop.durationMs)), ms(s.dirtyLogStop.durationMs?.medianMs)],
  ];
  const lines = [`pause bracketed from ${bracket}`, ...new Set(bs.map((b) => `dirty logging: ${b.dirtyLogStop.note}`))];
  return { titles: ['dirty logging', ...withLegacy.map((t) => `#${t.index}`), 'median'], rows, lines };
}

function deviceLine(b: { save: Array<{ idstr: string; instance: number; medianUs?: number; us?: number }>; load: typeof b.save }): string[] {
  const fmt = (d: { idstr: string; instance: number; medianUs?: number; us?: number }) =>
    `${d.idstr}${d.instance ? `/${d.instance}` : ''} ${ms((d.medianUs ?? d.us ?? 0) / 1000)}`;
  const lines: string[] = [];
  if (b.save.length) lines.push(`slowest saves: ${b.save.slice(0, 3).map(fmt).join(', ')}`);
  if (b.load.length) lines.push(`slowest loads: ${b.load.slice(0, 3).map(fmt).join(', ')}`);
  return lines;
}

/** Rows and text of the breakdown: a phase table (label + one column per trial or variant). */
export function breakdownSection(header: RunHeader, analysis: Analysis): Section | undefined {
  const done = measured(analysis.trials).filter((t) => t.breakdown?.available);
  if (done.length === 0) return legacySection(header, analysis, measured(analysis.trials));
  if (header.command === 'compare') {
    const labels = header.variants.map((v) => v.label);
    const [a, b] = analysis.breakdowns.map((v) => v.completed);
    const cmp = analysis.breakdownChange!;
    const rows = cmp.phases.map((p) => [p.name, ms(p.medianA), ms(p.medianB), p.deltaMs === undefined ? '-' : formatSignedMs(Number(p.deltaMs.toFixed(2)))]);
    for (const [label, c] of [
      ['end-to-end pause', cmp.endToEndPauseMs],
      ['QEMU downtime span', cmp.sourceDowntimeMs],
    ] as const) {
      if (c) rows.push([label, ms(c.medianA), ms(c.medianB), c.deltaMs === undefined ? '-' : formatSignedMs(Number(c.deltaMs.toFixed(2)))]);
    }
    const lines: string[] = [];
    for (const [i, s] of [a!, b!].entries()) {
      if (s.n === 0) continue;
      const dl = s.dirtyLogStop;
      lines.push(`${labels[i]}: dirty logging stopped inside the pause in ${dl.inPause} of ${plural(s.n, 'trial')}, outside in ${dl.outside}${dl.unknown ? `, unknown in ${dl.unknown}` : ''}`);
      lines.push(...deviceLine(s.topDevices).map((l) => `${labels[i]}: ${l}`));
    }
    return { titles: ['phase (median)', ...labels, 'change'], rows, lines };
  }
  // run: one column per trial, then the median
  const bs = done.map((t) => t.breakdown as DowntimeBreakdown);
  const s = analysis.breakdowns[0]!.completed;
  const titles = ['phase', ...done.map((t) => `#${t.index}`), 'median'];
  const rows = s.phases.map((p) => [p.name, ...bs.map((b) => ms(b.phases.find((x) => x.key === p.key)?.durationMs)), ms(p.medianMs)]);
  rows.push(['end-to-end pause', ...bs.map((b) => ms(b.endToEndPauseMs)), ms(s.endToEndPauseMs?.medianMs)]);
  rows.push(['QEMU downtime', ...done.map((t) => ms(t.info?.downtimeMs)), '']);
  if (done.some((t) => t.guest?.observedDowntimeMs !== undefined)) {
    rows.push(['guest-observed', ...done.map((t) => ms(t.guest?.observedDowntimeMs)), '']);
  }
  const lines = [...deviceLine(s.topDevices)];
  const notes = new Set(bs.map((b) => b.dirtyLogStop.note));
  for (const n of notes) lines.push(`dirty logging: ${n}`);
  return { titles, rows, lines };
}

export function renderBreakdownText(header: RunHeader, analysis: Analysis, ascii: boolean, columns?: number): string[] {
  const note = breakdownNote(header, analysis.trials);
  const sec = breakdownSection(header, analysis);
  if (note && !sec) return ['', ...(ascii ? wrap(toAscii(note), MAIL_WIDTH) : [note])];
  if (!sec) return [];
  const out = note ? ['', ...(ascii ? wrap(toAscii(note), MAIL_WIDTH) : [note]), 'Dirty logging from QEMU tracepoints (ms):'] : ['', 'Pause breakdown from QEMU tracepoints (ms):'];
  if (ascii) {
    out.push(...renderTable(sec.titles.slice(1).map(toAscii), sec.rows.map((r) => r.map(toAscii)), MAIL_WIDTH));
  } else {
    const boxed = boxTable(sec.titles, sec.rows, sec.titles.map((_, i) => (i === 0 ? 'left' : 'right')));
    out.push(fitTable(boxed, sec.titles.slice(1), sec.rows, columns));
  }
  for (const l of sec.lines) out.push(...(ascii ? wrap(toAscii(l), MAIL_WIDTH) : [l]));
  return out;
}

export function renderBreakdownMarkdown(header: RunHeader, analysis: Analysis): string[] {
  const note = breakdownNote(header, analysis.trials);
  const sec = breakdownSection(header, analysis);
  if (note && !sec) return ['', note];
  if (!sec) return [];
  return [
    ...(note ? ['', note] : []),
    '',
    note ? '**Dirty logging** (QEMU tracepoints, ms)' : '**Pause breakdown** (QEMU tracepoints, ms)',
    '',
    markdownRow(sec.titles),
    `| ${sec.titles.map((_, i) => (i === 0 ? ':---' : '---:')).join(' | ')} |`,
    ...sec.rows.map(markdownRow),
    '',
    ...sec.lines.map((l) => `- ${l}`),
  ];
}
