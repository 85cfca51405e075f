// `migdown run --dest-host` end to end: two "hosts" on this machine (network namespaces joined
// by a veth pair, sshd in the destination's, scripts/netns-hosts.sh), migdown itself running
// in the source's. The migration and the SSH session cross the veth link, which a test cuts.

import { execa, execaSync } from 'execa';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, newTag, noteResultsFile, qemuPids, readJsonl, ROOT, tagArgs, tmpDir, waitFor } from './helpers.js';

const SCRIPT = path.join(ROOT, 'scripts', 'netns-hosts.sh');

function whyNot(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (ip netns, sshd)';
  const has = (cmd: string) => execaSync('sh', ['-c', `command -v ${cmd}`], { reject: false }).exitCode === 0;
  if (!has('ip') || execaSync('ip', ['netns', 'list'], { reject: false }).exitCode !== 0) return '`ip netns` unavailable';
  if (!has('sshd') && !existsSync('/usr/sbin/sshd')) return 'sshd (openssh-server) not installed';
  if (!has('ssh')) return 'ssh (openssh-client) not installed';
  return undefined;
}
const skip = whyNot();

const suffix = randomBytes(3).toString('hex');
const SRC_NS = `mdsrc-${suffix}`;
const DST_NS = `mddst-${suffix}`;
const netDir = path.join(tmpDir(), 'net');
const env = { ...process.env, MD_SRC_NS: SRC_NS, MD_DST_NS: DST_NS } as Record<string, string>;

function migdownInSource(args: string[]) {
  noteResultsFile(args);
  const ssh = [`IdentityFile=${netDir}/id_ed25519`, `UserKnownHostsFile=${netDir}/known_hosts`, 'IdentitiesOnly=yes'];
  return execa('ip', ['netns', 'exec', SRC_NS, 'node', CLI, ...args, '--dest-host', 'root@10.231.0.2', ...ssh.map((o) => `--ssh-option=${o}`)], {
    reject: false,
    all: true,
    env: { NO_COLOR: '1' },
    stdin: 'ignore',
  });
}

