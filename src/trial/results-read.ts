// Reading a results file: every line checked against the record schemas, so what a shared
// file holds is either a valid record, an unreadable line (reported), or one clear error.

import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { describeRecordProblem, READABLE_SCHEMA_VERSIONS, ReadableHeaderSchema, TrialRecordSchema } from './record-schema.js';
import { RESULTS_SCHEMA_VERSION } from './results-version.js';
import type { RunHeader, TrialRecord } from './types.js';

export interface ResultsContent {
  headers: RunHeader[];
  trials: TrialRecord[];
  /** lines that could not be read (e.g. cut short by a crash), 1-based */
  skippedLines: number[];
  /** the last line has no newline: a writer was killed in the middle of it */
  cutLastLine: boolean;
  /** the first line that is JSON of a known kind but not a valid record, with why */
  invalid?: { line: number; problem: string };
}

export function parseResults(text: string): ResultsContent {
  const content: ResultsContent = { headers: [], trials: [], skippedLines: [], cutLastLine: text.length > 0 && !text.endsWith('\n') };
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      content.skippedLines.push(i + 1);
      return;
    }
    const kind = (obj as { kind?: unknown } | null)?.kind;
    const schema = kind === 'header' ? ReadableHeaderSchema : kind === 'trial' ? TrialRecordSchema : undefined;
    if (!schema) {
      content.skippedLines.push(i + 1);
      return;
    }
    const checked = schema.safeParse(obj);
    if (!checked.success) {
      content.invalid ??= { line: i + 1, problem: describeRecordProblem(checked.error) };
      return;
    }
    if (kind === 'header') content.headers.push(checked.data as unknown as RunHeader);
    else content.trials.push(checked.data as unknown as TrialRecord);
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
  if (content.invalid) throw new UsageError(`${file} line ${content.invalid.line}: not a migdown record: ${content.invalid.problem}`);
  const unknownVersion = content.headers.find((h) => !READABLE_SCHEMA_VERSIONS.includes(h.schemaVersion));
  if (unknownVersion) {
    throw new UsageError(
      `${file} is in results format version ${unknownVersion.schemaVersion} (written by migdown ${unknownVersion.migdownVersion}); this migdown reads version ${RESULTS_SCHEMA_VERSION} and the 0.1 format`,
    );
  }
  if (content.headers.length === 0 && content.trials.length === 0) {
    throw new UsageError(`${file} holds no migdown results`);
  }
  return content;
}
