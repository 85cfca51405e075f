// Scenarios and sweeps on real QEMU.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migdown, qemuPids, tagArgs, tmpDir, useQemuTags } from './helpers.js';

const tag = useQemuTags();
const out = () => ['--out', path.join(tmpDir(), 'r.jsonl')];

describe('scenarios on real QEMU', () => {
  it('a sweep over two RAM sizes reports one row per size', async () => {
    const r = await migdown(['run', '--ram', '256M,512M', '--smp', '1', '--runs', '2', ...out(), ...tagArgs(tag())]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/ram=256M[\s\S]*ram=512M/);
    const json = await migdown(['run', '--ram', '256M,512M', '--smp', '1', '--runs', '1', '--json', ...out(), ...tagArgs(tag())]);
    const doc = JSON.parse(json.stdout) as { points: Array<{ point: { ram: string } }>; trials: Array<{ point: { ram: string } }> };
    expect(doc.points.map((p) => p.point.ram)).toEqual(['256M', '512M']);
    expect(doc.trials.map((t) => t.point.ram)).toEqual(['256M', '512M']);
  });

  it("the seed's scenario runs with its published figures beside the measured ones", async () => {
    // Flags override the file: a small VM and one trial keep the test short.
    const r = await migdown(['run', '--scenario', 'seed-2015', '--ram', '512M', '--runs', '1', ...out(), ...tagArgs(tag())]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/Published \(Liang Li, .*\): without this patch 35ms, with this patch 4ms; measured here/);
    const mail = await migdown(['run', '--scenario', 'seed-2015', '--ram', '512M', '--runs', '1', '--format', 'mail', ...out(), ...tagArgs(tag())]);
    expect(mail.stdout).toMatch(/Published \(Liang Li/);
    expect(mail.stdout.split('\n').every((l) => l.length <= 72)).toBe(true);
  });

  it('the multifd scenario sets its capability and parameter on both sides', async () => {
    const r = await migdown(['run', '--scenario', 'multifd', '--ram', '512M', '--smp', '1', '--runs', '1', '--json', ...out(), ...tagArgs(tag())]);
    expect(r.exitCode, r.all).toBe(0);
    const t = (JSON.parse(r.stdout) as { trials: Array<{ status: string; monitor: Array<{ side: string; command: string }> }> }).trials[0]!;
    expect(t.status).toBe('completed');
    for (const side of ['source', 'destination']) {
      expect(t.monitor.filter((m) => m.side === side).map((m) => m.command)).toEqual(
        expect.arrayContaining(['migrate_set_capability multifd on', 'migrate_set_parameter multifd-channels 4']),
      );
    }
    expect(t.monitor.some((m) => m.side === 'destination' && m.command.startsWith('migrate_incoming tcp:127.0.0.1:'))).toBe(true);
  });

  it('a scenario file with a typo fails with the file, the path and the expected keys', async () => {
    const { writeFileSync } = await import('node:fs');
    const file = path.join(tmpDir(), 'typo.yaml');
    writeFileSync(file, 'name: typo\ndescription: d\nvm:\n  ram: 1G\n  smpp: 2\n');
    const r = await migdown(['run', '--scenario', file]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toBe(`migdown: ${file}: vm: unknown key "smpp" (expected one of: ram, smp, machine, accel, dirtyRing, firmware, guest, args)`);
  });

  it('a parameter value that would edit the monitor line (DEL bytes) is refused before any VM starts', async () => {
    const { writeFileSync } = await import('node:fs');
    const file = path.join(tmpDir(), 'evil.yaml');
    const value = `4${'\x7f'.repeat(40)}migrate -d exec:touch\${IFS}${tmpDir()}/pwned`;
    // YAML's own \x7f escape: the bytes reach the schema (a raw DEL is refused by the YAML reader first).
    writeFileSync(file, `name: evil\ndescription: d\nmigration:\n  parameters:\n    downtime-limit: "${value.replace(/\x7f/g, '\\x7f')}"\n`);
    const t = tag();
    const r = await migdown(['run', '--scenario', file, '--ram', '256M', ...tagArgs(t)]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${file}: migration.parameters.downtime-limit: the value "4\\x7f`);
    expect(r.stderr).not.toContain('\x7f');
    expect(qemuPids(t)).toEqual([]);
    const flag = await migdown(['run', '--param', `downtime-limit=${value}`, '--ram', '256M', ...tagArgs(t)]);
    expect(flag.exitCode).toBe(2);
    expect(flag.stderr).toMatch(/^migdown: --param: downtime-limit: the value/);
  });
});
