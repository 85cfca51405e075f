// What may go to an HMP monitor. QEMU's monitor reads its input through a line editor: DEL,
// backspace, ^U, escape sequences and the like EDIT the line, so a parameter value such as
// "4" + 40 DELs + "migrate -d exec:..." becomes a different command. Every string from a
// scenario, a flag or a results file is checked against a strict pattern for its kind before
// any VM starts; the HMP client refuses any line with a byte outside printable ASCII as the
// last line of defence.

import { visible } from '../util/visible.js';

/** migration capability and parameter names, as QEMU spells them */
export const HMP_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
/**
 * parameter values: numbers, sizes (1.5G), enum words (zstd), object ids. No white space (it
 * separates HMP arguments), no quotes or backslash (HMP's string syntax), no control bytes.
 */
export const HMP_VALUE = /^[A-Za-z0-9._:,+=@/%-]{1,256}$/;
const VALUE_CHARS = 'letters, digits and . _ : , + = @ / % -';

/** Why `name` is not a capability/parameter name, or undefined when it is fine. */
export function hmpNameProblem(name: string): string | undefined {
  if (HMP_NAME.test(name)) return undefined;
  return `"${visible(name, 80)}" is not a migration parameter or capability name (lowercase letters, digits and dashes)`;
}

/** Why `value` cannot be sent as an HMP argument, or undefined when it is fine. */
export function hmpValueProblem(value: string): string | undefined {
  if (HMP_VALUE.test(value)) return undefined;
  if (value.length === 0) return 'the value is empty';
  if (value.length > 256) return `the value is ${value.length} characters long (at most 256)`;
  const bad = [...value].find((ch) => !/[A-Za-z0-9._:,+=@/%-]/.test(ch))!;
  return `the value "${visible(value, 80)}" contains ${bad === ' ' ? 'a space' : `"${visible(bad)}"`}, which the monitor would not take literally (allowed: ${VALUE_CHARS})`;
}

/** A whole command line is safe to type into the monitor: printable ASCII, one line. */
export function hmpLineProblem(line: string): string | undefined {
  if (/^[\x20-\x7e]*$/.test(line)) return undefined;
  return `refusing to send a monitor command with control or non-ASCII bytes: "${visible(line, 120)}"`;
}
