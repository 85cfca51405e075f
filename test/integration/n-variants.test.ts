// N variants and sweeps end to end on real QEMU: three variants differing only by their
// downtime limit, interleaved, each compared with the first (Holm-adjusted); a 2 x 2 sweep of
// two options, one row per point.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migdown, readJsonl, tagArgs, tmpDir, useQemuTags } from './helpers.js';

const tag = useQemuTags();

type Comparison = { verdict: string; pValue?: number; pRaw?: number; adjusted?: { method: string; comparisons: number } };
type Doc = {
  report: { metrics: Array<{ key: string; comparisons: Array<null | Comparison> }>; variants: Array<{ label: string; completed: number }> };
  trials: Array<{ variant: string; warmup: boolean; status: string; monitor: Array<{ command: string }> }>;
};

describe('compare with three variants', () => {
  it('interleaves them, compares each with the first, Holm-adjusted, and report reprints it', async () => {
    const out = path.join(tmpDir(), 'n3.jsonl');
    const labels = ['limit 20ms', 'limit 300ms', 'limit 2s'];
    const r = await migdown([
      'compare', '--ram', '256M', '--smp', '1', '--runs', '3', '--warmup', '0', '--guest', 'builtin', '--seed', '5',
      ...labels.flatMap((l) => ['--variant', l]),
      '--variant-param', 'limit 20ms=downtime-limit=20', '--variant-param', 'limit 300ms=downtime-limit=300', '--variant-param', 'limit 2s=downtime-limit=2000',
      '--format', 'json', '--fail-if-regression', '1000000', '--out', out, ...tagArgs(tag()),
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/9 trials \(3 variants, 0 warm-up \+ 3 measured each/);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.report.variants.map((v) => [v.label, v.completed])).toEqual(labels.map((l) => [l, 3]));
    expect(doc.trials.map((t) => t.variant)).toEqual([...labels, ...labels, ...labels]);
    // each variant's own parameter reached its QEMU
    for (const [i, limit] of ['20', '300', '2000'].entries()) {
      expect(doc.trials[i]!.monitor.some((m) => m.command === `migrate_set_parameter downtime-limit ${limit}`)).toBe(true);
    }
    const q = doc.report.metrics.find((m) => m.key === 'qemuDowntime')!.comparisons;
    expect(q[0]).toBeNull();
    for (const c of q.slice(1)) expect(c!.adjusted).toEqual({ method: 'holm', comparisons: 2 });

    const mail = await migdown(['report', out, '--format', 'mail']);
    expect(mail.exitCode, mail.stderr).toBe(0);
    expect(mail.stdout.split('\n').every((l) => l.length <= 72 && /^[\x20-\x7e]*$/.test(l))).toBe(true);
    expect(mail.stdout).toMatch(/\|p \(Holm-adjusted\) \|/);
    expect(mail.stdout).toContain('limit 2s');
    expect(readJsonl(out).filter((l) => l.kind === 'header')).toHaveLength(1);
  });

  it('refuses bad variant options with one line, exit 2', async () => {
    for (const [args, msg] of [
      [['--variant', 'a'], /compare needs at least two/],
      [['--variant', 'a', '--variant', 'a'], /"a" is given twice/],
      [['--variant', 'a', '--variant', 'b', '--variant-param', 'c=downtime-limit=5'], /"c" is not a --variant label \(they are: a, b\)/],
      [['--variant', 'a', '--variant', 'b', '--qemu-a', 'qemu-system-x86_64'], /--variant names every variant; drop --qemu-a/],
      [['--variant', 'a', '--variant', 'b=/nonexistent/qemu'], /--variant b: \/nonexistent\/qemu does not exist/],
    ] as Array<[string[], RegExp]>) {
      const r = await migdown(['compare', ...args]);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
  });
});

describe('a 2 x 2 sweep of any options', () => {
  it('runs every combination, one row per point, and the gate says it was corrected', async () => {
    const out = path.join(tmpDir(), 'sweep.jsonl');
    const r = await migdown([
      'run', '--ram', '256M', '--smp', '1', '--runs', '2', '--guest', 'builtin', '--downtime', '20ms,2s', '--capability', 'auto-converge=on,off',
      '--format', 'json', '--out', out, ...tagArgs(tag()),
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { points: Array<{ point: Record<string, string> }>; trials: Array<{ point: Record<string, string>; monitor: Array<{ command: string }> }> };
    expect(doc.points.map((p) => p.point)).toEqual([
      { downtime: '20ms', 'auto-converge': 'on' },
      { downtime: '20ms', 'auto-converge': 'off' },
      { downtime: '2s', 'auto-converge': 'on' },
      { downtime: '2s', 'auto-converge': 'off' },
    ]);
    expect(doc.trials).toHaveLength(8);
    for (const t of doc.trials) {
      const sent = t.monitor.map((m) => m.command).join('\n');
      expect(sent).toMatch(new RegExp(`migrate_set_capability auto-converge ${t.point['auto-converge']}`));
      expect(sent).toMatch(t.point.downtime === '2s' ? /(migrate_set_downtime 2\b|downtime-limit 2000)/ : /(migrate_set_downtime 0\.02|downtime-limit 20\b)/);
    }
    const table = await migdown(['report', out, '--format', 'markdown']);
    expect(table.exitCode, table.stderr).toBe(0);
    for (const key of ['downtime=20ms, auto-converge=on', 'downtime=20ms, auto-converge=off', 'downtime=2s, auto-converge=on', 'downtime=2s, auto-converge=off']) {
      expect(table.stdout.split('\n').filter((l) => l.startsWith(`| ${key} |`))).toHaveLength(1);
    }
    const gate = await migdown(['report', out, '--max-downtime', '0']);
    expect(gate.exitCode).toBe(3);
    expect(gate.stderr).toMatch(/at downtime=20ms, auto-converge=on: --max-downtime: run median downtime .* \(and 3 more gate failures\)/);
  });
});
