// migdown on other QEMU releases than the host's: whatever .ci/run could fetch with
// scripts/fetch-qemu.sh into /opt/migdown-qemu/<suite>/ (or MIGDOWN_TEST_QEMUS, a
// colon-separated list of binaries). Each must migrate with the commands its monitor has.

import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migdown, newTag, qemuPids, tagArgs, tmpDir } from './helpers.js';

const FETCHED = '/opt/migdown-qemu';
const binaries = process.env.MIGDOWN_TEST_QEMUS
  ? process.env.MIGDOWN_TEST_QEMUS.split(':').filter(Boolean)
  : existsSync(FETCHED)
    ? readdirSync(FETCHED)
        .map((s) => path.join(FETCHED, s, 'qemu-system-x86_64'))
        .filter((p) => existsSync(p))
    : [];

describe.skipIf(binaries.length === 0)('other QEMU releases', () => {
  it.each(binaries)('%s: a run completes with the dialect its monitor speaks', async (qemu) => {
    const tag = newTag();
    const r = await migdown(['run', '--qemu', qemu, '--ram', '256M', '--smp', '1', '--runs', '1', '--json', '--out', path.join(tmpDir(), 'r.jsonl'), ...tagArgs(tag)]);
    expect(qemuPids(tag)).toEqual([]);
    expect(r.exitCode, r.all).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      trials: Array<{ status: string; info: { downtimeMs: number; unknown: string[] }; monitor: Array<{ command: string }>; qemu: { version: string } }>;
    };
    const t = doc.trials[0]!;
    expect(t.status).toBe('completed');
    expect(t.info.downtimeMs).toBeGreaterThanOrEqual(0);
    expect(t.info.unknown).toEqual([]);
    const major = Number(t.qemu.version.split('.')[0]);
    const speed = t.monitor.map((m) => m.command).find((c) => /max-bandwidth|migrate_set_speed/.test(c));
    expect(speed).toBe(major < 6 ? 'migrate_set_speed 0' : 'migrate_set_parameter max-bandwidth 0');
  });
});
