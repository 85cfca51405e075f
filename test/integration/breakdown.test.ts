// The downtime breakdown on a real migration: two QEMUs with the vmstate_downtime tracepoints
// (QEMU ≥ 8.2; Debian's 7.2 has none), traced with traceArgs(), migrated the way trial.ts does.
// Skipped, saying why, when no such QEMU is on this machine; scripts/fetch-qemu.sh gets one:
//   scripts/fetch-qemu.sh bookworm-backports /opt/migdown-qemu/bookworm-backports
// or point MIGDOWN_TRACE_QEMU at any qemu-system-x86_64 ≥ 8.2 (then only that one is tried).

import { execa } from 'execa';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { HmpClient } from '../../src/qemu/hmp-client.js';
import { parseInfoMigrate, parseInfoStatus } from '../../src/qemu/info-migrate.js';
import { spawnQemu, stopQemu, type QemuProcess } from '../../src/qemu/process.js';
import { computeBreakdown, hasDowntimeTracepoints, traceArgs } from '../../src/trace/breakdown.js';
import { freeLoopbackPort } from '../../src/util/net.js';
import { kvmUsable, tmpDir, useQemuTags } from './helpers.js';

// An explicit MIGDOWN_TRACE_QEMU is the only candidate: whoever sets it means that binary.
const CANDIDATES = process.env.MIGDOWN_TRACE_QEMU
  ? [process.env.MIGDOWN_TRACE_QEMU]
  : [
      '/opt/migdown-qemu/bookworm-backports/qemu-system-x86_64',
      '/opt/migdown-qemu/trixie/qemu-system-x86_64',
      '/opt/migdown-qemu/sid/qemu-system-x86_64',
      'qemu-system-x86_64',
    ];

async function traceHelp(binary: string): Promise<string | undefined> {
  if (binary.includes('/') && !existsSync(binary)) return undefined;
  const r = await execa(binary, ['-trace', 'help'], { reject: false, timeout: 30_000, stdin: 'ignore' });
  return r.exitCode === 0 ? String(r.stdout) : undefined;
}

// Every candidate is asked, so that the probe below is checked against each QEMU's version:
// a probe that never found the tracepoints would otherwise only skip the migration test.
const tried: string[] = [];
const runnable: Array<{ binary: string; help: string }> = [];
let qemu: string | undefined;
for (const c of CANDIDATES) {
  const help = await traceHelp(c);
  tried.push(`${c}: ${help === undefined ? 'not runnable' : hasDowntimeTracepoints(help) ? 'has them' : 'lacks them'}`);
  if (help === undefined) continue;
  runnable.push({ binary: c, help });
  if (!qemu && hasDowntimeTracepoints(help)) qemu = c;
}
const skipReason = qemu ? '' : ` — SKIPPED: no QEMU with the vmstate_downtime tracepoints (${tried.join('; ')})`;
// Said out loud too: the default reporter does not list the titles of skipped tests.
if (!qemu) console.warn(`breakdown integration test${skipReason}; scripts/fetch-qemu.sh bookworm-backports DIR gets one`);

const accel = kvmUsable ? 'kvm' : 'tcg';
const tagFor = useQemuTags();

