// Results files travel between people, so everything rendered from one is someone else's
// text. One module decides how such text may appear:
//   - on a terminal (table, mail, markdown, csv, json on stdout): no control characters, so a
//     label or a reason cannot move the cursor, retitle the window, clear the screen or hide
//     text (C0, DEL, C1 incl. the 8-bit CSI, and the bidirectional overrides of "Trojan
//     source" are shown as \xHH / \u{H} escapes; other Unicode, such as "µs", is kept);
//   - in a spreadsheet (csv): a text cell starting with = + - @ TAB or CR is a formula to
//     Excel/LibreOffice, so it gets a leading ' (OWASP's advice). Numbers stay numbers:
//     numeric cells, and text cells that are plain decimal numbers ("-3.5"), are unchanged,
//     so a negative change still reads as a number;
//   - as a file name (--svg): letters, digits, dot, dash and underscore only, never starting
//     with a dot, so no name from a file can leave the directory it is written into.

import { escapeChar } from '../util/visible.js';

const UNSAFE_TERMINAL = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/** `text` with every control character shown as an escape: safe to print on a terminal. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE_TERMINAL, escapeChar);
}

/** A copy of `value` with terminalSafe applied to every string in it (object keys included). */
export function terminalSafeDeep<T>(value: T): T {
  if (typeof value === 'string') return terminalSafe(value) as T;
  if (Array.isArray(value)) return value.map((v) => terminalSafeDeep(v)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [terminalSafe(k), terminalSafeDeep(v)])) as T;
  }
  return value;
}

/**
 * JSON text for a terminal: JSON.stringify escapes C0 but leaves DEL, C1 and the bidi
 * controls raw; escaped as \uXXXX it is the same JSON.
 */
export function jsonTerminalSafe(json: string): string {
  return json.replace(/[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const PLAIN_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A text cell a spreadsheet will not evaluate: formula starters get a leading '. */
export function spreadsheetSafe(text: string): string {
  if (PLAIN_NUMBER.test(text)) return text;
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** A file name from untrusted parts: [A-Za-z0-9._-], no leading dot, at most 120 characters. */
export function safeFileName(name: string): string {
  const s = name
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 120);
  return s === '' ? 'unnamed' : s;
}
