// Untrusted text (a results file, a scenario, a reply) shown in a one-line message: every
// byte outside printable ASCII is written as an escape, so a terminal never interprets an
// escape sequence, a DEL or a carriage return that came from someone else's file.

/** One character as an escape: \xHH below U+0100, \u{H} above. */
export function escapeChar(ch: string): string {
  const c = ch.codePointAt(0)!;
  return c < 0x100 ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u{${c.toString(16)}}`;
}

/** `text` with control characters, DEL and non-ASCII shown as \xHH / \u{H}; cut at `max`. */
export function visible(text: string, max = 200): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    out += c >= 0x20 && c < 0x7f ? ch : escapeChar(ch);
    if (out.length > max) return `${out.slice(0, max)}...`;
  }
  return out;
}
