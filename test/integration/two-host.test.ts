// --dest-host on two real "hosts" on one machine: network namespaces joined by a veth pair
// (scripts/netns-hosts.sh), an sshd of the test's own in the destination namespace, a key made
// for the test. The destination QEMU is started over SSH by startRemoteQemu; the source QEMU
// and every local ssh run inside the source namespace (`ip netns exec`), so the migration
// stream and the SSH session cross the veth link, which the test can cut, and nothing is
// added to the namespace the test itself runs in. The monitors are unix sockets in the file
// system, which work across network namespaces, so the test drives both with HmpClient.

import { execa, execaSync } from 'execa';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { qemuArgv, type TrialConfig } from '../../src/trial/trial-config.js';
import { chooseDialect } from '../../src/qemu/dialect.js';
import { HmpClient } from '../../src/qemu/hmp-client.js';
import { parseInfoMigrate, parseInfoStatus } from '../../src/qemu/info-migrate.js';
import { spawnQemu, stopQemu, type QemuProcess } from '../../src/qemu/process.js';
import { preflightRemote } from '../../src/remote/preflight.js';
import { liveProcessCount } from '../../src/qemu/live-processes.js';
import { migrationEndpoints, parseHostSpec, randomMigrationPort } from '../../src/remote/host-spec.js';
import { startRemoteQemu, type RemoteQemu } from '../../src/remote/remote-qemu.js';
import { resolveTargetAddress, type SshOptions } from '../../src/remote/ssh.js';
import { kvmUsable, newTag, qemuPids, ROOT, tmpDir, waitFor } from './helpers.js';

const SCRIPT = path.join(ROOT, 'scripts', 'netns-hosts.sh');
const QEMU = 'qemu-system-x86_64';

function whyNot(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (ip netns, sshd)';
  const has = (cmd: string) => execaSync('sh', ['-c', `command -v ${cmd}`], { reject: false }).exitCode === 0;
  if (!has('ip')) return 'ip (iproute2) not installed';
  if (execaSync('ip', ['netns', 'list'], { reject: false }).exitCode !== 0) return '`ip netns` unavailable';
  if (!has('sshd') && !existsSync('/usr/sbin/sshd')) return 'sshd (openssh-server) not installed';
  if (!has('ssh') || !has('ssh-keygen')) return 'ssh client (openssh-client) not installed';
  if (!has(QEMU)) return `${QEMU} not installed`;
  return undefined;
}
const skipReason = whyNot();

// Unique names: other runs of this test (or of anything else) may use mdsrc/mddst.
const suffix = randomBytes(3).toString('hex');
const SRC_NS = `mdsrc-${suffix}`;
const DST_NS = `mddst-${suffix}`;
const DST_ADDR = '10.231.0.2';
const netDir = path.join(tmpDir(), 'net');
const env = { ...process.env, MD_SRC_NS: SRC_NS, MD_DST_NS: DST_NS } as Record<string, string>;

const accel = kvmUsable ? 'kvm' : 'tcg';
const target = parseHostSpec(`root@${DST_ADDR}`);
let ssh: SshOptions;
let setupMs = 0;

const tags: string[] = [];
function tag(): string {
  const t = newTag();
  tags.push(t);
  return t;
}

function nsPids(ns: string, comm: string): number[] {
  const r = execaSync('ip', ['netns', 'pids', ns], { reject: false });
  return String(r.stdout ?? '')
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => {
      try {
        return execaSync('cat', [`/proc/${pid}/comm`]).stdout.trim().startsWith(comm);
      } catch {
        return false;
      }
    });
}

function config(ramMb: number, extraArgs: string[] = []): TrialConfig {
  return {
    qemu: { path: QEMU, version: '7.2.0', versionLine: 'QEMU emulator version 7.2.0' },
    accel,
    ramBytes: ramMb * 1024 ** 2,
    smp: 1,
    speedBytes: 0,
    downtimeMs: 10,
    extraArgs,
    params: {},
    pollMs: 100,
    timeoutMs: 60_000,
  };
}

interface Outcome {
  status: 'completed' | 'failed' | 'cancelled' | 'timeout';
  reason?: string;
  destinationStatus?: string;
  dst: RemoteQemu;
  srcTag: string;
  dstTag: string;
  cutAtMs?: number;
}

/**
 * What trial.ts does, with the destination remote: start both, set the parameters, migrate,
 * poll `info migrate`, check the destination runs, stop both. `during` runs once the
 * migration is active (to break things).
 */
