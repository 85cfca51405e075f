// The line-per-field layout of `info migrate` (QEMU up to 10.0): "key: value unit", durations
// in "milliseconds" before 5.1 and "ms" after, sizes in "kbytes"; and its old capability line.

import type { Kind, MigrationInfo, NumericField } from './migration-info.js';
import { parseValue } from './info-migrate-values.js';

// Old layout: key -> field. The unit printed after the number is checked against the
// kind so that a reworded unit lands in `unknown` instead of being silently misread.
export const LINE_FIELDS: Record<string, [NumericField, Kind]> = {
  'total time': ['totalTimeMs', 'ms'],
  'expected downtime': ['expectedDowntimeMs', 'ms'],
  downtime: ['downtimeMs', 'ms'],
  setup: ['setupMs', 'ms'],
  'transferred ram': ['transferredRamBytes', 'bytes'],
  throughput: ['throughputMbps', 'mbps'],
  'remaining ram': ['remainingRamBytes', 'bytes'],
  'total ram': ['totalRamBytes', 'bytes'],
  duplicate: ['duplicatePages', 'count'],
  skipped: ['skippedPages', 'count'],
  normal: ['normalPages', 'count'],
  'normal bytes': ['normalBytes', 'bytes'],
  'dirty sync count': ['dirtySyncCount', 'count'],
  'page size': ['pageSizeBytes', 'bytes'],
  'multifd bytes': ['multifdBytes', 'bytes'],
  'pages-per-second': ['pagesPerSecond', 'count'],
  'dirty pages rate': ['dirtyPagesRate', 'count'],
  'postcopy request count': ['postcopyRequests', 'count'],
  'precopy ram': ['precopyRamBytes', 'bytes'],
  'downtime ram': ['downtimeRamBytes', 'bytes'],
  'postcopy ram': ['postcopyRamBytes', 'bytes'],
  'vfio device transferred': ['vfioBytes', 'bytes'],
  'zero-copy-send fallbacks happened': ['zeroCopyFallbacks', 'count'],
};

/** A "key: value" line of a known field: true when its value was read, undefined for another key. */
export function parseFieldLine(info: MigrationInfo, key: string, value: string): boolean | undefined {
  const lineField = LINE_FIELDS[key];
  if (!lineField) return undefined;
  const n = parseValue(value, lineField[1]);
  if (n === undefined) return false;
  info[lineField[0]] = n;
  return true;
}

/**
 * "xbzrle: off rdma-pin-all: off ..." (also "name:on") -> { xbzrle: false, ... }, or undefined
 * when anything else is on the line. Token by token: linear in the line's length.
 */
export function parseCapabilityList(value: string): Record<string, boolean> | undefined {
  const caps: Record<string, boolean> = {};
  const tokens = value.split(/\s+/).filter(Boolean);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const colon = t.indexOf(':');
    if (colon <= 0 || t.indexOf(':', colon + 1) >= 0) return undefined;
    const name = t.slice(0, colon);
    const state = colon === t.length - 1 ? tokens[++i] : t.slice(colon + 1);
    if (state !== 'on' && state !== 'off') return undefined;
    caps[name] = state === 'on';
  }
  return caps;
}

