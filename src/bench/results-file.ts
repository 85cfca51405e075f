// The JSONL results file: a header line, then one line per trial, each written (and flushed
// to the kernel) the moment the trial ends, so an interrupted run loses nothing it measured.

import { appendFileSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { ResultLine, RunHeader, TrialRecord } from './types.js';

/**
 * The results format, written as `schemaVersion` in every header. It changes only when a field
 * is removed, renamed or changes meaning; new fields may appear without it (readers ignore what
 * they do not know). Files without it are migdown 0.1's, which is version 1 without the field.
 */
export const RESULTS_SCHEMA_VERSION = 1;

export function defaultResultsPath(now = new Date()): string {
  const stamp = now.toISOString().replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z');
  return path.join('migdown-results', `${stamp}.jsonl`);
}

export class ResultsWriter {
  constructor(readonly file: string) {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  }

  append(line: ResultLine): void {
    // Synchronous on purpose: a signal arriving right after must not find it half written.
    appendFileSync(this.file, `${JSON.stringify(line)}\n`);
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
