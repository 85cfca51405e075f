// Patterns the user types that run against text QEMU or a guest prints (--ready-pattern). A
// backtracking engine can take exponential time on one bad pattern, e.g. /(a+)+$/, and would
// block the event loop (no signal handled, no QEMU stopped). V8 ships a linear-time engine for
// the `l` flag: every pattern it accepts matches in time linear in the text; one it cannot run
// that way (back-references, look-arounds) is refused before any VM starts.

import v8 from 'node:v8';

let enabled = false;

/** Compiles `pattern` for linear-time matching, or throws with V8's reason. */
export function compileLinearRegex(pattern: string, flags = ''): RegExp {
  if (!enabled) {
    // Read by V8 when a RegExp with the `l` flag is compiled; it changes nothing else.
    v8.setFlagsFromString('--enable-experimental-regexp-engine');
    enabled = true;
  }
  try {
    return new RegExp(pattern, `${flags}l`);
  } catch (err) {
    const prefix = `Invalid regular expression: /${pattern}/${flags}l: `;
    const message = (err as Error).message;
    const reason = message.startsWith(prefix) ? message.slice(prefix.length) : message;
    if (/linear time/i.test(reason)) {
      throw new Error('cannot be matched in linear time: back-references and look-arounds are not supported');
    }
    throw new Error(reason);
  }
}
