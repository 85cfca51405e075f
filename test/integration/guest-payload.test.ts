// The built-in guest payload (guest/): (a) the committed binary is what guest/build.sh makes
// from guest/src, byte for byte; (b) it boots in real QEMU and speaks the serial protocol that
// src/guest/heartbeat.ts parses. QEMU's serial chardev connects to a unix socket this test
// listens on (as migdown does), so no early output is lost.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  SerialParser,
  beatContinuity,
  heartbeatGaps,
  gapStats,
  parseBanner,
  parseStatsLine,
  statsDirtyRateMiBs,
  type SerialEvent,
} from '../../src/guest/heartbeat.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const committed = path.join(repo, 'guest', 'migdown-guest.elf');
const QEMU = 'qemu-system-x86_64';

function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function kvmUsable(): boolean {
  try {
    fs.closeSync(fs.openSync('/dev/kvm', 'r+'));
    return true;
  } catch {
    return false;
  }
}

const haveBinutils = have('as') && have('ld') && have('objcopy');
const haveQemu = have(QEMU);
// MIGDOWN_TEST_ACCEL=tcg forces the TCG path on a KVM host.
const accel = process.env.MIGDOWN_TEST_ACCEL === 'tcg' || !kvmUsable() ? 'tcg' : 'kvm';

