// Golden snapshots of the built CLI's output: `migdown report FILE --format X` for every format
// and `--html`, over every results file in test/fixtures/results/. They pin what a user sees, so
// that a change of structure which should change nothing visibly changes nothing. After an
// intended change of output, refresh them with `npx vitest run test/golden.test.ts -u` and read
// the diff.

import { execa } from 'execa';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'bin', 'migdown.js');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'results');
const GOLDEN = path.join(ROOT, 'test', 'golden');
const FORMATS = ['table', 'mail', 'markdown', 'csv', 'json'] as const;
const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.jsonl')).sort();

async function report(args: string[]) {
  const r = await execa('node', [CLI, 'report', ...args], {
    reject: false,
    // A fixed environment: no colour, no terminal width, no stack traces.
    env: { NO_COLOR: '1', COLUMNS: '', MIGDOWN_DEBUG: '' },
    extendEnv: true,
    stdin: 'ignore',
  });
  return `exit ${r.exitCode}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n`;
}

describe.each(files)('report %s', (file) => {
  const base = file.replace(/\.jsonl$/, '');
  it('names no path of this checkout (the snapshots must not depend on where it is cloned)', () => {
    expect(readFileSync(path.join(FIXTURES, file), 'utf8')).not.toContain(ROOT);
  });

  it.each(FORMATS)('--format %s', async (format) => {
    const out = await report([path.join(FIXTURES, file), '--format', format]);
    await expect(out.replaceAll(ROOT, '<root>')).toMatchFileSnapshot(path.join(GOLDEN, `${base}.${format}.txt`));
  });

  it('--html', async () => {
    const html = path.join(mkdtempSync(path.join(os.tmpdir(), 'migdown-golden-')), 'r.html');
    const out = await report([path.join(FIXTURES, file), '--html', html, '-q']);
    const page = out.startsWith('exit 0') ? readFileSync(html, 'utf8') : '(no page)';
    await expect(`${out.replaceAll(ROOT, '<root>')}--- page\n${page}`).toMatchFileSnapshot(path.join(GOLDEN, `${base}.html.txt`));
  });
});

it('report OLD NEW: a stored 7.2 run against a stored 10.0 run', async () => {
  const out = await report([path.join(FIXTURES, 'run-qemu-7.2.jsonl'), path.join(FIXTURES, 'run-qemu-10.0.jsonl'), '--format', 'mail']);
  await expect(out.replaceAll(ROOT, '<root>')).toMatchFileSnapshot(path.join(GOLDEN, 'report-two-files.mail.txt'));
});
