// How a QEMU build's progress looks: a bar with ninja's [N/M] and an ETA on a terminal, one
// plain line per 10 % anywhere else. Formatting only; the command decides when to draw.

import { formatDuration } from './progress.js';

export interface BuildProgressState {
  done: number;
  total: number;
  elapsedMs: number;
  etaMs?: number;
}

/** `build [#########...........] 432/1440 30% 4m12s, ~9m48s left` within `width` columns. */
export function buildProgressBar(s: BuildProgressState, width = 80): string {
  const pct = s.total ? Math.floor((s.done / s.total) * 100) : 0;
  const tail = ` ${s.done}/${s.total} ${pct}% ${formatDuration(s.elapsedMs)}${s.etaMs !== undefined ? `, ~${formatDuration(s.etaMs)} left` : ''}`;
  const barWidth = Math.max(10, Math.min(40, width - tail.length - 9));
  const filled = s.total ? Math.round((s.done / s.total) * barWidth) : 0;
  return `build [${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]${tail}`;
}

/** `migdown: build 30% (432/1440), 4m12s, ~9m48s left` */
export function buildProgressLine(s: BuildProgressState): string {
  const pct = s.total ? Math.floor((s.done / s.total) * 10) * 10 : 0;
  return `migdown: build ${pct}% (${s.done}/${s.total}), ${formatDuration(s.elapsedMs)}${s.etaMs !== undefined ? `, ~${formatDuration(s.etaMs)} left` : ''}`;
}
