// Snapshot tests of the built CLI: the help texts are the interface users read, so a change
// to any of them shows up in review.

import { describe, expect, it } from 'vitest';
import { migdown } from './helpers.js';

describe('built CLI help', () => {
  it.each([[[]], [['run']], [['compare']], [['report']], [['parse']], [['scenarios']], [['doctor']], [['build']], [['reproduce']]])('migdown %j --help', async (args) => {
    const r = await migdown([...(args as string[]), '--help'], { env: { COLUMNS: '100' } });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    await expect(r.stdout).toMatchFileSnapshot(`__snapshots__/help-${(args as string[]).join('-') || 'migdown'}.txt`);
  });

  it('doctor reports the QEMU and host, exit 0; a missing QEMU is a problem, exit 1', async () => {
    const r = await migdown(['doctor']);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/^ok +QEMU: QEMU emulator version \d+\.\d+/m);
    expect(r.stdout).toMatch(/^(ok|note) +KVM: /m);
    expect(r.stdout).toMatch(/^(ok|note) +host noise: .*(load [\d.]+ [\d.]+ [\d.]+ on \d+ CPUs|noisy host: )/m);
    const missing = await migdown(['doctor', '--qemu', '/nonexistent/qemu']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stdout).toMatch(/^problem QEMU: \/nonexistent\/qemu does not exist/m);
  });

  it('prints its version', async () => {
    const r = await migdown(['--version']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