async function migrate(opts: { ramMb: number; bandwidth: string; extraArgs?: string[]; during?: (dst: RemoteQemu) => Promise<void> }): Promise<Outcome> {
  const cfg = config(opts.ramMb, opts.extraArgs);
  const dialect = chooseDialect(cfg.qemu.versionLine);
  const runDir = tmpDir();
  const srcTag = tag();
  const dstTag = tag();
  const srcMonPath = path.join(runDir, 'src.monitor');
  const dstMonPath = path.join(runDir, 'dst.monitor');
  const ends = migrationEndpoints(target, randomMigrationPort());
  const dstArgv = [...qemuArgv(cfg, dialect, dstMonPath, ['-name', dstTag]), '-incoming', ends.incoming];
  const srcArgv = qemuArgv(cfg, dialect, srcMonPath, ['-name', srcTag]);

  let src: QemuProcess | undefined;
  let dst: RemoteQemu | undefined;
  let srcMon: HmpClient | undefined;
  let dstMon: HmpClient | undefined;
  const out: Partial<Outcome> = { srcTag, dstTag };
  try {
    dst = await startRemoteQemu(target, QEMU, dstArgv, { ...ssh, monitorPath: dstMonPath });
    out.dst = dst;
    src = spawnQemu('source', 'ip', ['netns', 'exec', SRC_NS, QEMU, ...srcArgv]);
    [dstMon, srcMon] = await Promise.all([
      HmpClient.connect(dstMonPath, { connectTimeoutMs: 30_000, processExited: dst.exited }),
      HmpClient.connect(srcMonPath, { connectTimeoutMs: 30_000, processExited: src.exited }),
    ]);
    await srcMon.command(`migrate_set_parameter max-bandwidth ${opts.bandwidth}`);
    await srcMon.command('migrate_set_parameter downtime-limit 10');
    await srcMon.command(`migrate -d ${ends.migrate}`);
    let during: Promise<void> | undefined;
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (dst.exitInfo) {
        // the trial's rule: a destination that is gone ends the migration
        await srcMon.command('migrate_cancel').catch(() => undefined);
        out.status = 'failed';
        out.reason = `destination QEMU ${dst.exitInfo.reason}: ${dst.stderr().trim().split('\n').slice(-2).join(' | ')}`;
        break;
      }
      const info = parseInfoMigrate(await srcMon.command('info migrate'));
      if (info.status === 'active' && opts.during && !during) {
        out.cutAtMs = Date.now();
        during = opts.during(dst);
      }
      if (info.status === 'completed' || info.status === 'failed' || info.status === 'cancelled') {
        out.status = info.status as Outcome['status'];
        if (info.status === 'failed') out.reason = info.failureReason ?? 'failed';
        break;
      }
      if (Date.now() > deadline) {
        out.status = 'timeout';
        break;
      }
      await sleep(100);
    }
    await during;
    if (out.status === 'completed') {
      for (let i = 0; i < 100; i++) {
        out.destinationStatus = parseInfoStatus(await dstMon.command('info status')).status;
        if (out.destinationStatus === 'running') break;
        await sleep(50);
      }
    }
  } finally {
    await Promise.all([src && stopQemu(src, srcMon), dst && stopQemu(dst, dstMon)]);
    rmSync(runDir, { recursive: true, force: true });
  }
  return out as Outcome;
}

