// The JSONL results file: a header line, then one line per trial, each written (and flushed
// to the kernel) the moment the trial ends, so an interrupted run loses nothing it measured.

import { appendFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { assertWritableFile, type OutputPathError } from '../util/output-path.js';
import type { ResultLine, RunHeader, TrialRecord } from './types.js';

export function defaultResultsPath(now = new Date()): string {
  const stamp = now.toISOString().replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z');
  return path.join('migdown-results', `${stamp}.jsonl`);
}

export class ResultsWriter {
  /** why the file could not be written, once a write failed; nothing more is written after that */
  failure?: string;

  /** Checks up front that the file can be written: a UsageError (exit 2) before anything runs. */
  constructor(readonly file: string) {
    try {
      assertWritableFile(file);
    } catch (err) {
      throw new UsageError(`--out ${file}: cannot write ${(err as OutputPathError).message}`);
    }
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
      appendFileSync(this.file, `${JSON.stringify(line)}\n`);
      return true;
    } catch (err) {
      this.failure = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      return false;
    }
  }
}

export interface ResultsContent {
  headers: RunHeader[];
  trials: TrialRecord[];
  /** lines that could not be read (e.g. cut short by a crash), 1-based */
  skippedLines: number[];
}

export function parseResults(text: string): ResultsContent {
  const content: ResultsContent = { headers: [], trials: [], skippedLines: [] };
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const obj = JSON.parse(line) as ResultLine;
      if (obj.kind === 'header') content.headers.push(obj);
      else if (obj.kind === 'trial') content.trials.push(obj);
      else content.skippedLines.push(i + 1);
    } catch {
      content.skippedLines.push(i + 1);
    }
  });
  return content;
}

export async function readResults(file: string): Promise<ResultsContent> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read results file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const content = parseResults(text);
  if (content.headers.length === 0 && content.trials.length === 0) {
    throw new UsageError(`${file} holds no migdown results`);
  }
  return content;
}
