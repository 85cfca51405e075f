// The built-in guest in real migrations, and a disk-image guest that never comes up.

import { execa } from 'execa';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migdown, tagArgs, tmpDir, useQemuTags } from './helpers.js';

const tag = useQemuTags();

type Trial = {
  status: string;
  reason?: string;
  info: { downtimeMs: number; normalPages?: number; normalBytes?: number; transferredRamBytes?: number };
  wallMs: number;
  phaseMs: Record<string, number>;
  firmware?: { name: string; path?: string };
  sourceArgv: string[];
  destinationArgv: string[];
  guest: { observedDowntimeMs?: number; heartbeatPeriodMs: number; baselineGapMs?: { n: number; median: number }; readyAfterMs?: number; requestedDirtyRateMiBs: number; measuredDirtyRateMiBs?: number };
};

async function run(args: string[]): Promise<{ exitCode: number | undefined; trials: Trial[]; all: string }> {
  const r = await migdown(['run', '--smp', '1', '--json', '--out', path.join(tmpDir(), 'r.jsonl'), ...tagArgs(tag()), ...args]);
  return { exitCode: r.exitCode, trials: r.stdout ? (JSON.parse(r.stdout) as { trials: Trial[] }).trials : [], all: r.all ?? '' };
}

describe('the built-in guest', () => {
  it("reports guest-observed downtime next to QEMU's, not smaller than it", async () => {
    const r = await run(['--ram', '256M', '--runs', '2']);
    expect(r.exitCode, r.all).toBe(0);
    for (const t of r.trials) {
      expect(t.status).toBe('completed');
      expect(t.guest.observedDowntimeMs).toBeDefined();
      // The guest's gap contains QEMU's pause, except for what QEMU's clock adds on the source
      // after the destination already runs (completion bookkeeping), and the resolution of a
      // heartbeat's arrival time: a period each side, plus a millisecond of slack.
      expect(t.guest.observedDowntimeMs!).toBeGreaterThanOrEqual(t.info.downtimeMs - 2 * t.guest.heartbeatPeriodMs - 1);
      expect(t.guest.baselineGapMs?.n).toBeGreaterThan(50);
      expect(t.guest.readyAfterMs).toBeGreaterThan(0);
      // Every phase of the trial is timed, and together they are the trial's wall time.
      expect(Object.keys(t.phaseMs)).toEqual(['boot', 'ready', 'configure', 'migrate', 'verify', 'stop']);
      const sum = Object.values(t.phaseMs).reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - t.wallMs)).toBeLessThan(25);
      // --firmware auto: qboot where this QEMU's data directories have it, on both sides alike.
      const bios = (argv: string[]) => argv[argv.indexOf('-bios') + 1];
      if (t.firmware?.name === 'qboot') {
        expect(t.firmware.path).toMatch(/\/qboot\.rom$/);
        expect([bios(t.sourceArgv), bios(t.destinationArgv)]).toEqual(['qboot.rom', 'qboot.rom']);
      } else {
        expect(t.firmware?.name).toBe('seabios');
        expect([...t.sourceArgv, ...t.destinationArgv]).not.toContain('-bios');
      }
    }
  });

  it('--touch write makes every page real data: normal pages of about the RAM size', async () => {
    const r = await run(['--ram', '256M', '--runs', '1', '--touch', 'write']);
    expect(r.exitCode, r.all).toBe(0);
    const info = r.trials[0]!.info;
    expect(info.normalPages! * 4096).toBeGreaterThan(0.9 * 256 * 1024 ** 2);
    // and read-touched memory stays zero pages
    const zero = await run(['--ram', '256M', '--runs', '1', '--touch', 'read']);
    expect(zero.trials[0]!.info.normalPages! * 4096).toBeLessThan(0.1 * 256 * 1024 ** 2);
  });

  it('measures the dirty rate it was asked for (calc_dirty_rate)', async () => {
    const r = await run(['--ram', '512M', '--runs', '1', '--dirty-rate', '64']);
    expect(r.exitCode, r.all).toBe(0);
    const g = r.trials[0]!.guest;
    expect(g.requestedDirtyRateMiBs).toBe(64);
    // The benchmark holds the ±25 % target (docs/benchmarks.md); a test on a shared machine
    // only checks that the measurement tracks the request.
    expect(g.measuredDirtyRateMiBs).toBeGreaterThan(64 * 0.5);
    expect(g.measuredDirtyRateMiBs).toBeLessThan(64 * 1.5);
  });

  it('a guest that never becomes ready fails the trial after the timeout, naming what was awaited', async () => {
    const dir = tmpDir();
    const image = path.join(dir, 'blank.img');
    await execa('qemu-img', ['create', '-f', 'raw', image, '1M']);
    const r = await run(['--ram', '128M', '--runs', '1', '--guest', 'image', '--image', image, '--ready-pattern', 'login:', '--ready-timeout', '3']);
    expect(r.exitCode, r.all).toBe(1);
    expect(r.trials[0]!.status).toBe('error');
    expect(r.trials[0]!.reason).toMatch(/guest not ready: \/login:\/ did not appear on the serial console within 3 s; last serial output: /);
    // A disk needs a BIOS that boots disks: --firmware auto keeps SeaBIOS for images.
    expect(r.trials[0]!.firmware).toEqual({ name: 'seabios' });
    expect(r.trials[0]!.sourceArgv).not.toContain('-bios');
  });
});
