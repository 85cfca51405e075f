// How to turn the bytes QEMU's HMP monitor sends into command output, as a person at
// `-monitor stdio` would read it. Pure functions, tested against raw bytes from real QEMU.
//
// What the monitor sends for one command line: the readline echo of every typed character
// (each redraw is the line so far followed by ESC[K and a run of ESC[D), a CR LF once the
// line is accepted, the command's output with CR LF line ends, then the next "(qemu) " prompt.

export const PROMPT = '(qemu) ';

// CSI sequences (ESC [ params letter) and the two-byte ESC sequences readline may emit.
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** True once `raw` (everything received since the command was sent) holds a whole reply. */
export function replyComplete(raw: string): boolean {
  // The echo never contains CR LF, so the prompt after the first CR LF ends the reply.
  const eol = raw.indexOf('\r\n');
  return eol >= 0 && raw.endsWith(PROMPT);
}

/**
 * The command's output from a complete reply: echo and prompt removed, escape sequences
 * stripped, LF line ends, no trailing newline.
 */
export function extractReply(raw: string): string {
  let body = raw;
  const eol = body.indexOf('\r\n');
  body = eol >= 0 ? body.slice(eol + 2) : '';
  if (body.endsWith(PROMPT)) body = body.slice(0, -PROMPT.length);
  return stripAnsi(body).replace(/\r\n/g, '\n').replace(/\r/g, '').replace(/\n+$/, '');
}

/** The greeting ("QEMU 7.2.22 monitor - type 'help' ...") ends with the first prompt. */
export function greetingComplete(raw: string): boolean {
  return raw.endsWith(PROMPT);
}

export type HmpReplyKind =
  | { kind: 'ok'; output: string }
  | { kind: 'error'; message: string; output: string }
  | { kind: 'unknown-command'; command: string; output: string };

/**
 * Classify a reply. HMP has no status: failures are recognised by QEMU's own wording,
 * `Error: ...` (error_report through hmp_handle_error) and `unknown command: 'x'`.
 */
export function classifyReply(output: string): HmpReplyKind {
  // [^'\n]: the name ends on its line; scanning on to the end from every such line is quadratic.
  const unknown = /^unknown command: '([^'\n]*)'/m.exec(output);
  if (unknown) return { kind: 'unknown-command', command: unknown[1]!, output };
  const error = /^Error: (.*)$/m.exec(output);
  if (error) {
    // Keep continuation lines (QEMU's hints) with the message: they are part of its words.
    const rest = output.slice(error.index + 'Error: '.length).trim();
    return { kind: 'error', message: rest, output };
  }
  return { kind: 'ok', output };
}
