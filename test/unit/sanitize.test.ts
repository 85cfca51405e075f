// Text from a results file rendered for a terminal, a spreadsheet or a file name
// (src/render/sanitize.ts), and every output format and the --svg names of a crafted file.

import { Chalk } from 'chalk';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseResults } from '../../src/trial/results-read.js';
import type { RunHeader, TrialRecord } from '../../src/trial/types.js';
import { writeArtifacts } from '../../src/render/artifacts.js';
import { csvField } from '../../src/render/compare-csv.js';
import { FORMATS } from '../../src/render/formats.js';
import { renderResults } from '../../src/render/results.js';
import { safeFileName, spreadsheetSafe, terminalSafe } from '../../src/render/sanitize.js';
import { analyze } from '../../src/stats/analysis.js';

const RAW_CONTROL = /[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
const EVIL_LABEL = '=HYPERLINK("http://x")\x1b[31mred\u202e';
const EVIL_REASON = '\x1b]0;pwned\x07\x1b[2J\x9b2J\x7f';

/** compare-small.jsonl with a label, a reason and a trial index crafted as an attacker would. */
function crafted(): { header: RunHeader; trials: TrialRecord[] } {
  const content = parseResults(readFileSync(new URL('../fixtures/results/compare-small.jsonl', import.meta.url), 'utf8'));
  const header = content.headers[0]!;
  const old = header.variants[0]!.label;
  header.variants[0]!.label = EVIL_LABEL;
  const trials = content.trials.map((t) => (t.variant === old ? { ...t, variant: EVIL_LABEL } : t));
  const victim = trials.find((t) => t.variant === EVIL_LABEL && t.samples?.length)!;
  Object.assign(victim, { status: 'failed', reason: EVIL_REASON, index: '../../../escaped' as unknown as number });
  return { header, trials };
}

describe('terminalSafe', () => {
  it('escapes C0, DEL, C1 and bidi controls; keeps other Unicode', () => {
    expect(terminalSafe('a\x1b[2Jb\x07c\x7fd\x9be\u202ef')).toBe('a\\x1b[2Jb\\x07c\\x7fd\\x9be\\u{202e}f');
    expect(terminalSafe('1.5 µs, é')).toBe('1.5 µs, é');
  });
});

describe('spreadsheetSafe / csvField', () => {
  it("prefixes formula starters with '", () => {
    for (const f of ['=1+1', '+cmd|x', '-1+1', '@SUM(A1)', '\tx', '\rx', '-']) expect(spreadsheetSafe(f)).toBe(`'${f}`);
  });
  it('keeps numbers numeric, negative ones included', () => {
    for (const n of ['-3.5', '12', '+1', '1e5', '-0.25', '.5']) expect(spreadsheetSafe(n)).toBe(n);
    expect(csvField(-3.5714285714285716)).toBe('-3.57142857142857');
    expect(csvField('=2*3,4')).toBe(`"'=2*3,4"`);
  });
});

describe('safeFileName', () => {
  it('never a path: no separator, no leading dot', () => {
    for (const bad of ['../../x', '/etc/passwd', '..', '.hidden', 'a\\b', 'a\x00b']) {
      const s = safeFileName(bad);
      expect(s).toMatch(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/);
      expect(path.basename(s)).toBe(s);
    }
    expect(safeFileName('progress-1-with-this-patch-3')).toBe('progress-1-with-this-patch-3');
  });
});

describe('a crafted results file', () => {
  const chalk = new Chalk({ level: 0 });
  it('prints no control character in any format', () => {
    const { header, trials } = crafted();
    for (const format of FORMATS) {
      const out = renderResults(format, header, analyze(header, trials), chalk);
      expect(out, format).not.toMatch(RAW_CONTROL);
      if (format === 'json') expect((JSON.parse(out) as { header: RunHeader }).header.variants[0]!.label).toBe(EVIL_LABEL); // data unchanged
      else expect(out, format).toContain('\\x1b[31mred');
    }
  });
  it('csv: the label cell cannot be a formula', () => {
    const { header, trials } = crafted();
    const csv = renderResults('csv', header, analyze(header, trials), chalk);
    expect(csv).toContain(`"'=HYPERLINK(""http://x"")`);
    expect(csv.split('\r\n').some((l) => /,=/.test(l))).toBe(false);
  });
  it('--svg writes only inside its directory, whatever the trial index says', async () => {
    const { header, trials } = crafted();
    const root = mkdtempSync(path.join(os.tmpdir(), 'sanitize-svg-'));
    try {
      const dir = path.join(root, 'a', 'b');
      await writeArtifacts(header, analyze(header, trials), { svg: dir });
      expect(readdirSync(root)).toEqual(['a']);
      expect(readdirSync(path.join(root, 'a'))).toEqual(['b']);
      const names = readdirSync(dir);
      expect(names.some((n) => n.includes('escaped'))).toBe(true);
      for (const n of names) expect(n).toMatch(/^[A-Za-z0-9_][A-Za-z0-9._-]*\.svg$/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});
