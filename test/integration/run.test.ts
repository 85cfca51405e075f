// `migdown run` on real QEMU: KVM where /dev/kvm is usable, TCG otherwise; both must pass.

import { chmodSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kvmUsable, migdown, qemuPids, readJsonl, tagArgs, tmpDir, useQemuTags, waitFor } from './helpers.js';

const tag = useQemuTags();

const accel = kvmUsable ? 'kvm' : 'tcg';

describe(`migdown run (${accel})`, () => {
  it('migrates N times and reports numeric downtime, in JSON and in the results file', async () => {
    const out = path.join(tmpDir(), 'r.jsonl');
    const t = tag();
    const r = await migdown(['run', '--ram', '256M', '--smp', '1', '--runs', '2', '--json', '--out', out, ...tagArgs(t)]);
    expect(r.exitCode, r.all).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      header: { accel: string; variants: Array<{ qemu: { version: string } }> };
      trials: Array<{ status: string; info: { downtimeMs: number; totalTimeMs: number }; monitor: Array<{ command: string }>; accel: string }>;
    };
    expect(doc.header.accel).toBe(accel);
    expect(doc.trials).toHaveLength(2);
    for (const trial of doc.trials) {
      expect(trial.status).toBe('completed');
      expect(trial.accel).toBe(accel);
      expect(trial.info.downtimeMs).toBeGreaterThanOrEqual(0);
      expect(trial.info.totalTimeMs).toBeGreaterThan(0);
      // The exact monitor commands are part of the record.
      const commands = trial.monitor.map((m) => m.command);
      expect(commands.some((c) => /^migrate -d tcp:127\.0\.0\.1:\d+$/.test(c))).toBe(true);
      expect(commands.some((c) => /max-bandwidth 0|migrate_set_speed 0/.test(c))).toBe(true);
      expect(commands.some((c) => /downtime-limit 10|migrate_set_downtime 0\.01/.test(c))).toBe(true);
    }
    const lines = readJsonl(out);
    expect(lines.map((l) => l.kind)).toEqual(['header', 'trial', 'trial']);
    // the results format and the host's noise, in the header and over each trial
    expect(lines[0]).toMatchObject({ schemaVersion: 1, hostNoise: { loadAvg: [expect.any(Number), expect.any(Number), expect.any(Number)], otherQemus: expect.any(Array) } });
    for (const l of lines.slice(1)) expect(l['noise']).toMatchObject({ loadAvg1: expect.any(Number), otherQemus: expect.any(Number), stealPct: expect.any(Number), othersCpus: expect.any(Number) });
  });

  it('prints a table when not asked for JSON', async () => {
    const t = tag();
    const r = await migdown(['run', '--ram', '128M', '--smp', '1', '--runs', '1', '--out', path.join(tmpDir(), 'r.jsonl'), ...tagArgs(t)]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/trial.*status.*downtime/);
    expect(r.stdout).toMatch(/downtime: median \d+(\.\d+)? ms/);
    expect(r.stdout).not.toMatch(/\x1b\[/); // NO_COLOR
  });

  it('reports a failed trial with QEMU reason when the destination is killed mid-migration', async () => {
    const out = path.join(tmpDir(), 'r.jsonl');
    const t = tag();
    // 64 KiB/s keeps a 256M migration running for many seconds.
    const child = migdown(['run', '--ram', '256M', '--smp', '1', '--runs', '1', '--speed', '64K', '--json', '--out', out, ...tagArgs(t)]);
    const [dstPid] = await waitFor(() => {
      const p = qemuPids(t, '-incoming');
      return p.length ? p : undefined;
    }, 30_000, 'the destination QEMU');
    // Let the migration start before cutting it.
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(dstPid!, 'SIGKILL');
    const r = await child;
    expect(r.exitCode, r.all).toBe(1);
    const doc = JSON.parse(r.stdout) as { trials: Array<{ status: string; reason: string }> };
    expect(doc.trials[0]!.status).toBe('failed');
    // QEMU's own words, e.g. "Unable to write to socket: Connection reset by peer".
    expect(doc.trials[0]!.reason).toMatch(/socket|connection|pipe|reset/i);
    expect(readJsonl(out).filter((l) => l.kind === 'trial')).toHaveLength(1);
  });

  it('keeps finished trials and leaves no QEMU when interrupted with SIGINT', async () => {
    const out = path.join(tmpDir(), 'r.jsonl');
    const t = tag();
    const child = migdown(['run', '--ram', '128M', '--smp', '1', '--runs', '50', '--out', out, ...tagArgs(t)]);
    await waitFor(() => readJsonl(out).filter((l) => l.kind === 'trial').length >= 2, 60_000, 'two finished trials');
    // Interrupt while a trial is under way.
    await waitFor(() => qemuPids(t).length > 0, 10_000, 'a running trial');
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode, r.all).toBe(130);
    expect(r.stderr).toMatch(/interrupted after \d+ of 50 trials/);
    const trials = readJsonl(out).filter((l) => l.kind === 'trial');
    expect(trials.length).toBeGreaterThanOrEqual(2);
    expect(trials.every((x) => x.status === 'completed')).toBe(true);
    expect(qemuPids(t)).toEqual([]);
  });

  it('exits 143 on SIGTERM and stops its QEMUs', async () => {
    const out = path.join(tmpDir(), 'r.jsonl');
    const t = tag();
    const child = migdown(['run', '--ram', '128M', '--smp', '1', '--runs', '50', '--speed', '64K', '--out', out, ...tagArgs(t)]);
    await waitFor(() => qemuPids(t).length === 2, 30_000, 'both QEMUs');
    child.kill('SIGTERM');
    const r = await child;
    expect(r.exitCode, r.all).toBe(143);
    expect(qemuPids(t)).toEqual([]);
  });

  it('takes its QEMUs along when killed with SIGKILL (parent-death signal)', async () => {
    const t = tag();
    const child = migdown(['run', '--ram', '128M', '--smp', '1', '--runs', '50', '--speed', '64K', '--out', path.join(tmpDir(), 'r.jsonl'), ...tagArgs(t)]);
    await waitFor(() => qemuPids(t).length === 2, 30_000, 'both QEMUs');
    child.kill('SIGKILL');
    await child;
    await waitFor(() => qemuPids(t).length === 0 || undefined, 5_000, 'QEMUs to die with their parent');
  });

  it('a run directory left by kill -9 (under $XDG_RUNTIME_DIR) is removed by the next migdown', async () => {
    const xdg = tmpDir();
    chmodSync(xdg, 0o700);
    const env = { XDG_RUNTIME_DIR: xdg };
    const t = tag();
    const child = migdown(['run', '--ram', '128M', '--smp', '1', '--runs', '50', '--speed', '64K', '--out', path.join(tmpDir(), 'r.jsonl'), ...tagArgs(t)], { env });
    await waitFor(() => qemuPids(t).length === 2, 30_000, 'both QEMUs');
    child.kill('SIGKILL');
    await child;
    await waitFor(() => qemuPids(t).length === 0 || undefined, 5_000, 'QEMUs to die with their parent');
    const left = readdirSync(xdg).filter((n) => n.startsWith('migdown-'));
    expect(left).toHaveLength(1);
    expect(JSON.parse(readFileSync(path.join(xdg, left[0]!, 'owner.json'), 'utf8'))).toMatchObject({ pid: child.pid });
    const next = await migdown(['run', '--ram', '128M', '--smp', '1', '--runs', '1', '--guest', 'none', '--out', path.join(tmpDir(), 'r.jsonl'), ...tagArgs(tag())], { env });
    expect(next.exitCode, next.all).toBe(0);
    expect(readdirSync(xdg).filter((n) => n.startsWith('migdown-'))).toEqual([]);
  });

  it('shows QEMU stderr when QEMU cannot start, exit 1', async () => {
    const r = await migdown(['run', '--ram', '128M', '--runs', '1', '--qemu-arg=-no-such-option', '--out', path.join(tmpDir(), 'r.jsonl')]);
    expect(r.exitCode, r.all).toBe(1);
    expect(r.all).toMatch(/-no-such-option/);
  });

  it('runs under TCG when asked, and says so', async () => {
    const t = tag();
    const r = await migdown(['run', '--accel', 'tcg', '--ram', '128M', '--smp', '1', '--runs', '1', '--json', '--out', path.join(tmpDir(), 'r.jsonl'), ...tagArgs(t)]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stderr).toMatch(/TCG downtimes are not KVM downtimes/);
    const doc = JSON.parse(r.stdout) as { trials: Array<{ accel: string; status: string }> };
    expect(doc.trials[0]).toMatchObject({ accel: 'tcg', status: 'completed' });
  });
});

