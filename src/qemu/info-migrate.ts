// Pure parsers for the HMP `info migrate` and `info status` replies.
//
// QEMU's human monitor output is not an API: its wording changed several times (see
// docs/qemu-versions.md). Two layouts exist:
//   - line per field, "key: value unit" (hmp.c up to 2.12, monitor/hmp-cmds.c 4.2-7.2,
//     migration/migration-hmp-cmds.c 8.0-10.0), durations in "milliseconds" before 5.1
//     and "ms" after, sizes in "kbytes";
//   - grouped (10.1+): "Label: \t\tkey=value, key=value" with human-readable sizes.
// Each layout has its module (info-migrate-line.ts, info-migrate-grouped.ts); both are
// handled by one loop keyed on the text before the first colon, because the
// two layouts share no keys and a mixed or future output should still yield whatever
// it can. Anything not understood goes to `unknown` rather than throwing: a benchmark
// run must not die because a QEMU release reworded a line.

import type { MigrationInfo } from './migration-info.js';
import { cleanLines, parseValue } from './info-migrate-values.js';
import { LINE_FIELDS, parseCapabilityList, parseFieldLine } from './info-migrate-line.js';
import { GROUP_FIELDS, parseGroupLine } from './info-migrate-grouped.js';

export type { MigrationInfo, MigrationStatus } from './migration-info.js';

// Keys with a meaning of their own; a "globals:" block ends at any of them even though
// "capabilities" has the shape of a global's name.
const STRUCTURAL_KEYS = new Set([
  'globals',
  'outgoing migration blocked',
  'ram info',
  'migration status',
  'status',
  'capabilities',
  'remaining',
  'throughput (mbps)',
  ...Object.keys(LINE_FIELDS),
  ...Object.keys(GROUP_FIELDS),
]);

/** "failed (reason)" -> ["failed", "reason"]; the reason may itself contain parentheses. */
function splitStatus(value: string): { status: string; reason?: string } | undefined {
  const m = /^(\S+)(?:\s+\((.*)\))?$/.exec(value.trim());
  if (!m || m[1] === undefined) return undefined;
  return m[2] === undefined ? { status: m[1] } : { status: m[1], reason: m[2] };
}

/** Some lines are only meaningful inside the block their header opened. */
interface Block {
  mode: 'none' | 'globals' | 'blocked';
}

export function parseInfoMigrate(text: string): MigrationInfo {
  const info: MigrationInfo = { unknown: [] };
  let lines: string[];
  try {
    lines = cleanLines(text);
  } catch {
    return info;
  }
  const block: Block = { mode: 'none' };
  for (const line of lines) {
    try {
      if (!parseLine(info, block, line)) info.unknown.push(line);
    } catch {
      info.unknown.push(line);
    }
  }
  return info;
}

/** One line of either layout; false when it was not understood. */
function parseLine(info: MigrationInfo, block: Block, line: string): boolean {
  const indented = /^\s/.test(line);
  const t = line.trim();

  if (block.mode === 'blocked') {
    if (indented) {
      (info.blocked ??= []).push(t);
      return true;
    }
    block.mode = 'none';
  }

  const colon = t.indexOf(':');
  const key = colon >= 0 ? t.slice(0, colon).trim().toLowerCase() : t.toLowerCase();
  const value = colon >= 0 ? t.slice(colon + 1).trim() : '';

  if (block.mode === 'globals') {
    // Globals are "name: value" with a QOM-style property name; a known field key
    // (e.g. "pages-per-second" looks like one) means the block is over.
    if (colon > 0 && /^[a-z][a-z0-9-]*$/.test(key) && !STRUCTURAL_KEYS.has(key) && value !== '') {
      (info.globals ??= {})[t.slice(0, colon).trim()] = value;
      return true;
    }
    block.mode = 'none';
  }

  if (colon < 0) return false;
  return parseStructural(info, block, key, value) ?? parseFieldLine(info, key, value) ?? parseGroupLine(info, key, value) ?? false;
}

/** The keys with a meaning of their own: true or false when `key` is one, undefined otherwise. */
function parseStructural(info: MigrationInfo, block: Block, key: string, value: string): boolean | undefined {
  switch (key) {
    case 'globals':
      if (value !== '') return false;
      block.mode = 'globals';
      info.globals ??= {};
      return true;
    case 'outgoing migration blocked':
      if (value !== '') return false;
      block.mode = 'blocked';
      info.blocked ??= [];
      return true;
    case 'ram info':
      return value === '';
    case 'migration status':
    case 'status': {
      const s = splitStatus(value);
      if (!s) return false;
      info.status = s.status;
      if (s.reason !== undefined) info.failureReason = s.reason;
      return true;
    }
    case 'capabilities': {
      const caps = parseCapabilityList(value);
      if (!caps) return false;
      info.capabilities = caps;
      return true;
    }
    case 'remaining': {
      const n = parseValue(value, 'bytes');
      if (n === undefined) return false;
      info.remainingBytes = n;
      return true;
    }
    case 'throughput (mbps)': {
      const n = parseValue(value, 'mbps');
      if (n === undefined) return false;
      info.throughputMbps = n;
      return true;
    }
  }
  return undefined;
}

/** The contents of each "(...)" in order, trimmed; one pass (a regex scan would be quadratic on "(((("). */
function parenthesised(text: string): string[] {
  const out: string[] = [];
  let open = -1;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') open = i;
    else if (text[i] === ')' && open >= 0) {
      out.push(text.slice(open + 1, i).trim());
      open = -1;
    }
  }
  return out;
}

export function parseInfoStatus(text: string): { status?: string; running?: boolean } {
  let lines: string[];
  try {
    lines = cleanLines(text);
  } catch {
    return {};
  }
  for (const line of lines) {
    const m = /^\s*VM status:\s*(running|paused)\b(.*)$/.exec(line);
    if (!m || m[1] === undefined) continue;
    const running = m[1] === 'running';
    // QEMU appends " (single step mode)" and, when not plainly paused, " (runstate)".
    const groups = parenthesised(m[2] ?? '').filter((g) => g !== '' && g !== 'single step mode');
    return { status: groups.at(-1) ?? m[1], running };
  }
  return {};
}

/**
 * A completed migration whose times QEMU has not filled in yet: it sets the state to
 * 'completed' a moment before it writes total time and downtime (no real migration takes 0 ms
 * in all).
 */
export function timesNotYetWritten(info: MigrationInfo): boolean {
  return info.status === 'completed' && !info.totalTimeMs && !info.downtimeMs;
}
