// Output files and directories (--out, --html, --svg), made and checked without Node's
// recursive mkdir: on procfs and similar file systems it can loop forever at 100 % CPU in the
// thread pool, where no signal reaches it. Each function here takes a bounded number of steps
// and throws an OutputPathError with the errno code.

import { closeSync, mkdirSync, openSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';

export class OutputPathError extends Error {
  override name = 'OutputPathError';
  constructor(
    readonly target: string,
    readonly code: string,
  ) {
    super(`${target}: ${code}`);
  }
}

function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/** `mkdir -p`, one component at a time: at most as many steps as the path has parts. */
export function makeDirs(dir: string): void {
  const abs = path.resolve(dir);
  const parts = abs.split(path.sep).filter(Boolean);
  let cur = path.parse(abs).root;
  for (const part of parts) {
    cur = path.join(cur, part);
    try {
      if (statSync(cur).isDirectory()) continue;
      throw new OutputPathError(cur, 'ENOTDIR');
    } catch (err) {
      if (err instanceof OutputPathError) throw err;
      if (codeOf(err) !== 'ENOENT') throw new OutputPathError(cur, codeOf(err));
    }
    try {
      mkdirSync(cur);
    } catch (err) {
      if (codeOf(err) !== 'EEXIST') throw new OutputPathError(cur, codeOf(err));
    }
  }
}

/**
 * Makes sure `file` can be written: its directory exists (made if need be) and the file opens
 * for appending. A file that did not exist before is removed again, so a check leaves nothing.
 */
export function assertWritableFile(file: string): void {
  makeDirs(path.dirname(path.resolve(file)));
  let existed = true;
  try {
    statSync(file);
  } catch {
    existed = false;
  }
  try {
    closeSync(openSync(file, 'a'));
  } catch (err) {
    throw new OutputPathError(file, codeOf(err));
  }
  if (!existed) unlinkSync(file);
}

/** Makes sure files can be created in `dir` (made if need be). */
export function assertWritableDir(dir: string): void {
  makeDirs(dir);
  assertWritableFile(path.join(dir, `.migdown-write-check-${process.pid}`));
}