describe.skipIf(!!skipReason)(`two hosts over SSH (network namespaces, ${accel})${skipReason ? ` — skipped: ${skipReason}` : ''}`, () => {
  beforeAll(async () => {
    const t0 = Date.now();
    const r = await execa(SCRIPT, ['up', netDir], { env, reject: false, all: true });
    setupMs = Date.now() - t0;
    if (r.exitCode !== 0) throw new Error(`netns-hosts.sh up failed:\n${r.all}`);
    const vars = Object.fromEntries(String(r.stdout).split('\n').map((l) => l.split('=') as [string, string]));
    ssh = {
      identityFile: vars.KEY!,
      knownHostsFile: vars.KNOWN_HOSTS!,
      configFile: '/dev/null',
      strictHostKeyChecking: 'yes',
      wrapper: ['ip', 'netns', 'exec', SRC_NS],
    };
    console.log(`netns + sshd setup took ${setupMs} ms`);
  });

  afterAll(async () => {
    // always: even a failed test must not leave namespaces, sshd or QEMU behind
    const left = tags.flatMap((t) => qemuPids(t));
    for (const pid of left) process.kill(pid, 'SIGKILL');
    await execa(SCRIPT, ['down', netDir], { env, reject: false });
    rmSync(path.dirname(netDir), { recursive: true, force: true });
    expect(execaSync('ip', ['netns', 'list']).stdout).not.toMatch(new RegExp(`${SRC_NS}|${DST_NS}`));
  });

  afterEach(() => {
    const left = tags.flatMap((t) => qemuPids(t));
    tags.length = 0;
    for (const pid of left) process.kill(pid, 'SIGKILL');
    expect(left, 'QEMU processes left behind').toEqual([]);
    expect(liveProcessCount(), 'QEMU or ssh sessions left behind').toBe(0);
  });

  it('preflight: the destination answers, has QEMU, the accelerator, the memory and a reachable port', async () => {
    const r = await preflightRemote(target, { ...ssh, accel, ramBytes: 128 * 1024 ** 2, port: randomMigrationPort() });
    expect(r.failures).toEqual([]);
    expect(r.facts?.qemu?.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(r.facts?.host.kernel).toMatch(/^Linux /);
    expect(r.facts?.host.cpuModel).not.toBe('');
    expect(r.facts?.host.memBytes).toBeGreaterThan(0);
    expect(r.endpoints.migrate).toMatch(/^tcp:10\.231\.0\.2:\d+$/);
  });

  it('an alias from an ssh config file (-F): ssh -G gives the address the probe and the migration use', async () => {
    const config = path.join(tmpDir(), 'ssh_config');
    writeFileSync(config, `Host mgd-dst\n  HostName ${DST_ADDR}\n  User root\n`);
    const alias = parseHostSpec('mgd-dst');
    const opts = { ...ssh, configFile: config };
    alias.address = await resolveTargetAddress(alias, opts);
    expect(alias.address).toBe(DST_ADDR);
    const r = await preflightRemote(alias, { ...opts, accel, ramBytes: 128 * 1024 ** 2, port: randomMigrationPort() });
    expect(r.failures).toEqual([]);
    expect(r.endpoints.incoming).toMatch(/^tcp:10\.231\.0\.2:\d+$/);
  });

  it('preflight: each problem is one clear line', async () => {
    const noSsh = await preflightRemote(parseHostSpec(`root@${DST_ADDR}:2222`), { ...ssh, accel, ramBytes: 1, port: 4444 });
    expect(noSsh.failures).toHaveLength(1);
    expect(noSsh.failures[0]).toMatch(/^destination root@10\.231\.0\.2:2222 does not answer over SSH: .*refused/);

    const bad = await preflightRemote(target, { ...ssh, accel, qemuPath: '/nonexistent/qemu', ramBytes: 2 ** 50, port: 4444 });
    expect(bad.failures).toHaveLength(2);
    expect(bad.failures[0]).toMatch(/\/nonexistent\/qemu does not exist/);
    expect(bad.failures[1]).toMatch(/only .* of memory available, the VM needs/);

    // port 22 is sshd's: QEMU cannot listen there
    const busy = await preflightRemote(target, { ...ssh, accel, ramBytes: 1, port: 22 });
    expect(busy.failures).toHaveLength(1);
    expect(busy.failures[0]).toMatch(/QEMU cannot listen on tcp:10\.231\.0\.2:22: .*(in use|available port)/);
    for (const f of [...noSsh.failures, ...bad.failures, ...busy.failures]) expect(f).not.toContain('\n');
  });

  it('migrates to the remote destination three times; the destination runs afterwards', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await migrate({ ramMb: 128, bandwidth: '0' });
      expect(r.status, r.reason).toBe('completed');
      expect(r.destinationStatus).toBe('running');
      expect(r.dst.exitInfo?.reason).toBe('exited normally'); // `quit` through the bridge
      expect(qemuPids(r.dstTag)).toEqual([]);
    }
  });

  // Random guest RAM (a private file mapping) makes the stream real data, so that 1 MB/s
  // keeps the migration active long enough to break it.
  async function randomRam(): Promise<{ args: string[]; file: string }> {
    const file = path.join(tmpDir(), 'ram');
    await execa('sh', ['-c', `head -c 128M /dev/urandom > ${file}`]);
    return {
      file,
      args: ['-object', `memory-backend-file,id=ram0,size=128M,mem-path=${file},share=off`, '-machine', 'memory-backend=ram0'],
    };
  }

  it('link cut mid-migration: the trial fails with the reason, no QEMU is left on either side', async () => {
    const ram = await randomRam();
    let goneAfterMs = -1;
    try {
      const r = await migrate({
        ramMb: 128,
        bandwidth: '1M',
        extraArgs: ram.args,
        during: async (dst) => {
          await sleep(1000);
          const cut = Date.now();
          await execa('ip', ['-n', SRC_NS, 'link', 'set', 'veth0', 'down']);
          // the remote watchdog must stop QEMU by itself: nobody can reach it now
          const dstTag = dst.remoteArgv[dst.remoteArgv.indexOf('-name') + 1]!;
          await waitFor(() => qemuPids(dstTag).length === 0 && nsPids(DST_NS, 'qemu-system').length === 0, 20_000, 'remote QEMU to go');
          goneAfterMs = Date.now() - cut;
          await dst.exited;
        },
      });
      expect(r.status).toBe('failed');
      expect(r.reason).toMatch(/ssh/);
      expect(r.dst.exitInfo?.code).toBe(255);
      expect(goneAfterMs).toBeGreaterThan(0);
      expect(goneAfterMs).toBeLessThan(12_000);
      console.log(`link cut: remote QEMU gone ${goneAfterMs} ms after the cut; reason: ${r.reason}`);
    } finally {
      await execa('ip', ['-n', SRC_NS, 'link', 'set', 'veth0', 'up']);
      rmSync(path.dirname(ram.file), { recursive: true, force: true });
    }
    expect(nsPids(DST_NS, 'qemu-system')).toEqual([]);
    expect(nsPids(SRC_NS, 'qemu-system')).toEqual([]);
  });

  it('sshd killed mid-migration: the trial fails with the reason, no QEMU is left on either side', async () => {
    const ram = await randomRam();
    let goneAfterMs = -1;
    try {
      const r = await migrate({
        ramMb: 128,
        bandwidth: '1M',
        extraArgs: ram.args,
        during: async () => {
          await sleep(1000);
          const t0 = Date.now();
          await execa(SCRIPT, ['kill-sshd', netDir], { env });
          await waitFor(() => nsPids(DST_NS, 'qemu-system').length === 0, 10_000, 'remote QEMU to go');
          goneAfterMs = Date.now() - t0;
        },
      });
      expect(r.status).toBe('failed');
      expect(r.reason).toMatch(/ssh|closed|reset/i);
      expect(goneAfterMs).toBeGreaterThanOrEqual(0);
      expect(goneAfterMs).toBeLessThan(5000);
      console.log(`sshd killed: remote QEMU gone ${goneAfterMs} ms later; reason: ${r.reason}`);
    } finally {
      // bring sshd back for whatever runs next
      await execa(SCRIPT, ['up', netDir], { env });
      rmSync(path.dirname(ram.file), { recursive: true, force: true });
    }
    expect(nsPids(DST_NS, 'qemu-system')).toEqual([]);
    expect(nsPids(SRC_NS, 'qemu-system')).toEqual([]);
  });

  it('the controller dying (ssh SIGKILLed, as PDEATHSIG does when migdown is killed) stops the remote QEMU', async () => {
    const runDir = tmpDir();
    const t = tag();
    const dialect = chooseDialect('QEMU emulator version 7.2.0');
    const monPath = path.join(runDir, 'dst.monitor');
    const dst = await startRemoteQemu(target, QEMU, [...qemuArgv(config(64), dialect, monPath, ['-name', t]), '-incoming', 'defer'], {
      ...ssh,
      monitorPath: monPath,
    });
    const mon = await HmpClient.connect(monPath, { connectTimeoutMs: 30_000, processExited: dst.exited });
    expect(await mon.command('info status')).toMatch(/inmigrate/);
    expect(qemuPids(t).length).toBeGreaterThan(0); // QEMU (and its remote wrapper, whose argv carries the tag)
    process.kill(dst.pid!, 'SIGKILL');
    const t0 = Date.now();
    await waitFor(() => qemuPids(t).length === 0, 10_000, 'remote QEMU to go');
    console.log(`local ssh SIGKILLed: remote QEMU gone ${Date.now() - t0} ms later`);
    expect((await dst.exited).signal).toBe('SIGKILL');
    mon.close();
    rmSync(runDir, { recursive: true, force: true });
  });

  it('SIGTERM through the handle stops the remote QEMU and reports it', async () => {
    const runDir = tmpDir();
    const t = tag();
    const dialect = chooseDialect('QEMU emulator version 7.2.0');
    const monPath = path.join(runDir, 'dst.monitor');
    const dst = await startRemoteQemu(target, QEMU, [...qemuArgv(config(64), dialect, monPath, ['-name', t])], { ...ssh, monitorPath: monPath });
    const mon = await HmpClient.connect(monPath, { connectTimeoutMs: 30_000, processExited: dst.exited });
    await mon.command('info status');
    dst.kill('SIGTERM');
    const info = await dst.exited;
    // QEMU exits 0 after a SIGTERM; the wrapper passes its status through
    expect(info.code).toBe(0);
    expect(dst.stderr()).toMatch(/terminating on signal 15/);
    expect(qemuPids(t)).toEqual([]);
    mon.close();
    rmSync(runDir, { recursive: true, force: true });
  });
});
