// The grouped layout of `info migrate` (QEMU 10.1+): "Label: \t\tkey=value, key=value" with
// human-readable sizes.

import type { Kind, MigrationInfo, NumericField } from './migration-info.js';
import { parseValue } from './info-migrate-values.js';

// Grouped layout (10.1+): label -> { subkey -> field }. The "(KiB)" labels and the
// *_rate keys are from the v1 of the patch that introduced the layout (bare numbers in
// KiB); accepting them costs nothing and covers distro backports of that version.
export const GROUP_FIELDS: Record<string, Record<string, [NumericField, Kind]>> = {
  'time (ms)': {
    total: ['totalTimeMs', 'ms'],
    setup: ['setupMs', 'ms'],
    exp_down: ['expectedDowntimeMs', 'ms'],
    down: ['downtimeMs', 'ms'],
  },
  sizes: {
    pagesize: ['pageSizeBytes', 'bytes'],
    psize: ['pageSizeBytes', 'bytes'],
    total: ['totalRamBytes', 'bytes'],
  },
  transfers: {
    transferred: ['transferredRamBytes', 'bytes'],
    remain: ['remainingRamBytes', 'bytes'],
  },
  channels: {
    precopy: ['precopyRamBytes', 'bytes'],
    multifd: ['multifdBytes', 'bytes'],
    postcopy: ['postcopyRamBytes', 'bytes'],
    vfio: ['vfioBytes', 'bytes'],
  },
  'page types': {
    normal: ['normalPages', 'count'],
    zero: ['duplicatePages', 'count'],
  },
  'page rates (pps)': {
    transfer: ['pagesPerSecond', 'count'],
    dirty: ['dirtyPagesRate', 'count'],
    transfer_rate: ['pagesPerSecond', 'count'],
    dirty_rate: ['dirtyPagesRate', 'count'],
  },
  others: {
    dirty_syncs: ['dirtySyncCount', 'count'],
    postcopy_req: ['postcopyRequests', 'count'],
    // a plain byte count, unlike the other sizes of this layout
    downtime_bytes: ['downtimeRamBytes', 'bytes'],
    zerocopy_fallbacks: ['zeroCopyFallbacks', 'count'],
  },
};

/** "a=1, b=4 KiB" -> [["a","1"],["b","4 KiB"]], or undefined if it is not such a list. */
function splitPairs(value: string): Array<[string, string]> | undefined {
  const parts = value.split(',').map((p) => p.trim());
  const pairs: Array<[string, string]> = [];
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (eq <= 0) return undefined;
    pairs.push([p.slice(0, eq).trim(), p.slice(eq + 1).trim()]);
  }
  return pairs;
}

/**
 * A group's line: true when every pair was read, false when some were not (what was read is
 * kept, and the line goes to `unknown` too so the gap is visible), undefined for another label.
 */
export function parseGroupLine(info: MigrationInfo, key: string, value: string): boolean | undefined {
  // "Sizes (KiB)" in the first version of the grouped layout: bare numbers in KiB.
  const kib = key.endsWith('(kib)');
  const groupKey = kib ? key.slice(0, -'(kib)'.length).trimEnd() : key;
  const group = GROUP_FIELDS[groupKey];
  if (!group) return undefined;
  const pairs = splitPairs(value);
  if (!pairs) return false;
  let understoodAll = true;
  for (const [sub, raw] of pairs) {
    const f = group[sub];
    const n = f ? parseValue(raw, f[1], kib ? 1024 : 1) : undefined;
    if (f && n !== undefined) info[f[0]] = n;
    else understoodAll = false;
  }
  return understoodAll;
}