describe('guest payload binary', () => {
  it('is a small ELF32 with a multiboot v1 header in its first 8 KiB', () => {
    const elf = fs.readFileSync(committed);
    expect(elf.length).toBeLessThan(8192);
    expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(elf[4]).toBe(1); // ELFCLASS32: QEMU's multiboot loader refuses ELF64
    let found = false;
    for (let i = 0; i + 12 <= Math.min(elf.length, 8192); i += 4) {
      const magic = elf.readUInt32LE(i);
      const flags = elf.readUInt32LE(i + 4);
      const sum = elf.readUInt32LE(i + 8);
      if (magic === 0x1badb002 && ((magic + flags + sum) >>> 0) === 0) found = true;
    }
    expect(found).toBe(true);
  });

  it.skipIf(!haveBinutils)('rebuilds byte-identical from guest/src', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'migdown-guest-build-'));
    try {
      execFileSync('sh', [path.join(repo, 'guest', 'build.sh'), out], { stdio: 'pipe' });
      const rebuilt = fs.readFileSync(path.join(out, 'migdown-guest.elf'));
      const want = fs.readFileSync(committed);
      expect(rebuilt.length).toBe(want.length);
      expect(rebuilt.equals(want)).toBe(true);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

/** One booted guest: its QEMU process and everything it wrote on COM1, parsed. */
interface Guest {
  proc: ChildProcess;
  events: SerialEvent[];
  stderr: () => string;
  /** resolves with the first event (including ones already seen) matching `pred` */
  waitFor<T extends SerialEvent>(pred: (e: SerialEvent) => e is T, timeoutMs: number): Promise<T>;
}

const started = new Set<ChildProcess>();
const cleanups: (() => void)[] = [];

async function killQemu(proc: ChildProcess): Promise<void> {
  if (proc.exitCode === null && proc.signalCode === null) {
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
  }
  started.delete(proc);
}

afterAll(async () => {
  for (const proc of [...started]) await killQemu(proc);
  for (const c of cleanups.splice(0)) c();
});

async function bootGuest(opts: { mem: string; append: string }): Promise<Guest> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migdown-guest-'));
  const sock = path.join(dir, 'serial.sock');
  const parser = new SerialParser();
  const events: SerialEvent[] = [];
  const waiters = new Set<() => void>();

  const server = net.createServer((s) => {
    s.on('data', (data: Buffer) => {
      events.push(...parser.feed(data, performance.now()));
      for (const w of [...waiters]) w();
    });
    s.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(sock, () => resolve());
  });
  cleanups.push(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const args = [
    '-accel', accel,
    '-m', opts.mem,
    '-smp', '1',
    '-nodefaults',
    '-no-user-config',
    '-display', 'none',
    '-no-reboot', // a triple fault ends QEMU instead of looping through the boot
    '-kernel', committed,
    '-append', opts.append,
    '-chardev', `socket,id=ser0,path=${sock}`,
    '-serial', 'chardev:ser0',
  ];
  const proc = spawn(QEMU, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  started.add(proc);
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.on('exit', () => {
    for (const w of [...waiters]) w();
  });

  function waitFor<T extends SerialEvent>(pred: (e: SerialEvent) => e is T, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const hit = events.find(pred);
        if (hit) return finish(() => resolve(hit));
        if (proc.exitCode !== null || proc.signalCode !== null)
          return finish(() => reject(new Error(`QEMU exited (${proc.exitCode ?? proc.signalCode}): ${stderr}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`timed out; guest said: ${JSON.stringify(events.slice(0, 8))}`))),
        timeoutMs,
      );
      const finish = (f: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        f();
      };
      waiters.add(check);
      check();
    });
  }

  return { proc, events, stderr: () => stderr, waitFor };
}

const isReady = (e: SerialEvent): e is Extract<SerialEvent, { type: 'ready' }> => e.type === 'ready';
const isTsc = (e: SerialEvent): e is Extract<SerialEvent, { type: 'tsc' }> => e.type === 'tsc';
const isText = (e: SerialEvent): e is Extract<SerialEvent, { type: 'text' }> => e.type === 'text';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!haveQemu)(`guest payload in QEMU (${accel})`, () => {
  it('touches its RAM, reports READY and TSC, then beats every hb ms', async () => {
    const memMiB = accel === 'kvm' ? 1024 : 256;
    const g = await bootGuest({ mem: `${memMiB}M`, append: 'touch=read dirty=0 ws=16 hb=1' });
    try {
      const banner = await g.waitFor(isText, 60_000);
      expect(parseBanner(banner.line)).toMatchObject({ protocol: 2, touch: 'read', dirtyMiBs: 0, hbMs: 1 });

      const ready = await g.waitFor(isReady, 60_000);
      // all RAM but the sub-1-MiB holes and the payload itself
      expect(ready.mib).toBeGreaterThan(memMiB - 8);
      expect(ready.mib).toBeLessThanOrEqual(memMiB);

      const tsc = await g.waitFor(isTsc, 10_000);
      expect(tsc.khz).toBeGreaterThan(100_000); // > 100 MHz: calibration worked

      // Count beats over one second of host time, starting a little after TSC.
      await sleep(200);
      const from = performance.now();
      await sleep(1000);
      const to = performance.now();
      const beats = g.events.filter((e) => e.type === 'beat' && e.at >= from && e.at < to).map((e) => e.at);
      const expected = to - from; // hb=1
      // Lower bound loose: a busy host can deschedule the vCPU; the guest then skips beats on
      // purpose (no catch-up bursts). Upper bound tight: pacing must not run fast.
      expect(beats.length).toBeGreaterThan(expected * 0.3);
      expect(beats.length).toBeLessThan(expected * 1.1 + 5);
      const stats = gapStats(heartbeatGaps(beats));
      expect(stats.median).toBeGreaterThan(0.3);
      expect(stats.median).toBeLessThan(3);
      expect(g.events.some((e) => e.type === 'text' && /^(ERR|PANIC)/.test(e.line))).toBe(false);
      // Every beat is numbered, and none is lost between guest and host.
      const numbered = g.events.filter((e): e is Extract<SerialEvent, { type: 'beat' }> => e.type === 'beat');
      expect(numbered.every((e) => e.seq !== undefined)).toBe(true);
      expect(beatContinuity(numbered).lost).toBe(0);
    } finally {
      await killQemu(g.proc);
    }
  });

  it('beats every 250 µs with hbus=250, numbered without a gap', async () => {
    const g = await bootGuest({ mem: '256M', append: 'touch=read dirty=0 ws=16 hbus=250' });
    try {
      const banner = await g.waitFor(isText, 60_000);
      expect(parseBanner(banner.line)).toMatchObject({ protocol: 2, hbMs: 0.25 });
      await g.waitFor(isTsc, 10_000);
      await sleep(200);
      const from = performance.now();
      await sleep(1000);
      const to = performance.now();
      const beats = g.events.filter((e): e is Extract<SerialEvent, { type: 'beat' }> => e.type === 'beat' && e.at >= from && e.at < to);
      const expected = (to - from) * 4;
      expect(beats.length).toBeGreaterThan(expected * 0.3);
      expect(beats.length).toBeLessThan(expected * 1.1 + 5);
      expect(beatContinuity(beats).lost).toBe(0);
    } finally {
      await killQemu(g.proc);
    }
  });

  it('dirties its working set at the requested rate and reports it in STATS lines', async () => {
    const g = await bootGuest({ mem: '256M', append: 'touch=write dirty=64 ws=32 hb=2 stats=250' });
    try {
      const tsc = await g.waitFor(isTsc, 60_000);
      const isStats = (e: SerialEvent): e is Extract<SerialEvent, { type: 'text' }> =>
        e.type === 'text' && e.line.startsWith('STATS ');
      await g.waitFor(isStats, 10_000);
      await sleep(1600);
      const stats = g.events.filter(isStats).map((e) => parseStatsLine(e.line)!);
      expect(stats.length).toBeGreaterThanOrEqual(4);
      // skip the first interval: the working set's first writes may fault in the host
      const rate = statsDirtyRateMiBs(stats[1]!, stats[stats.length - 1]!, tsc.khz);
      expect(rate).toBeDefined();
      expect(rate!).toBeGreaterThan(64 * 0.5);
      expect(rate!).toBeLessThan(64 * 1.05);

      const beats = g.events.filter((e) => e.type === 'beat').map((e) => e.at);
      const period = (beats[beats.length - 1]! - beats[0]!) / (beats.length - 1);
      expect(period).toBeGreaterThan(1.9);
    } finally {
      await killQemu(g.proc);
    }
  });
});
