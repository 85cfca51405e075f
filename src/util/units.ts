// Parsers for the quantities users type: RAM in QEMU's -m syntax, bandwidth, downtime.
// Each returns a number or throws UsageError with a sentence naming the bad value.

import { UsageError } from '../errors.js';

const BINARY_SUFFIX: Record<string, number> = {
  '': 1,
  B: 1,
  K: 1024,
  M: 1024 ** 2,
  G: 1024 ** 3,
  T: 1024 ** 4,
};

function splitNumberSuffix(text: string): { value: number; suffix: string } | undefined {
  // Trimmed first: two \s* around an optional unit would backtrack quadratically on long blanks.
  const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z/]*)$/.exec(text.trim());
  if (!m) return undefined;
  return { value: Number(m[1]), suffix: m[2]!.toUpperCase() };
}

/**
 * RAM as QEMU's `-m` reads it: a bare number is MiB, suffixes K/M/G/T are binary
 * (`8G`, `8192M`, `512`, also `8GiB`/`8GB` as people write them). Returns bytes.
 */
export function parseRamSize(text: string, option = '--ram'): number {
  const p = splitNumberSuffix(text);
  // A unit letter, optionally followed by B or iB: "17iB" has no unit letter and is not a size.
  const unit = p && /^(?:([KMGT])(?:IB|B)?)?$/.exec(p.suffix);
  if (!p || !unit) {
    throw new UsageError(`${option}: cannot read "${text}" as a memory size (examples: 8G, 8192M, 512)`);
  }
  const suffix = unit[1] ?? '';
  const bytes = suffix === '' ? p.value * 1024 ** 2 : p.value * BINARY_SUFFIX[suffix]!;
  if (!Number.isFinite(bytes) || bytes > Number.MAX_SAFE_INTEGER) {
    throw new UsageError(`${option}: "${text}" is larger than any machine's memory`);
  }
  if (bytes < 16 * 1024 ** 2) {
    throw new UsageError(`${option}: "${text}" is too small; a VM needs at least 16M`);
  }
  return Math.round(bytes / (1024 ** 2)) * 1024 ** 2;
}

/**
 * Migration bandwidth in bytes per second. A bare number is bytes (unlike the old
 * `migrate_set_speed`, whose bare number meant MB: we always send an explicit unit, so the
 * same value means the same thing on every QEMU). `0` means unlimited, as in QEMU.
 */
export function parseSpeed(text: string, option = '--speed'): number {
  const p = splitNumberSuffix(text);
  const suffix = p?.suffix.replace(/(I?B)(\/S)?$/, '').replace(/\/S$/, '') ?? '';
  if (!p || !(suffix in BINARY_SUFFIX)) {
    throw new UsageError(`${option}: cannot read "${text}" as bytes per second (examples: 0 for unlimited, 100M, 1G)`);
  }
  const bytes = Math.round(p.value * BINARY_SUFFIX[suffix]!);
  // QEMU keeps max-bandwidth in a uint64_t; past 2^53 a double no longer holds whole bytes.
  if (!Number.isFinite(bytes) || bytes > Number.MAX_SAFE_INTEGER) {
    throw new UsageError(`${option}: "${text}" is too large (QEMU keeps the limit in 64 bits; migdown passes at most 2^53 - 1 bytes/s exactly); use 0 for unlimited`);
  }
  return bytes;
}

/**
 * Allowed downtime. A bare number is seconds, as `migrate_set_downtime` takes it (`0.01`);
 * `10ms` and `0.3s` are accepted too. Returns milliseconds.
 */
/** QEMU refuses a downtime limit above 2000 s (MAX_MIGRATE_DOWNTIME_SECONDS). */
export const MAX_DOWNTIME_MS = 2_000_000;

/** Node's timers hold a signed 32-bit ms count; a longer delay silently becomes 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export function parseDowntime(text: string, option = '--downtime'): number {
  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s)?$/i.exec(text.trim());
  if (!m) {
    throw new UsageError(`${option}: cannot read "${text}" (seconds as in migrate_set_downtime, e.g. 0.01, or 10ms)`);
  }
  const value = Number(m[1]);
  const ms = m[2]?.toLowerCase() === 'ms' ? value : value * 1000;
  if (ms < 1) throw new UsageError(`${option}: "${text}" is below 1 ms, which QEMU cannot express`);
  if (ms > MAX_DOWNTIME_MS) throw new UsageError(`${option}: "${text}" is above 2000 s, the largest downtime limit QEMU accepts`);
  return Math.round(ms);
}

export function parsePositiveInt(option: string, text: string, { min = 1, max = 1_000_000 } = {}): number {
  if (!/^\s*\d+\s*$/.test(text)) throw new UsageError(`${option}: "${text}" is not a whole number`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${option}: ${n} is out of range (${min} to ${max})`);
  return n;
}

/** A plain decimal number of 0 or more (no sign, no exponent, no unit). */
export function parseNonNegative(option: string, text: string): number {
  const v = Number(text);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(text) || !Number.isFinite(v)) {
    throw new UsageError(`${option}: "${text}" is not a non-negative number`);
  }
  return v;
}

export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}
