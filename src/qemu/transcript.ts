// Saved monitor logs, as users have them: a terminal session of `-monitor stdio`, a socat
// capture with readline echo, or just the lines `info migrate` printed.

import { PROMPT, stripAnsi } from './hmp-framing.js';

export interface TranscriptCommand {
  command: string;
  output: string;
}

/**
 * Split a transcript into the commands typed at `(qemu) ` prompts and their outputs.
 * Readline redraws the line after every key (the line so far, ESC[K, then ESC[D back), so
 * the command as typed is the last non-empty run of text between escape sequences.
 */
export function splitTranscript(text: string): TranscriptCommand[] {
  const parts = text.split(PROMPT);
  const out: TranscriptCommand[] = [];
  for (const part of parts.slice(1)) {
    const lines = part.split(/\r?\n/);
    const echo = lines[0] ?? '';
    const runs = echo.split(/\x1b\[[0-9;]*[A-Za-z]/).map((r) => r.replace(/\r/g, '').trim()).filter(Boolean);
    const typed = runs.at(-1) ?? '';
    const output = stripAnsi(lines.slice(1).join('\n')).replace(/\r/g, '').replace(/\n+$/, '');
    out.push({ command: typed, output });
  }
  return out;
}

/**
 * The `info migrate` output to parse from a transcript: the last one typed at a prompt, or
 * the whole text when it holds no prompts (just the printed lines).
 */
export function infoMigrateFromTranscript(text: string): string {
  if (!text.includes(PROMPT)) return stripAnsi(text).replace(/\r/g, '');
  const commands = splitTranscript(text).filter((c) => /^info\s+migrate(\s|$)/.test(c.command));
  return commands.at(-1)?.output ?? '';
}
