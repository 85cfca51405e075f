// The JSONL results file: a header line, then one line per trial, each written (and flushed
// to the kernel) the moment the trial ends, so an interrupted run loses nothing it measured.

import { appendFileSync, closeSync, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { assertWritableFile, type OutputPathError } from '../util/output-path.js';
import type { ResultLine, RunHeader } from './types.js';

export { RESULTS_SCHEMA_VERSION } from './results-version.js';

export function defaultResultsPath(now = new Date()): string {
  const stamp = now.toISOString().replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z');
  return path.join('migdown-results', `${stamp}.jsonl`);
}

/** Does a non-empty file end without a newline? Reads its last byte only. */
function endsMidLine(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export class ResultsWriter {
  /** why the file could not be written, once a write failed; nothing more is written after that */
  failure?: string;
  /** the file ends in a cut line (a killed writer): the next record must start on a line of its own */
  private startsMidLine = false;

  /** Checks up front that the file can be written: a UsageError (exit 2) before anything runs. */
  constructor(readonly file: string) {
    try {
      assertWritableFile(file);
    } catch (err) {
      throw new UsageError(`--out ${file}: cannot write ${(err as OutputPathError).message}`);
    }
    this.startsMidLine = endsMidLine(file);
  }

  /** The header, before any VM starts: a failure here means nothing was measured (exit 2). */
  start(header: RunHeader): void {
    if (!this.append(header)) throw new UsageError(`--out ${this.file}: cannot write: ${this.failure}`);
  }

  /**
   * Appends one line. A failure (ENOSPC, EIO) does not throw: the caller keeps the record in
   * memory and reports it; returns false then and for every later call.
   */
  append(line: ResultLine): boolean {
    if (this.failure) return false;
    try {
      // Synchronous on purpose: a signal arriving right after must not find it half written.
      appendFileSync(this.file, `${this.startsMidLine ? '\n' : ''}${JSON.stringify(line)}\n`);
      this.startsMidLine = false;
      return true;
    } catch (err) {
      this.failure = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      return false;
    }
  }
}

export type { ResultsContent } from './results-read.js';

/** Reads and checks a results file; the checker (zod) loads only for commands that read one. */
export async function readResults(file: string): Promise<import('./results-read.js').ResultsContent> {
  return (await import('./results-read.js')).readResults(file);
}
