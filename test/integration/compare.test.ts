// `migdown compare` end to end on real QEMU: variants that truly differ are told apart,
// identical ones are not, the regression gate follows, `report` reprints the same table and
// an interrupted compare resumes.

import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, migdown, readJsonl, ROOT, tagArgs, tmpDir, useQemuTags, waitFor } from './helpers.js';

const tag = useQemuTags();

type Doc = {
  report: {
    metrics: Array<{ key: string; comparisons: Array<null | { verdict: string; pValue?: number; deltaMs?: number }> }>;
    variants: Array<{ label: string; completed: number }>;
  };
  trials: Array<{ variant: string; warmup: boolean; status: string }>;
};
const qemuDowntime = (d: Doc) => d.report.metrics.find((m) => m.key === 'qemuDowntime')!.comparisons[1]!;

describe('migdown compare', () => {
  it('finds a real difference (a 2 s downtime limit against 20 ms, guest dirtying), and the gate fails it', async () => {
    const out = path.join(tmpDir(), 'c.jsonl');
    // A guest dirtying 128 MiB/s of a 256 MiB working set: with a 2 s limit QEMU switches over
    // with most of it still to send (a long pause); with 20 ms it iterates until little is left.
    const args = [
      'compare', '--ram', '512M', '--smp', '1', '--runs', '4', '--warmup', '0', '--touch', 'write',
      '--dirty-rate', '128', '--working-set', '256', '--a-param', 'downtime-limit=20', '--b-param', 'downtime-limit=2000',
      '--label-a', 'limit 20 ms', '--label-b', 'limit 2 s', '--seed', '5', '--out', out, ...tagArgs(tag()),
    ];
    const r = await migdown([...args, '--format', 'json', '--fail-if-regression', '50']);
    expect(r.exitCode, r.stderr).toBe(3); // a tripped gate
    expect(r.stderr).toMatch(/--fail-if-regression: limit 2 s median downtime .* worse than .* \(limit 50%, p = 0\.0\d+\)/);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.report.variants.map((v) => v.completed)).toEqual([4, 4]);
    const c = qemuDowntime(doc);
    expect(c.verdict).toBe('slower');
    expect(c.pValue).toBeLessThan(0.05);
    expect(c.deltaMs).toBeGreaterThan(100);
    // The trials alternated A B A B.
    expect(doc.trials.map((t) => t.variant)).toEqual(['limit 20 ms', 'limit 2 s', 'limit 20 ms', 'limit 2 s', 'limit 20 ms', 'limit 2 s', 'limit 20 ms', 'limit 2 s']);

    // report reprints exactly what compare printed, without running anything.
    const mail = await migdown(['report', out, '--format', 'mail']);
    expect(mail.exitCode).toBe(0);
    const lines = mail.stdout.split('\n');
    expect(lines.every((l) => l.length <= 72 && !/\t|\s$/.test(l) && /^[\x20-\x7e]*$/.test(l))).toBe(true);
    expect(mail.stdout).toMatch(/\|\s*limit 20 ms\s*\|\s*limit 2 s\s*\|/);
    expect(mail.stdout).toMatch(/verdict.*slower/);
    expect((await migdown(['report', out, '--format', 'mail'])).stdout).toBe(mail.stdout);
  });

  it('finds no difference between identical variants, and the gate passes', async () => {
    const out = path.join(tmpDir(), 'c.jsonl');
    // At 99 % an A/A comparison of 5 and 5 is called significant in at most 2 of 252 orders.
    const r = await migdown([
      'compare', '--ram', '256M', '--smp', '1', '--runs', '5', '--warmup', '1', '--guest', 'none', '--confidence', '0.99',
      '--fail-if-regression', '10', '--format', 'json', '--out', out, ...tagArgs(tag()),
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(qemuDowntime(doc).verdict).toBe('no significant difference');
    // warm-ups are kept in the file but not counted
    expect(doc.trials.filter((t) => t.warmup)).toHaveLength(2);
    expect(doc.report.variants.map((v) => v.completed)).toEqual([5, 5]);
  });

  it('resumes an interrupted compare up to the requested counts', async () => {
    const out = path.join(tmpDir(), 'c.jsonl');
    const t = tag();
    const child = migdown(['compare', '--ram', '256M', '--smp', '1', '--runs', '4', '--warmup', '0', '--guest', 'none', '--out', out, ...tagArgs(t)]);
    await waitFor(() => readJsonl(out).filter((l) => l.kind === 'trial').length >= 3, 60_000, 'three trials');
    child.kill('SIGINT');
    const first = await child;
    expect(first.exitCode).toBe(130);
    expect(first.stderr).toMatch(/continue with: migdown compare --resume/);
    const before = readJsonl(out).filter((l) => l.kind === 'trial').length;
    expect(before).toBeLessThan(8);

    // Resuming with other options (here: none) is refused, showing the recorded command line.
    const bare = await migdown(['compare', '--resume', out, '--format', 'json']);
    expect(bare.exitCode).toBe(2);
    expect(bare.stderr).toMatch(/was recorded with other options; .*--runs \(recorded "4", now "10"\).*Recorded, to check before you run it: migdown compare --resume \S+ .*--runs=4/);
    expect(readJsonl(out).filter((l) => l.kind === 'trial')).toHaveLength(before);

    // The printed command line continues it: the same flags as the interrupted session.
    const again = /continue with: migdown (.*)$/m.exec(first.stderr)![1]!;
    const r = await execa('sh', ['-c', `node ${CLI} ${again} --format json`], { reject: false, env: { NO_COLOR: '1' }, stdin: 'ignore' });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`resuming .*: ${8 - before} trials? to go`));
    const trials = readJsonl(out).filter((l) => l.kind === 'trial');
    expect(trials).toHaveLength(8);
    expect(readJsonl(out).filter((l) => l.kind === 'header')).toHaveLength(1);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.report.variants.map((v) => v.completed)).toEqual([4, 4]);
  });

  it('--resume never runs what the file says: a crafted header with a ProxyCommand runs nothing and writes nothing', async () => {
    const dir = tmpDir();
    const pwned = path.join(dir, 'pwned');
    const lines = readFileSync(path.join(ROOT, 'test', 'fixtures', 'results', 'compare-small.jsonl'), 'utf8').trim().split('\n');
    const header = JSON.parse(lines[0]!) as { config: { options: Record<string, unknown> } };
    Object.assign(header.config.options, {
      destHost: 'x.invalid',
      sshOption: [`ProxyCommand=sh -c 'id > ${pwned}'`],
      qemuA: `${dir}/evil-qemu`,
      html: path.join(dir, 'report.html'),
      svg: path.join(dir, 'svg'),
      out: path.join(dir, 'elsewhere.jsonl'),
    });
    const file = path.join(dir, 'crafted.jsonl');
    writeFileSync(file, [JSON.stringify(header), ...lines.slice(1, 3)].join('\n') + '\n');
    const before = readFileSync(file, 'utf8');
    const r = await migdown(['compare', '--resume', file]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--dest-host \(recorded "x.invalid", now null\)/);
    expect(r.stderr).toMatch(/--ssh-option=ProxyCommand=sh -c/); // shown, quoted, for the user to judge
    expect(existsSync(pwned)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['crafted.jsonl']);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('refuses bad input with one line, exit 2', async () => {
    for (const [args, msg] of [
      [['--label-a', 'x', '--label-b', 'x'], /both "x"/],
      [['--runs', '2'], /too few to compare/],
      [['--qemu-b', '/nonexistent/qemu'], /--qemu-b: \/nonexistent\/qemu does not exist/],
      [['--a-param', 'downtime-limit'], /--a-param: "downtime-limit" is not NAME=VALUE/],
      [['--confidence', '2'], /--confidence/],
      [['--fail-if-regression', 'lots'], /--fail-if-regression/],
      [['--working-set', '4096', '--ram', '1G'], /--working-set: 4096 MiB is larger than the guest's RAM/],
      [['--dirty-rate', '-5'], /negative/],
      [['--guest', 'image', '--image', '/nonexistent.qcow2', '--boot-wait', '5'], /--image: \/nonexistent.qcow2 does not exist/],
    ] as Array<[string[], RegExp]>) {
      const r = await migdown(['compare', ...args]);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
  });
});