describe.skipIf(skip)(`--dest-host across two network namespaces${skip ? ` (skipped: ${skip})` : ''}`, () => {
  beforeAll(async () => {
    const r = await execa(SCRIPT, ['up', netDir], { env, reject: false, all: true });
    if (r.exitCode !== 0) throw new Error(`netns-hosts.sh up failed:\n${r.all}`);
  });
  afterAll(async () => {
    await execa(SCRIPT, ['down', netDir], { env, reject: false });
  });

  it("completes 3 migrations across the link, with both hosts' facts and guest-observed downtime", async () => {
    const out = path.join(tmpDir(), 'r.jsonl');
    const tag = newTag();
    const r = await migdownInSource(['run', '--ram', '512M', '--smp', '1', '--runs', '3', '--json', '--out', out, ...tagArgs(tag)]);
    expect(r.exitCode, r.all).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      header: { host: { hostname: string }; destination: { target: string; host: { kernel: string; memBytes: number }; qemu: { version: string } } };
      trials: Array<{ status: string; info: { downtimeMs: number }; guest: { observedDowntimeMs?: number }; monitor: Array<{ command: string }> }>;
    };
    expect(doc.header.destination.target).toBe('root@10.231.0.2');
    expect(doc.header.destination.host.memBytes).toBeGreaterThan(0);
    expect(doc.header.destination.qemu.version).toMatch(/^\d+\.\d+/);
    expect(doc.trials.map((t) => t.status)).toEqual(['completed', 'completed', 'completed']);
    for (const t of doc.trials) {
      expect(t.monitor.some((m) => m.command === 'migrate -d tcp:10.231.0.2:' + m.command.split(':').pop())).toBe(true);
      expect(t.guest.observedDowntimeMs).toBeGreaterThanOrEqual(0);
    }
    expect(readJsonl(out).filter((l) => l.kind === 'trial')).toHaveLength(3);
    expect(qemuPids(tag)).toEqual([]);
  });

  it('reports a failed trial when the link is cut mid-migration, and leaves no QEMU on either host', async () => {
    const tag = newTag();
    // A written guest over a 1 MiB/s link: many seconds of migration to cut into.
    const child = migdownInSource(['run', '--ram', '256M', '--smp', '1', '--runs', '1', '--touch', 'write', '--speed', '1M', '--json', '--out', path.join(tmpDir(), 'r.jsonl'), ...tagArgs(tag)]);
    // Cut once the migration stream is flowing: an established connection that is not SSH.
    const migrating = () =>
      execaSync('ip', ['netns', 'exec', DST_NS, 'ss', '-Htn', 'state', 'established'], { reject: false })
        .stdout.split('\n')
        .some((l) => {
          const local = l.trim().split(/\s+/)[2] ?? ''; // Recv-Q Send-Q Local Peer
          return local !== '' && !local.endsWith(':22');
        });
    await waitFor(() => migrating() || undefined, 90_000, 'the migration stream');
    await new Promise((r) => setTimeout(r, 500));
    await execa('ip', ['netns', 'exec', DST_NS, 'ip', 'link', 'set', 'veth0', 'down']);
    const r = await child;
    await execa('ip', ['netns', 'exec', DST_NS, 'ip', 'link', 'set', 'veth0', 'up']);
    expect(r.exitCode, r.all).toBe(1);
    const doc = JSON.parse(r.stdout) as { trials: Array<{ status: string; reason: string }> };
    expect(doc.trials[0]!.status).toBe('failed');
    // QEMU's or ssh's words, whichever noticed first.
    expect(doc.trials[0]!.reason).toMatch(/lost|not responding|closed|dropped|reset|broken pipe|timed out/i);
    await waitFor(() => qemuPids(tag).length === 0 || undefined, 15_000, 'no QEMU left on either host');
  });

  it('an ssh alias (HostName given to ssh, not DNS) works: TCP goes where ssh -G says; one fresh port per trial on that address only', async () => {
    const out = path.join(tmpDir(), 'alias.jsonl');
    const tag = newTag();
    const ssh = [`IdentityFile=${netDir}/id_ed25519`, `UserKnownHostsFile=${netDir}/known_hosts`, 'IdentitiesOnly=yes', 'HostName=10.231.0.2'];
    const r = await execa('ip', ['netns', 'exec', SRC_NS, 'node', CLI, 'run', '--ram', '256M', '--smp', '1', '--runs', '2', '--json', '--out', out, ...tagArgs(tag), '--dest-host', 'root@mgd-dst', ...ssh.map((o) => `--ssh-option=${o}`)], {
      reject: false,
      all: true,
      env: { NO_COLOR: '1' },
      stdin: 'ignore',
    });
    expect(r.exitCode, r.all).toBe(0);
    const doc = JSON.parse(r.stdout) as { trials: Array<{ status: string; destinationArgv: string[]; monitor: Array<{ command: string }> }> };
    const ports = doc.trials.map((t) => {
      expect(t.status).toBe('completed');
      // bound to the address the source connects to, never tcp::PORT (every interface)
      expect(t.destinationArgv[t.destinationArgv.indexOf('-incoming') + 1]).toBe('tcp:10.231.0.2:0');
      const migrate = t.monitor.find((m) => m.command.startsWith('migrate -d '))!.command;
      expect(migrate).toMatch(/^migrate -d tcp:10\.231\.0\.2:\d+$/);
      return Number(migrate.split(':').pop());
    });
    expect(new Set(ports).size).toBe(2);
    expect(qemuPids(tag)).toEqual([]);
  });

  it('--ssh-option StrictHostKeyChecking=yes wins over migdown\'s accept-new: an unknown host key is refused', async () => {
    const known = path.join(tmpDir(), 'empty_known_hosts');
    writeFileSync(known, '');
    const ssh = ['StrictHostKeyChecking=yes', `IdentityFile=${netDir}/id_ed25519`, `UserKnownHostsFile=${known}`, 'IdentitiesOnly=yes'];
    const r = await execa('ip', ['netns', 'exec', SRC_NS, 'node', CLI, 'run', '--ram', '256M', '--dest-host', 'root@10.231.0.2', ...ssh.map((o) => `--ssh-option=${o}`)], {
      reject: false,
      env: { NO_COLOR: '1' },
      stdin: 'ignore',
    });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/Host key verification failed/);
    expect(readFileSync(known, 'utf8')).toBe(''); // nothing was accepted
  });

  it('preflight: a host that does not answer is one line, exit 2', async () => {
    const r = await execa('ip', ['netns', 'exec', SRC_NS, 'node', CLI, 'run', '--ram', '256M', '--dest-host', 'root@10.231.0.2:2222', '--ssh-option=ConnectTimeout=3', `--ssh-option=IdentityFile=${netDir}/id_ed25519`], {
      reject: false,
      env: { NO_COLOR: '1' },
    });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/root@10\.231\.0\.2:2222/);
  });
});
