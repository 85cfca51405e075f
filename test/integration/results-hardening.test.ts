// Results files travel between people: a line with a wrong type, a format version this migdown
// does not know, a compare recorded before today's workload options existed, and a last line
// cut short by a killed writer are each handled before anything runs.

import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseResults } from '../../src/trial/results-read.js';
import { migdown, newTag, qemuPids, tagArgs, tmpDir } from './helpers.js';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'results');
// As migdown 0.1 wrote it: the fixture without the schemaVersion later versions add.
const BREAKDOWN = readFileSync(path.join(FIXTURES, 'compare-breakdown.jsonl'), 'utf8').replace('"schemaVersion":1,', '');
const SMALL = readFileSync(path.join(FIXTURES, 'compare-small.jsonl'), 'utf8');

function fileWith(text: string): string {
  const file = path.join(tmpDir(), 'r.jsonl');
  writeFileSync(file, text);
  return file;
}

function editLine(text: string, index: number, edit: (o: Record<string, unknown>) => void): string {
  const lines = text.split('\n');
  const obj = JSON.parse(lines[index]!) as Record<string, unknown>;
  edit(obj);
  lines[index] = JSON.stringify(obj);
  return lines.join('\n');
}

describe('reading a results file', () => {
  it.each([
    ['"reason": 5', (o: Record<string, unknown>) => (o.reason = 5), /line 2: not a migdown record: reason: /],
    ['"status": "won"', (o: Record<string, unknown>) => (o.status = 'won'), /line 2: not a migdown record: status: /],
    ['"info": {"downtimeMs": "fast"}', (o: Record<string, unknown>) => (o.info = { downtimeMs: 'fast', unknown: [] }), /line 2: not a migdown record: info\.downtimeMs: /],
    ['"monitor": 3', (o: Record<string, unknown>) => (o.monitor = 3), /line 2: not a migdown record: monitor: /],
  ])('a trial with %s: one line, exit 2, no TypeError', async (_, edit, message) => {
    const file = fileWith(editLine(BREAKDOWN, 1, edit));
    for (const args of [['report', file], ['report', file, '--format', 'mail'], ['compare', '--resume', file]]) {
      const r = await migdown(args);
      expect(r.exitCode, r.all).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/TypeError|internal error/);
    }
  });

  it('a header of another results format version is refused by report and resume', async () => {
    const file = fileWith(editLine(BREAKDOWN, 0, (o) => (o.schemaVersion = 2)));
    for (const args of [['report', file], ['compare', '--resume', file]]) {
      const r = await migdown(args);
      expect(r.exitCode).toBe(2);
      expect(r.stderr.trim()).toMatch(/is in results format version 2 .*; this migdown reads version 1 and the 0\.1 format$/);
    }
  });

  it('files of migdown 0.1 (no schemaVersion) are read', async () => {
    expect(BREAKDOWN.split('\n')[0]).not.toMatch(/schemaVersion/);
    const r = await migdown(['report', fileWith(BREAKDOWN)]);
    expect(r.exitCode, r.all).toBe(0);
  });

  it('report warns about a cut last line', async () => {
    const file = fileWith(BREAKDOWN.trimEnd().slice(0, -200));
    const r = await migdown(['report', file]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/skipped unreadable lines 7 of/);
    expect(parseResults(readFileSync(file, 'utf8')).cutLastLine).toBe(true);
  });
});

describe('compare --resume', () => {
  it('refuses a compare recorded before --guest, --touch ... existed: today\'s defaults would change the workload', async () => {
    // The options it recorded, so only what the file lacks is left to refuse.
    const r = await migdown(['compare', '--resume', fileWith(SMALL), '--b-param=max-bandwidth=8M', '--warmup=0', '--ram=256M', '--smp=1', '--runs=5']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toMatch(/^migdown: --resume: .* does not record --guest, --touch, --dirty-rate, --heartbeat, --param, --capability \(written by an older migdown\)/);
  });

  it('after a writer was killed mid-line, says so and loses no new record', async () => {
    const out = path.join(tmpDir(), 'c.jsonl');
    const tag = newTag();
    const workload = ['--ram', '128M', '--smp', '1', '--runs', '3', '--warmup', '0', '--guest', 'none', ...tagArgs(tag)];
    const first = await migdown(['compare', ...workload, '-q', '--out', out]);
    expect(first.exitCode, first.all).toBe(0);
    // A writer killed in the middle of the last trial: that line is cut short.
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(7);
    writeFileSync(out, `${lines.slice(0, -1).join('\n')}\n`);
    appendFileSync(out, lines.at(-1)!.slice(0, 100));

    // The same options again: a resume runs only what this command line says (not the file).
    const r = await migdown(['compare', '--resume', out, '--format', 'json', ...workload]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stderr).toMatch(/warning: .*the last line was cut short/);
    expect(r.stderr).toMatch(/resuming .*: 1 trial to go/);
    const content = parseResults(readFileSync(out, 'utf8'));
    expect(content.skippedLines).toEqual([7]);
    expect(content.trials).toHaveLength(6);
    expect(content.cutLastLine).toBe(false);
    expect(qemuPids(tag)).toEqual([]);
  });
});
