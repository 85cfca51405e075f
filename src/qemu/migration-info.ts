// The typed `info migrate` record (what info-migrate.ts parses both layouts into), and the
// kinds of value its numeric fields hold.

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

export type NumericField = {
  [K in keyof MigrationInfo]-?: NonNullable<MigrationInfo[K]> extends number ? K : never;
}[keyof MigrationInfo];

/** What a value measures decides which units are acceptable for it. */
export type Kind = 'ms' | 'bytes' | 'count' | 'mbps';

