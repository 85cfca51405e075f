// Pure parsers for the HMP `info migrate` and `info status` replies.
//
// QEMU's human monitor output is not an API: its wording changed several times (see
// docs/qemu-versions.md). Two layouts exist:
//   - line per field, "key: value unit" (hmp.c up to 2.12, monitor/hmp-cmds.c 4.2-7.2,
//     migration/migration-hmp-cmds.c 8.0-10.0), durations in "milliseconds" before 5.1
//     and "ms" after, sizes in "kbytes";
//   - grouped (10.1+): "Label: \t\tkey=value, key=value" with human-readable sizes.
// Both are handled by one loop keyed on the text before the first colon, because the
// two layouts share no keys and a mixed or future output should still yield whatever
// it can. Anything not understood goes to `unknown` rather than throwing: a benchmark
// run must not die because a QEMU release reworded a line.

export type MigrationStatus =
  | 'none'
  | 'setup'
  | 'active'
  | 'completed'
  | 'failed'
  | 'cancelled'
  | 'cancelling'
  | 'postcopy-active'
  | 'postcopy-paused'
  | 'postcopy-recover'
  | 'pre-switchover'
  | 'device'
  | 'wait-unplug'
  | 'colo'
  // `string & {}` rather than `string`: a plain string would swallow the literals above and
  // editors would stop suggesting them; any string is still accepted.
  | (string & {});

export interface MigrationInfo {
  /** undefined when QEMU printed no status (no migration yet) */
  status?: MigrationStatus;
  /** "Migration status: failed (REASON)" -> REASON; also the 10.1 layout's "Status: failed (REASON)" */
  failureReason?: string;
  totalTimeMs?: number;
  downtimeMs?: number;
  expectedDowntimeMs?: number;
  setupMs?: number;
  /**
   * Byte counts. The old layout prints `bytes >> 10` as kbytes, so these are multiples of
   * 1024 rounded down; the 10.1+ layout prints three significant digits ("4.02 GiB"), so
   * they are only accurate to ~0.5%.
   */
  transferredRamBytes?: number;
  remainingRamBytes?: number;
  totalRamBytes?: number;
  /** megabits (10^6 bits) per second: a recent-window rate while active, the average over the whole migration once completed */
  throughputMbps?: number;
  /** zero pages ("duplicate" before 10.1, "zero" after) */
  duplicatePages?: number;
  /** gone from QEMU 9.1 on (always 0 before that) */
  skippedPages?: number;
  normalPages?: number;
  /** not printed by the 10.1+ layout */
  normalBytes?: number;
  dirtySyncCount?: number;
  pageSizeBytes?: number;
  /** pages per second; QEMU prints it only when non-zero */
  dirtyPagesRate?: number;
  multifdBytes?: number;
  pagesPerSecond?: number;
  precopyRamBytes?: number;
  downtimeRamBytes?: number;
  postcopyRamBytes?: number;
  postcopyRequests?: number;
  /** 11.1+ top-level "Remaining:" line; a separate figure from the RAM group's remain=, so kept apart */
  remainingBytes?: number;
  /** "vfio device transferred:" (8.x-10.0) / Channels "vfio=" (10.1+) */
  vfioBytes?: number;
  /** "Zero-copy-send fallbacks happened: N times" / Others "zerocopy_fallbacks=" */
  zeroCopyFallbacks?: number;
  /** old "capabilities: xbzrle: off ..." line (removed in 4.2) */
  capabilities?: Record<string, boolean>;
  /** "globals:" block (2.10-10.0 always, 10.1+ only with `info migrate -a`) */
  globals?: Record<string, string>;
  /** "Outgoing migration blocked:" reasons */
  blocked?: string[];
  /** lines the parser did not understand, kept verbatim (never throw on input) */
  unknown: string[];
}

type NumericField = {
  [K in keyof MigrationInfo]-?: NonNullable<MigrationInfo[K]> extends number ? K : never;
}[keyof MigrationInfo];

/** What a value measures decides which units are acceptable for it. */
type Kind = 'ms' | 'bytes' | 'count' | 'mbps';

