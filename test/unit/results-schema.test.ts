// The results format CI relies on: the committed JSON Schema is the one the zod definitions
// generate, recorded files pass it, and records that break it are caught.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RESULTS_SCHEMA_VERSION } from '../../src/trial/results-file.js';
import { ReadableResultLineSchema, ResultLineSchema } from '../../src/trial/record-schema.js';
import { RESULTS_SCHEMA_FILE, resultsJsonSchema } from '../../src/trial/write-results-schema.js';
import { resultsSchemaErrors } from '../results-validator.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/results', import.meta.url));
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');

describe('results schema', () => {
  it('the committed JSON Schema is the one the code generates (npm run schema)', () => {
    expect(readFileSync(RESULTS_SCHEMA_FILE, 'utf8')).toBe(resultsJsonSchema());
  });

  it.each(readdirSync(FIXTURES).filter((f) => f.endsWith('.jsonl')))('fixture %s passes the JSON Schema and zod', (name) => {
    const text = fixture(name);
    expect(resultsSchemaErrors(text)).toEqual([]);
    for (const line of text.split('\n').filter((l) => l.trim())) expect(ResultLineSchema.safeParse(JSON.parse(line)).success).toBe(true);
  });

  it('a vCPU sweep records smp as its list, and the schema takes it (it once required a number)', () => {
    const header = JSON.parse(fixture('sweep-dirty-rate.jsonl').split('\n')[0]!) as Record<string, any>;
    const swept = JSON.stringify({ ...header, config: { ...header['config'], smp: '1,2' } });
    expect(resultsSchemaErrors(swept)).toEqual([]);
    expect(ResultLineSchema.safeParse(JSON.parse(swept)).success).toBe(true);
  });

  it('every header carries schemaVersion', () => {
    const header = JSON.parse(fixture('compare-small.jsonl').split('\n')[0]!) as Record<string, unknown>;
    expect(header['schemaVersion']).toBe(RESULTS_SCHEMA_VERSION);
    const { schemaVersion: _v, ...old } = header;
    expect(resultsSchemaErrors(JSON.stringify(old))).toEqual([expect.stringMatching(/^line 1: .*schemaVersion/)]);
    // a reader still takes a 0.1 file, and no other version
    expect(ReadableResultLineSchema.safeParse(old).success).toBe(true);
    expect(ReadableResultLineSchema.safeParse({ ...header, schemaVersion: 2 }).success).toBe(false);
  });

  it('rejects a record with a wrong type or a missing field, and accepts unknown fields', () => {
    const trial = JSON.parse(fixture('compare-small.jsonl').split('\n')[1]!) as Record<string, any>;
    expect(resultsSchemaErrors(JSON.stringify({ ...trial, info: { ...trial['info'], downtimeMs: '4 ms' } }))).toEqual([
      expect.stringContaining('/info/downtimeMs must be number'),
    ]);
    const { status: _s, ...noStatus } = trial;
    expect(resultsSchemaErrors(JSON.stringify(noStatus))[0]).toMatch(/status/);
    expect(resultsSchemaErrors(JSON.stringify({ ...trial, addedLater: { x: 1 } }))).toEqual([]);
    expect(resultsSchemaErrors(JSON.stringify({ kind: 'summary' }))).toHaveLength(1);
  });
});
