// The pieces every layout of `info migrate` shares: a number with its unit, read as the kind
// of value its field measures, and the reply's lines without prompt, echo and escapes.

import type { Kind } from './migration-info.js';

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

export function parseValue(raw: string, kind: Kind, defaultFactor = 1): number | undefined {
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

export function cleanLines(text: string): string[] {
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

