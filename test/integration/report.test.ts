// `migdown report` on recorded results files, through the built CLI: two stored runs compared
// with the gates, labels and -q; the table fitted to COLUMNS. Nothing here starts QEMU.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { migdown } from './helpers.js';

const fixture = (name: string) => path.join(fileURLToPath(new URL('../fixtures/results/', import.meta.url)), name);
const OLD = fixture('run-qemu-7.2.jsonl');
const NEW = fixture('run-qemu-10.0.jsonl');

describe('migdown report', () => {
  it('compares two stored runs; the gates judge the second', async () => {
    const r = await migdown(['report', OLD, NEW, '--format', 'markdown']);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/^\| +\| run-qemu-7\.2 \| run-qemu-10\.0 \|$/m);
    expect(r.stdout).toContain('QEMU 7.2.22 vs 10.0.2');
    expect(r.stdout).toMatch(/Mann-Whitney/);

    const gated = await migdown(['report', OLD, NEW, '--max-downtime', '2', '--label-a', '7.2', '--label-b', '10.0']);
    expect(gated.exitCode).toBe(3);
    expect(gated.stderr).toMatch(/^migdown: --max-downtime: 10\.0 median downtime 4ms is above the limit of 2ms$/m);
    expect(gated.stdout).toMatch(/7\.2 +│ 10\.0/);

    const regression = await migdown(['report', OLD, NEW, '--fail-if-regression', '10']);
    // +300 % but p 0.119: not significant, so the gate passes, as compare's does
    expect(regression.exitCode, regression.all).toBe(0);
    const bad = await migdown(['report', OLD, NEW, '--max-downtime', 'soon']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toBe('migdown: --max-downtime: "soon" is not a non-negative number');
  });

  it('-q keeps stderr for gate failures only; csv warns about the noisy host on stderr', async () => {
    const loud = await migdown(['report', OLD, '--format', 'csv']);
    expect(loud.stderr).toMatch(/^migdown: warning: noisy host: 1 other qemu-system process running in 5 of 5 trials; load average 8.25 on 2 CPUs/);
    const quiet = await migdown(['report', OLD, '--format', 'csv', '-q']);
    expect(quiet.exitCode).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout.split('\r\n')[0]).toMatch(/^run_id,metric,variant,/);
  });

  it('fits the table to COLUMNS', async () => {
    const r = await migdown(['report', fixture('compare-small.jsonl')], { env: { COLUMNS: '60' } });
    expect(r.exitCode).toBe(0);
    const widest = Math.max(...r.stdout.split('\n').filter((l) => /^[|=]/.test(l)).map((l) => l.length));
    expect(widest).toBeLessThanOrEqual(60);
  });
});
