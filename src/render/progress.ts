// Live progress on stderr while a series of trials runs.
//
// On a terminal: a live area of one or two lines (where the series is, and what the current
// trial is doing), redrawn at most ~10 times a second, with each finished trial printed as a
// permanent line above it. Anywhere else (a pipe, a CI log, TERM=dumb): exactly one plain line
// per finished trial and never a control sequence. Quiet: nothing at all.
//
// The cursor movement is log-update's (it diffs frames, wraps to the terminal width and knows
// how many lines to erase); this module only decides what to show and when. The cursor is
// never hidden, and every frame ends with a newline, so however the process ends (even a
// second Ctrl-C that exits without stop()) the shell prompt starts on a clean line.

import type { ChalkInstance } from 'chalk';
import type { createLogUpdate as CreateLogUpdate } from 'log-update';

// log-update takes a tenth of a second to load: only a terminal that shows the live area pays it.
let createLogUpdate: typeof CreateLogUpdate | undefined;

/** Load what the live area needs; call before createProgress with `enabled: true`. */
export async function loadLiveDisplay(): Promise<void> {
  createLogUpdate ??= (await import('log-update')).createLogUpdate;
}
import type { PlannedTrial, SeriesHooks } from '../trial/series.js';
import type { ProgressSample, TrialRecord } from '../trial/types.js';
import type { MigrationInfo } from '../qemu/info-migrate.js';
import { formatBytes } from '../util/units.js';
import { trialLine } from './trial-line.js';
import { makeChalk } from './style.js';
import { plural } from '../util/plural.js';

export interface ProgressOptions {
  stream: NodeJS.WriteStream | (NodeJS.WritableStream & { isTTY?: boolean; columns?: number });
  /** draw the live area; the caller decides (see progressEnabled): TTY && !quiet && no machine output on this stream */
  enabled: boolean;
  color: boolean;
  /** trials in the whole series */
  total: number;
  /** 'run' or 'compare' */
  label?: string;
  /** write nothing at all: no live area, no trial lines, no log() lines */
  quiet?: boolean;
  /**
   * The "of" in a finished trial's line ("trial 2/5"): how many trials its variant has at its
   * point, which is not `total` for compare (two variants, warm-ups) or a sweep. Default: total.
   */
  trialOf?: (record: TrialRecord) => number;
  /** minimum ms between two redraws of the live area (default 100) */
  intervalMs?: number;
}

export interface Progress extends Required<Pick<SeriesHooks, 'onTrialStart' | 'onTrialDone' | 'onPhase' | 'onSample'>> {
  /** print a line above the live display without breaking it */
  log(line: string): void;
  /** clear the live area, leaving the cursor at the start of a clean line; idempotent */
  stop(): void;
}