describe('bad input', () => {
  it.each([
    [['run', '--ram', '8X'], /--ram: cannot read "8X"/],
    [['run', '--speed', 'fast'], /--speed/],
    [['run', '--downtime', 'abc'], /--downtime/],
    [['run', '--runs', '0'], /--runs: 0 is out of range/],
    [['run', '--frobnicate'], /unknown option '--frobnicate'/],
    [['run', '--accel', 'xen'], /Allowed choices are auto, kvm, tcg/],
    [['run', '--qemu', 'no-such-qemu-binary'], /not found on PATH; install the Debian\/Ubuntu package qemu-system-x86/],
    [['run', '--ram', '100T'], /more than this host's memory/],
    [['parse', '/no/such/file'], /cannot read \/no\/such\/file: ENOENT/],
  ])('%j exits 2 with one line', async (args, message) => {
    const r = await migdown(args as string[]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message as RegExp);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses --port that is in use', async () => {
    const net = await import('node:net');
    const server = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    const r = await migdown(['run', '--port', String(port)]);
    server.close();
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(`--port: 127.0.0.1:${port} is already in use`);
  });

  // MIGDOWN_KVM_DEVICE points the KVM probe elsewhere, so a KVM host can play one without.
  it('refuses --accel kvm without usable KVM', async () => {
    const r = await migdown(['run', '--accel', 'kvm'], { env: { MIGDOWN_KVM_DEVICE: '/nonexistent/kvm' } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--accel kvm: KVM is not usable: \/nonexistent\/kvm does not exist/);
  });

  it('falls back to TCG with a notice when KVM is not usable', async () => {
    const t = tag();
    const r = await migdown(['run', '--ram', '128M', '--smp', '1', '--runs', '1', '--json', '--out', path.join(tmpDir(), 'r.jsonl'), ...tagArgs(t)], {
      env: { MIGDOWN_KVM_DEVICE: '/nonexistent/kvm' },
    });
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stderr).toMatch(/KVM not usable .*; using TCG: TCG downtimes are not KVM downtimes/);
    expect(JSON.parse(r.stdout).header.accel).toBe('tcg');
  });
});

describe('migdown parse', () => {
  it('turns a saved monitor transcript into JSON', async () => {
    const fixture = path.join(path.dirname(new URL(import.meta.url).pathname), '../fixtures/hmp-7.2/qemu-7.2-completed.raw');
    const r = await migdown(['parse', fixture]);
    expect(r.exitCode, r.all).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', downtimeMs: 4, totalTimeMs: 145 });
    expect(readFileSync(fixture, 'latin1')).toContain('\x1b[K'); // it really had echo noise
  });
});