describe(`downtime breakdown on a real migration (${accel})`, () => {
  it.skipIf(!qemu)(`traces both QEMUs, and the phases add up to the end-to-end pause within 1 ms${skipReason}`, async () => {
    const binary = qemu!;
    const dir = tmpDir();
    const tag = tagFor();
    const port = await freeLoopbackPort();
    const srcLog = path.join(dir, 'src.trace.log');
    const dstLog = path.join(dir, 'dst.trace.log');
    const machine = (mon: string) => [
      '-nodefaults', '-no-user-config', '-display', 'none', '-accel', accel, '-m', '512M',
      '-monitor', `unix:${mon},server=on,wait=off`, '-name', tag,
    ];
    let src: QemuProcess | undefined;
    let dst: QemuProcess | undefined;
    let srcMon: HmpClient | undefined;
    let dstMon: HmpClient | undefined;
    let before: [string, string];
    let rawInfo = '';
    try {
      dst = spawnQemu('destination', binary, [...machine(path.join(dir, 'dst.mon')), ...traceArgs(dstLog), '-incoming', `tcp:127.0.0.1:${port}`]);
      src = spawnQemu('source', binary, [...machine(path.join(dir, 'src.mon')), ...traceArgs(srcLog)]);
      dstMon = await HmpClient.connect(path.join(dir, 'dst.mon'), { connectTimeoutMs: 30_000, processExited: dst.exited });
      srcMon = await HmpClient.connect(path.join(dir, 'src.mon'), { connectTimeoutMs: 30_000, processExited: src.exited });
      await srcMon.command('migrate_set_parameter max-bandwidth 0');
      await srcMon.command('migrate_set_parameter downtime-limit 10');
      await srcMon.command(`migrate -d tcp:127.0.0.1:${port}`);
      const deadline = Date.now() + 60_000;
      for (;;) {
        rawInfo = await srcMon.command('info migrate');
        const status = parseInfoMigrate(rawInfo).status;
        if (status === 'completed') break;
        if (status === 'failed' || status === 'cancelled' || Date.now() > deadline) throw new Error(`migration ${status ?? 'stuck'}:\n${rawInfo}`);
        await sleep(50);
      }
      for (let i = 0; ; i++) {
        if (parseInfoStatus(await dstMon.command('info status')).running) break;
        if (i > 200) throw new Error('destination did not resume');
        await sleep(50);
      }
      // Read while both still run: QEMU flushes the log after every line, so a trial can read
      // it before stopping QEMU (checked against the files after exit below).
      before = [readFileSync(srcLog, 'utf8'), readFileSync(dstLog, 'utf8')];
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    } finally {
      await Promise.all([src && stopQemu(src, srcMon), dst && stopQemu(dst, dstMon)]);
    }
    let after: [string, string];
    try {
      after = [readFileSync(srcLog, 'utf8'), readFileSync(dstLog, 'utf8')];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Whole before quit; quitting adds only the VM's own shutdown notification (vm_state_notify).
    for (const i of [0, 1]) {
      expect(after[i]!.startsWith(before[i]!)).toBe(true);
      const added = after[i]!.slice(before[i]!.length).split('\n').filter(Boolean);
      for (const l of added) expect(l).toMatch(/:vm_state_notify running 0 reason \d+ \(shutdown\)$/);
    }

    const b = computeBreakdown(after[0], after[1], { sameHost: true });
    expect(b.available, b.notes.join('\n')).toBe(true);
    expect(b.clock).toBe('shared');
    expect(b.phases.length).toBeGreaterThanOrEqual(4);
    // Consecutive, from the source stopping to the destination VM running.
    expect(b.phases[0]!.from).toBe('src-downtime-start');
    expect(b.phases.at(-1)!.to).toBe('dst-precopy-bh-vm-started');
    for (let i = 1; i < b.phases.length; i++) expect(b.phases[i]!.from).toBe(b.phases[i - 1]!.to);
    for (const p of b.phases) expect(p.durationMs, p.key).toBeGreaterThanOrEqual(0);

    const total = b.phases.reduce((s, p) => s + p.durationMs, 0);
    expect(b.endToEndPauseMs).toBeGreaterThan(0);
    expect(Math.abs(total - b.endToEndPauseMs!)).toBeLessThan(1);

    // QEMU's own downtime is the source part, measured in whole ms of the same wall clock.
    const reported = parseInfoMigrate(rawInfo).downtimeMs!;
    expect(Math.abs(b.sourceDowntimeMs! - reported)).toBeLessThan(1.1);
    expect(b.endToEndPauseMs!).toBeGreaterThanOrEqual(b.sourceDowntimeMs!);

    expect(b.topDevices.save.length).toBeGreaterThan(0);
    expect(b.topDevices.load.length).toBeGreaterThan(0);
    // A completed migration: the source VM stays stopped, and QEMU postpones stopping dirty
    // logging until it runs again, which it never does.
    expect(b.dirtyLogStop.inPause).toBe(false);
    expect(b.dirtyLogStop.startedAtMsRelativeToPauseStart).toBeLessThan(0);

    console.log(
      `breakdown (${binary}, ${accel}): ${b.phases.map((p) => `${p.name} ${p.durationMs}`).join(', ')}; ` +
        `end-to-end ${b.endToEndPauseMs} ms, source ${b.sourceDowntimeMs} ms, QEMU reported ${reported} ms`,
    );
  });
});

describe('the tracepoint probe', () => {
  const none = runnable.length ? '' : ` — SKIPPED: no runnable QEMU (${tried.join('; ')})`;
  it.skipIf(!runnable.length)(`agrees with every QEMU's version: the checkpoints exist from 8.2 on${none}`, async () => {
    for (const { binary, help } of runnable) {
      const r = await execa(binary, ['--version'], { reject: false, stdin: 'ignore' });
      const m = /version (\d+)\.(\d+)/.exec(String(r.stdout));
      expect(m, `${binary} --version: ${r.stdout}`).not.toBeNull();
      const atLeast82 = Number(m![1]) > 8 || (Number(m![1]) === 8 && Number(m![2]) >= 2);
      expect(hasDowntimeTracepoints(help), `${binary} (${m![0]})`).toBe(atLeast82);
    }
  });
});