/** Whether a live display belongs on this stream: a real terminal, not CI, not asked to be quiet. */
export function progressEnabled(
  stream: { isTTY?: boolean },
  opts: { quiet?: boolean; machineOutputOnThisStream?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (opts.quiet || opts.machineOutputOnThisStream) return false;
  if (!stream.isTTY) return false;
  if (env.TERM === 'dumb') return false;
  const ci = env.CI?.trim().toLowerCase();
  if (ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false') return false;
  return true;
}

/** 65 s -> "1m05s", 3725 s -> "1h02m". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Fraction of guest RAM sent in the current pass, from whichever figures QEMU printed. */
export function ramFraction(info: Pick<MigrationInfo, 'transferredRamBytes' | 'remainingRamBytes' | 'totalRamBytes'>): number | undefined {
  const total = info.totalRamBytes;
  if (!total || total <= 0) return undefined;
  // remaining/total stays meaningful on later passes, where transferred exceeds total.
  const f = info.remainingRamBytes !== undefined ? 1 - info.remainingRamBytes / total : info.transferredRamBytes !== undefined ? info.transferredRamBytes / total : undefined;
  return f === undefined || !Number.isFinite(f) ? undefined : Math.min(1, Math.max(0, f));
}

type Part = [text: string, style?: (s: string) => string];

/** Join parts into one line no wider than `width` columns, cutting the last visible part with "…". */
function fit(parts: Part[], width: number): string {
  let out = '';
  let left = Math.max(1, width);
  for (const [text, style] of parts) {
    if (!text) continue;
    const chars = [...text];
    if (chars.length > left) {
      const cut = `${chars.slice(0, Math.max(0, left - 1)).join('')}…`;
      out += style ? style(cut) : cut;
      break;
    }
    out += style ? style(text) : text;
    left -= chars.length;
  }
  return out;
}

/** What the live area shows, changed by the series' events. */
interface LiveState {
  seriesStartedAt?: number;
  trialStartedAt?: number;
  position: number;
  plan?: PlannedTrial;
  phase?: string;
  info?: MigrationInfo;
  finished: number;
  wallMsSum: number;
}

/** "[A] #2 (warm-up) · ram=1G": which trial is running, as in trialLine. */
function whoParts(plan: PlannedTrial, chalk: ChalkInstance): Part[] {
  const parts: Part[] = [];
  // a plain run's variant is just "run"
  const who = [plan.variant !== 'run' ? `[${plan.variant}]` : '', plan.variant !== 'run' || plan.warmup ? `#${plan.index}` : '', plan.warmup ? '(warm-up)' : '']
    .filter(Boolean)
    .join(' ');
  if (who) parts.push([` · ${who}`]);
  if (plan.point && Object.keys(plan.point).length) {
    parts.push([` · ${Object.entries(plan.point).map(([k, v]) => `${k}=${v}`).join(' ')}`, chalk.cyan]);
  }
  return parts;
}

/** The second line while a trial runs: its phase, and while migrating how far it got. */
function phaseParts(phase: string, info: MigrationInfo | undefined, chalk: ChalkInstance): Part[] {
  const body: Part[] = [[`  ${phase}`, chalk.yellow]];
  if (phase !== 'migrating' || !info) return [...body, ['…', chalk.yellow]];
  if (info.status && info.status !== 'active') body.push([` (${info.status})`, chalk.yellow]);
  const f = ramFraction(info);
  if (f !== undefined) body.push([` ${Math.floor(f * 100)}%`, chalk.bold]);
  if (info.totalRamBytes !== undefined) body.push([` of ${formatBytes(info.totalRamBytes)}`]);
  if (info.throughputMbps !== undefined) {
    const t = info.throughputMbps;
    body.push([` · ${t >= 100 ? Math.round(t) : Number(t.toFixed(1))} Mbps`]);
  }
  if (info.dirtySyncCount !== undefined) body.push([` · pass ${info.dirtySyncCount}`]);
  if (info.expectedDowntimeMs !== undefined) body.push([` · expected downtime ${Number(info.expectedDowntimeMs.toFixed(1))} ms`]);
  return body;
}

/** The live area's lines at time `now`, each fitted to `width` columns. */
function frameOf(s: LiveState, total: number, label: string | undefined, chalk: ChalkInstance, width: number, now: number): string {
  const head: Part[] = [];
  if (label) head.push([`${label}: `, chalk.dim]);
  const running = s.trialStartedAt !== undefined;
  head.push([running ? `trial ${s.position}/${total}` : `${s.finished}/${plural(total, 'trial')} done`, chalk.bold]);
  if (running && s.plan) head.push(...whoParts(s.plan, chalk));
  if (s.seriesStartedAt !== undefined) head.push([` · ${formatDuration(now - s.seriesStartedAt)} elapsed`, chalk.dim]);
  if (s.finished > 0 && s.finished < total) {
    const avg = s.wallMsSum / s.finished;
    // The current trial's expected rest, then every trial not yet started.
    const eta = running
      ? Math.max(0, avg - (now - s.trialStartedAt!)) + avg * Math.max(0, total - s.position)
      : avg * Math.max(0, total - s.finished);
    head.push([`, ~${formatDuration(eta)} left`, chalk.dim]);
  }
  const lines = [fit(head, width)];
  if (running && s.phase) lines.push(fit(phaseParts(s.phase, s.info, chalk), width));
  return lines.join('\n');
}

/**
 * The stream as log-update sees it. log-update reads the size from the stream, but a
 * pseudo-terminal nobody sized (`script` run from a pipe, some CI runners) reports 0x0, and 0
 * rows makes it draw nothing at all.
 */
function liveTarget(stream: ProgressOptions['stream']) {
  const size = stream as { columns?: number; rows?: number };
  const columns = () => (size.columns && size.columns > 0 ? size.columns : 80);
  const target = {
    isTTY: Boolean(stream.isTTY),
    get columns() {
      return columns();
    },
    get rows() {
      return size.rows && size.rows > 0 ? size.rows : 24;
    },
    write: (chunk: string) => stream.write(chunk),
  };
  return { target, columns };
}

type LogUpdate = ReturnType<typeof CreateLogUpdate>;

/**
 * The redrawn area under the permanent lines: drawn at most every `intervalMs`, kept moving by
 * a ticker through long phases that report nothing. Without `update` (no live display) lines
 * are only written, unless quiet.
 */
function liveArea(stream: ProgressOptions['stream'], update: LogUpdate | undefined, quiet: boolean, intervalMs: number, frame: (now: number) => string) {
  let stopped = false;
  let lastDraw = -Infinity;
  let pending: NodeJS.Timeout | undefined;
  let ticker: NodeJS.Timeout | undefined;
  const draw = () => {
    if (pending) clearTimeout(pending);
    pending = undefined;
    if (!update || stopped) return;
    lastDraw = Date.now();
    update(frame(lastDraw));
  };
  /** Redraw now, or once the interval since the last redraw has passed; never more often. */
  const schedule = () => {
    if (!update || stopped || pending) return;
    const wait = lastDraw + intervalMs - Date.now();
    if (wait <= 0) draw();
    else {
      pending = setTimeout(draw, wait);
      pending.unref?.();
    }
  };
  return {
    stopped: () => stopped,
    schedule,
    startTicker() {
      if (ticker) return;
      // Keeps elapsed/ETA moving through long phases that report nothing.
      ticker = setInterval(schedule, 1000);
      ticker.unref?.();
    },
    /**
     * A permanent line above the live area, written exactly as given (log-update's persist()
     * would hard-wrap it at the terminal width); the area is drawn again right below it.
     */
    above(line: string) {
      if (!update || stopped) {
        if (!quiet) stream.write(`${line}\n`);
        return;
      }
      update.clear();
      stream.write(`${line}\n`);
      draw();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (pending) clearTimeout(pending);
      if (ticker) clearInterval(ticker);
      pending = ticker = undefined;
      if (update) {
        update.clear();
        update.done();
      }
    },
  };
}

export function createProgress(opts: ProgressOptions): Progress {
  const { stream, total } = opts;
  const quiet = opts.quiet === true;
  const live = opts.enabled && !quiet;
  const chalk = makeChalk(opts.color);
  const of = (t: TrialRecord) => opts.trialOf?.(t) ?? total;

  const state: LiveState = { position: 0, finished: 0, wallMsSum: 0 };
  const { target, columns } = liveTarget(stream);
  // Only created when drawing; showCursor leaves the cursor alone (hiding it would need restoring on every exit path).
  if (live && !createLogUpdate) throw new Error('createProgress: call loadLiveDisplay() first');
  const update = live ? createLogUpdate!(target as unknown as NodeJS.WritableStream, { showCursor: true }) : undefined;
  const area = liveArea(stream, update, quiet, opts.intervalMs ?? 100, (now) => frameOf(state, total, opts.label, chalk, Math.max(20, columns() - 1), now));

  return {
    onTrialStart(p, pos) {
      if (!live || area.stopped()) return;
      const now = Date.now();
      state.seriesStartedAt ??= now;
      Object.assign(state, { trialStartedAt: now, position: pos, plan: p, phase: undefined, info: undefined });
      area.startTicker();
      area.schedule();
    },
    onPhase(name) {
      if (!live || area.stopped()) return;
      state.phase = name;
      if (name !== 'migrating') state.info = undefined;
      area.schedule();
    },
    onSample(_sample: ProgressSample, i: MigrationInfo) {
      if (!live || area.stopped()) return;
      state.info = i;
      area.schedule();
    },
    onTrialDone(record, pos) {
      state.finished++;
      state.wallMsSum += record.wallMs;
      Object.assign(state, { position: pos, trialStartedAt: undefined, plan: undefined, phase: undefined, info: undefined });
      area.above(trialLine(record, of(record)));
    },
    log(line) {
      area.above(line.endsWith('\n') ? line.slice(0, -1) : line);
    },
    stop: () => area.stop(),
  };
}