// Old layout: key -> field. The unit printed after the number is checked against the
// kind so that a reworded unit lands in `unknown` instead of being silently misread.
const LINE_FIELDS: Record<string, [NumericField, Kind]> = {
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

// Grouped layout (10.1+): label -> { subkey -> field }. The "(KiB)" labels and the
// *_rate keys are from the v1 of the patch that introduced the layout (bare numbers in
// KiB); accepting them costs nothing and covers distro backports of that version.
const GROUP_FIELDS: Record<string, Record<string, [NumericField, Kind]>> = {
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

const NUMBER = String.raw`[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?`;
const VALUE_RE = new RegExp(`^(${NUMBER})(?:\\s*([A-Za-z/]+))?$`);

const BINARY_PREFIX: Record<string, number> = { '': 0, k: 1, m: 2, g: 3, t: 4, p: 5, e: 6 };

/**
 * Multiplier turning a number printed with `unit` into the kind's base unit, or undefined
 * if that unit does not measure this kind. `defaultFactor` is what a bare byte count means.
 */
function unitFactor(kind: Kind, unit: string, defaultFactor: number): number | undefined {
  const u = unit.toLowerCase();
  switch (kind) {
    case 'ms':
      if (u === '' || u === 'ms' || u === 'milliseconds') return 1;
      if (u === 's' || u === 'sec' || u === 'seconds') return 1000;
      if (u === 'us') return 1e-3;
      return undefined;
    case 'mbps':
      return u === '' || u === 'mbps' ? 1 : undefined;
    case 'count':
      return u === '' || u === 'pages' || u === 'times' ? 1 : undefined;
    case 'bytes': {
      if (u === '') return defaultFactor;
      if (u === 'kbytes') return 1024;
      if (u === 'b' || u === 'bytes') return 1;
      // QEMU's size_to_str() prints "B", "KiB", "MiB", ... (binary); treat the SI-looking
      // spellings as binary too since QEMU never meant decimal in this output.
      const m = /^([kmgtpe])(?:i?b)?$/.exec(u);
      const exp = m ? BINARY_PREFIX[m[1] ?? ''] : undefined;
      return exp === undefined ? undefined : 1024 ** exp;
    }
  }
}

function parseValue(raw: string, kind: Kind, defaultFactor = 1): number | undefined {
  const m = VALUE_RE.exec(raw.trim());
  if (!m || m[1] === undefined) return undefined;
  const factor = unitFactor(kind, m[2] ?? '', defaultFactor);
  if (factor === undefined) return undefined;
  const n = Number(m[1]) * factor;
  // Every figure of `info migrate` is a size, a time, a count or a rate: none is negative, and a
  // value that overflows a double is no measurement. Either goes to `unknown`, never into a median.
  if (!Number.isFinite(n) || n < 0) return undefined;
  // Human sizes like "4.02 GiB" are not whole bytes; a fractional byte would only mislead.
  return kind === 'bytes' ? Math.round(n) : n;
}

// CSI sequences (ESC [ ... final) and two-byte escapes: the readline echo is full of
// ESC[K / ESC[D, and a caller may hand us a transcript that was not fully cleaned.
const ANSI_RE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]/g;

function cleanLines(text: string): string[] {
  const lines = String(text ?? '')
    .replace(ANSI_RE, '')
    .split('\n')
    .map((l) => l.replace(/\r/g, ''));
  const out: string[] = [];
  let sawContent = false;
  for (const line of lines) {
    const t = line.trim();
    if (t === '') continue;
    // Prompt, or prompt followed by the echoed command: never part of the reply.
    if (t.startsWith('(qemu)')) continue;
    // The greeting a fresh monitor connection prints before the first prompt.
    if (/^QEMU .*monitor - type 'help' for more information$/.test(t)) continue;
    // A bare echo of the command; only as the first line, so a reply line can never be eaten.
    if (!sawContent && /^info\s+(?:migrate|status)\b/.test(t)) {
      sawContent = true;
      continue;
    }
    sawContent = true;
    out.push(line);
  }
  return out;
}

/**
 * "xbzrle: off rdma-pin-all: off ..." (also "name:on") -> { xbzrle: false, ... }, or undefined
 * when anything else is on the line. Token by token: linear in the line's length.
 */
function parseCapabilityList(value: string): Record<string, boolean> | undefined {
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

/** "failed (reason)" -> ["failed", "reason"]; the reason may itself contain parentheses. */
function splitStatus(value: string): { status: string; reason?: string } | undefined {
  const m = /^(\S+)(?:\s+\((.*)\))?$/.exec(value.trim());
  if (!m || m[1] === undefined) return undefined;
  return m[2] === undefined ? { status: m[1] } : { status: m[1], reason: m[2] };
}

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

export function parseInfoMigrate(text: string): MigrationInfo {
  const info: MigrationInfo = { unknown: [] };
  // Some lines are only meaningful inside the block their header opened.
  let mode: 'none' | 'globals' | 'blocked' = 'none';

  let lines: string[];
  try {
    lines = cleanLines(text);
  } catch {
    return info;
  }

  for (const line of lines) {
    try {
      if (!parseLine(line)) info.unknown.push(line);
    } catch {
      info.unknown.push(line);
    }
  }
  return info;

  /** Returns false when the line was not understood. */
  function parseLine(line: string): boolean {
    const indented = /^\s/.test(line);
    const t = line.trim();

    if (mode === 'blocked') {
      if (indented) {
        (info.blocked ??= []).push(t);
        return true;
      }
      mode = 'none';
    }

    const colon = t.indexOf(':');
    const key = colon >= 0 ? t.slice(0, colon).trim().toLowerCase() : t.toLowerCase();
    const value = colon >= 0 ? t.slice(colon + 1).trim() : '';

    if (mode === 'globals') {
      // Globals are "name: value" with a QOM-style property name; a known field key
      // (e.g. "pages-per-second" looks like one) means the block is over.
      if (colon > 0 && /^[a-z][a-z0-9-]*$/.test(key) && !STRUCTURAL_KEYS.has(key) && value !== '') {
        (info.globals ??= {})[t.slice(0, colon).trim()] = value;
        return true;
      }
      mode = 'none';
    }

    if (colon < 0) return false;

    switch (key) {
      case 'globals':
        if (value !== '') return false;
        mode = 'globals';
        info.globals ??= {};
        return true;
      case 'outgoing migration blocked':
        if (value !== '') return false;
        mode = 'blocked';
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

    const lineField = LINE_FIELDS[key];
    if (lineField) {
      const n = parseValue(value, lineField[1]);
      if (n === undefined) return false;
      info[lineField[0]] = n;
      return true;
    }

    // "Sizes (KiB)" in the first version of the grouped layout: bare numbers in KiB.
    const kib = key.endsWith('(kib)');
    const groupKey = kib ? key.slice(0, -'(kib)'.length).trimEnd() : key;
    const group = GROUP_FIELDS[groupKey];
    if (group) {
      const pairs = splitPairs(value);
      if (!pairs) return false;
      let understoodAll = true;
      for (const [sub, raw] of pairs) {
        const f = group[sub];
        const n = f ? parseValue(raw, f[1], kib ? 1024 : 1) : undefined;
        if (f && n !== undefined) info[f[0]] = n;
        else understoodAll = false;
      }
      // Partly understood: keep what was read, and the line too so the gap is visible.
      return understoodAll;
    }

    return false;
  }
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
