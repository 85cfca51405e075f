// What every command gets from the boundary: where to write, whether to colour, and the
// signal that tells it a SIGINT/SIGTERM arrived.

import type { ChalkInstance } from 'chalk';

export interface CommandContext {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  chalk: ChalkInstance;
  /** chalk for stderr, which may be a terminal when stdout is not */
  chalkErr: ChalkInstance;
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
}

/** A command's result: the exit code the boundary should use. */
export type CommandResult = number;
