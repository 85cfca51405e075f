// src/remote/host-spec.ts, ssh.ts, wrapper.ts and the pure parts of preflight.ts: host specs,
// the ssh command line, shell quoting (checked by a real sh), migration addresses, the remote
// argv, and the remote watchdog script itself, run locally in bash with a stand-in for QEMU.

import { execa } from 'execa';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { evaluateFacts, factsScript, parseFacts } from '../../src/remote/preflight.js';
import { formatTarget, listeningUri, migrationEndpoints, parseHostSpec, randomMigrationPort } from '../../src/remote/host-spec.js';
import { lastLine, parseSshG, remoteCommandLine, shQuote, sshCommand, sshOptionArgs, withoutSshNoise } from '../../src/remote/ssh.js';
import { REMOTE_WRAPPER, remoteQemuArgv, remoteWrapperCommand } from '../../src/remote/wrapper.js';

describe('parseHostSpec', () => {
  it.each([
    ['host', { host: 'host' }],
    ['10.0.0.2', { host: '10.0.0.2' }],
    ['root@10.0.0.2', { user: 'root', host: '10.0.0.2' }],
    ['root@10.0.0.2:2222', { user: 'root', host: '10.0.0.2', port: 2222 }],
    ['dst.example.org:22', { host: 'dst.example.org', port: 22 }],
    ['[::1]', { host: '::1' }],
    ['[fe80::1%eth0]:2200', { host: 'fe80::1%eth0', port: 2200 }],
    ['me@[2001:db8::7]:22', { user: 'me', host: '2001:db8::7', port: 22 }],
    ['2001:db8::7', { host: '2001:db8::7' }],
    ['first.last@host', { user: 'first.last', host: 'host' }],
  ])('%s', (spec, want) => {
    const t = parseHostSpec(spec);
    expect({ user: t.user, host: t.host, port: t.port }).toEqual({ user: undefined, port: undefined, ...want });
    expect(t.spec).toBe(spec);
  });

  it.each([
    ['', /empty/],
    ['root@', /empty host/],
    ['@host', /empty user/],
    ['host:0', /bad SSH port/],
    ['host:65536', /bad SSH port/],
    ['host:ssh', /bad SSH port/],
    ['host:', /bad SSH port/],
    ['[::1', /missing \]/],
    ['[::1]22', /unexpected/],
    ['[dst.example]:22', /not an IPv6 address/],
    ['-oProxyCommand=x', /must not start with -/],
    ['-l@host', /must not start with -/],
    ['a b', /white space/],
    ['host;rm', /bad host/],
    ['1:2:3', /IPv6/],
  ])('rejects %j', (spec, why) => {
    expect(() => parseHostSpec(spec)).toThrow(UsageError);
    expect(() => parseHostSpec(spec)).toThrow(why);
  });

  it('names the option and the expected form in the message', () => {
    expect(() => parseHostSpec('host:x')).toThrow('--dest-host "host:x": bad SSH port "x" (expected [user@]HOST[:port])');
  });

  it('formats back', () => {
    for (const s of ['root@10.0.0.2:2222', 'host', 'me@[2001:db8::7]:22', '::1']) expect(formatTarget(parseHostSpec(s))).toBe(s);
  });
});

describe('ssh command line', () => {
  it('always batch mode, connect timeout, keepalives, accept-new, no shared master', () => {
    const args = sshOptionArgs();
    const opts = args.filter((_, i) => args[i - 1] === '-o');
    expect(opts).toEqual(
      expect.arrayContaining([
        'BatchMode=yes',
        'ConnectTimeout=10',
        'ServerAliveInterval=2',
        'ServerAliveCountMax=3',
        'StrictHostKeyChecking=accept-new',
        'ControlMaster=no',
        'ControlPath=none',
      ]),
    );
    expect(args).not.toContain('-i');
    expect(args).not.toContain('-F');
  });

  it('test options: key, known hosts, config file, strict checking, extra -o', () => {
    const args = sshOptionArgs({
      identityFile: '/k/id',
      knownHostsFile: '/k/known',
      configFile: '/dev/null',
      strictHostKeyChecking: 'yes',
      connectTimeoutSec: 3,
      extraOptions: ['Compression=no'],
    });
    expect(args.slice(0, 2)).toEqual(['-F', '/dev/null']);
    expect(args.join(' ')).toContain('-i /k/id -o IdentitiesOnly=yes');
    expect(args).toContain('UserKnownHostsFile=/k/known');
    expect(args).toContain('StrictHostKeyChecking=yes');
    expect(args).toContain('ConnectTimeout=3');
    expect(args).toContain('Compression=no');
  });

  it("the user's -o options win: ssh keeps the first value, so they come before migdown's", async () => {
    const args = sshOptionArgs({ extraOptions: ['StrictHostKeyChecking=yes', 'ConnectTimeout=3'] });
    // the real ssh client says which value it would use (ssh -G connects nowhere)
    const r = await execa('ssh', ['-G', '-F', '/dev/null', ...args, 'example.invalid'], { reject: false, stdin: 'ignore' });
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('stricthostkeychecking true');
    expect(lines).toContain('connecttimeout 3');
    expect(lines).toContain('batchmode yes'); // migdown's own still apply where the user said nothing
  });

  it('puts port, user, host, -- and the one command string last; wrapper first', () => {
    const cmd = sshCommand(parseHostSpec('root@[fe80::1]:2222'), { wrapper: ['ip', 'netns', 'exec', 'ns1'] }, 'echo hi');
    expect(cmd.slice(0, 5)).toEqual(['ip', 'netns', 'exec', 'ns1', 'ssh']);
    expect(cmd.slice(-7)).toEqual(['-p', '2222', '-l', 'root', 'fe80::1', '--', 'echo hi']);
    expect(cmd).toContain('-T');
  });
});

async function shArgs(line: string): Promise<string[]> {
  const r = await execa('sh', ['-c', `set -- ${line}; for a in "$@"; do printf '%s\\0' "$a"; done`]);
  return r.stdout.split('\0').slice(0, -1);
}

describe('shQuote', () => {
  const words = ['plain', '', "it's", 'a b', '$HOME', '`id`', '"q"', 'back\\slash', 'new\nline', '*', '-monitor', 'unix:/tmp/x,server=on,wait=off', "'''"];
  it('survives a real sh word for word', async () => {
    expect(await shArgs(remoteCommandLine(words))).toEqual(words);
  });
  it('leaves safe words alone', () => {
    expect(shQuote('tcp:10.0.0.2:4444')).toBe('tcp:10.0.0.2:4444');
    expect(shQuote('a b')).toBe("'a b'");
  });
  it('the wrapper command line carries the script and argv intact', async () => {
    const argv = ['-name', "x'y", '-m', '128M'];
    const line = remoteWrapperCommand('/usr/bin/qemu-system-x86_64', argv, 6);
    expect(await shArgs(line)).toEqual(['exec', 'bash', '-c', REMOTE_WRAPPER, 'migdown-remote', '6', '/usr/bin/qemu-system-x86_64', ...argv]);
  });
});

describe('migrationEndpoints', () => {
  it('defaults to the SSH host; listens on the literal address', () => {
    expect(migrationEndpoints(parseHostSpec('root@10.231.0.2'), 4444)).toEqual({
      incoming: 'tcp:10.231.0.2:4444',
      migrate: 'tcp:10.231.0.2:4444',
      connectHost: '10.231.0.2',
      port: 4444,
    });
  });
  it('never every interface: the destination binds the address the source connects to', () => {
    const e = migrationEndpoints(parseHostSpec('dst.lab:2222'), 5000);
    expect(e.incoming).toBe('tcp:dst.lab:5000');
    expect(e.migrate).toBe('tcp:dst.lab:5000');
    // an ssh alias resolved by ssh -G: TCP goes to its address, not to the alias
    const alias = { ...parseHostSpec('root@mgd-dst'), address: '10.77.0.2' };
    expect(migrationEndpoints(alias, 0)).toEqual({ incoming: 'tcp:10.77.0.2:0', migrate: 'tcp:10.77.0.2:0', connectHost: '10.77.0.2', port: 0 });
  });
  it("reads back the port the destination's kernel chose, from every QEMU's info migrate", () => {
    const dir = path.join(__dirname, '..', 'fixtures', 'versions');
    for (const v of readdirSync(dir).filter((d) => /^\d/.test(d))) {
      const text = readFileSync(path.join(dir, v, 'dest-info-migrate-before.txt'), 'utf8');
      const port = /tcp:127\.0\.0\.1:(\d+)/.exec(text)![1];
      expect(listeningUri(text, migrationEndpoints({ spec: 'h', host: '127.0.0.1' }, 0)), v).toBe(`tcp:127.0.0.1:${port}`);
      expect(listeningUri(text, migrationEndpoints({ spec: 'h', host: '10.0.0.9' }, 0)), v).toBeUndefined();
    }
    const v6 = migrationEndpoints(parseHostSpec('[fd00::2]:22'), 0);
    expect(listeningUri('socket address: [\n\ttcp:fd00::2:40001\n]', v6)).toBe('tcp:[fd00::2]:40001');
  });
  it('the probe port comes from the CSPRNG, not Math.random', () => {
    const spy = vi.spyOn(Math, 'random');
    const ports = Array.from({ length: 200 }, randomMigrationPort);
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(ports.every((p) => p >= 49152 && p <= 60999)).toBe(true);
  });
  it('IPv6 goes in brackets', () => {
    const e = migrationEndpoints(parseHostSpec('[fd00::2]:22'), 4444);
    expect(e.incoming).toBe('tcp:[fd00::2]:4444');
    expect(e.migrate).toBe('tcp:[fd00::2]:4444');
  });
  it('--migrate-uri overrides host and port', () => {
    const e = migrationEndpoints(parseHostSpec('mgmt.lab'), 4444, 'tcp:192.168.50.2:7000');
    expect(e).toEqual({ incoming: 'tcp:192.168.50.2:7000', migrate: 'tcp:192.168.50.2:7000', connectHost: '192.168.50.2', port: 7000 });
    expect(migrationEndpoints(parseHostSpec('h'), 1, 'tcp:[fd00::9]:7001').connectHost).toBe('fd00::9');
  });
  it('rejects other URIs', () => {
    expect(() => migrationEndpoints(parseHostSpec('h'), 1, 'unix:/tmp/s')).toThrow(/expected tcp:HOST:PORT/);
    expect(() => migrationEndpoints(parseHostSpec('h'), 1, 'tcp:h:99999')).toThrow(/bad port/);
  });
});

describe('ssh -G', () => {
  it('takes the host name, port and user ssh would use', () => {
    expect(parseSshG('user root\nhostname 10.77.0.2\nport 2222\nbatchmode yes\n')).toEqual({ hostname: '10.77.0.2', port: 2222, user: 'root' });
    expect(parseSshG('hostname -oProxyCommand=x\n')).toBeUndefined();
    expect(parseSshG('port 22\n')).toBeUndefined();
  });
});

describe('remoteQemuArgv', () => {
  const mon = '/tmp/migdown-x/dst.monitor';
  it('replaces the local monitor socket by -monitor stdio', () => {
    const argv = ['-m', '128M', '-monitor', `unix:${mon},server=on,wait=off`, '-name', 't', '-incoming', 'tcp:1.2.3.4:5'];
    expect(remoteQemuArgv(argv, mon)).toEqual(['-m', '128M', '-name', 't', '-incoming', 'tcp:1.2.3.4:5', '-monitor', 'stdio']);
  });
  it('keeps other monitors, adds none without a monitor path', () => {
    const argv = ['-monitor', 'unix:/other,server=on,wait=off'];
    expect(remoteQemuArgv(argv, mon)).toEqual([...argv, '-monitor', 'stdio']);
    expect(remoteQemuArgv(argv)).toEqual(argv);
  });
  it('refuses what would take stdio from the monitor', () => {
    for (const bad of [['-serial', 'stdio'], ['-nographic'], ['-chardev', 'stdio,id=x'], ['-daemonize']]) {
      expect(() => remoteQemuArgv(bad, mon)).toThrow(/remote destination/);
    }
  });
});

describe('the remote wrapper (run locally in bash, a shell loop standing in for QEMU)', () => {
  // the stand-in prints its pid, then echoes what reaches its stdin; "quit" exits 3
  const fakeQemu = ['bash', '-c', 'echo "pid $$"; while IFS= read -r l; do echo "got:$l"; [ "$l" = quit ] && exit 3; done; echo eof'];
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const run = (timeoutSec: number, argv = fakeQemu) =>
    execa('bash', ['-c', REMOTE_WRAPPER, 'migdown-remote', String(timeoutSec), ...argv], { reject: false, stdin: 'pipe' });

  it('passes monitor lines to QEMU, ignores heartbeats, exits with QEMU', async () => {
    const p = run(5);
    p.stdin!.write('h\nminfo status\nh\nm\nmquit\n');
    const r = await p;
    expect(r.stdout.split('\n')).toEqual([expect.stringMatching(/^pid \d+$/), 'got:info status', 'got:', 'got:quit']);
    expect(r.exitCode).toBe(3);
  });

  it('EOF on its stdin (the session ended) stops QEMU', async () => {
    const p = run(30, ['bash', '-c', 'echo "pid $$"; exec sleep 60']);
    let pid = 0;
    p.stdout!.once('data', (d: Buffer) => (pid = Number(/pid (\d+)/.exec(d.toString())![1])));
    await new Promise((r) => setTimeout(r, 300));
    p.stdin!.end();
    const r = await p;
    expect(r.stderr).toMatch(/migdown-remote: migdown closed the connection; stopping QEMU/);
    expect(r.exitCode).toBe(143);
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
  });

  it('silence (a cut link) stops QEMU after the heartbeat timeout', async () => {
    const t0 = Date.now();
    const p = run(1, ['bash', '-c', 'echo "pid $$"; exec sleep 60']);
    const r = await p; // stdin stays open and silent
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.stderr).toMatch(/no word from migdown for 1 s/);
    expect(alive(Number(/pid (\d+)/.exec(r.stdout)![1]))).toBe(false);
    p.stdin?.destroy();
  });

  it('"t" and "k" signal QEMU', async () => {
    const p = run(30, ['bash', '-c', "trap '' TERM; echo \"pid $$\"; while :; do sleep 0.1; done"]);
    await new Promise((r) => setTimeout(r, 300));
    p.stdin!.write('t\n');
    await new Promise((r) => setTimeout(r, 500));
    p.stdin!.write('k\n');
    const r = await p;
    expect(r.exitCode).toBe(137);
    p.stdin?.destroy();
  });

  it('a QEMU that ignores SIGTERM is SIGKILLed 3 s later', async () => {
    const t0 = Date.now();
    const p = run(30, ['bash', '-c', "trap '' TERM; echo \"pid $$\"; while :; do sleep 0.1; done"]);
    await new Promise((r) => setTimeout(r, 300));
    p.stdin!.end();
    const r = await p;
    expect(r.exitCode).toBe(137);
    expect(Date.now() - t0).toBeGreaterThan(3000);
    expect(alive(Number(/pid (\d+)/.exec(r.stdout)![1]))).toBe(false);
  });

  it('SIGTERM to the wrapper stops QEMU', async () => {
    const p = run(30, ['bash', '-c', 'echo "pid $$"; exec sleep 60']);
    await new Promise((r) => setTimeout(r, 300));
    p.kill('SIGTERM');
    const r = await p;
    expect(r.stderr).toMatch(/got SIGTERM; stopping QEMU/);
    expect(alive(Number(/pid (\d+)/.exec(r.stdout)![1]))).toBe(false);
    p.stdin?.destroy();
  });

  it('a QEMU that cannot start is reported by the exit status', async () => {
    const r = await run(5, ['/nonexistent/qemu']);
    expect(r.exitCode).toBe(127);
  });
});

describe('preflight facts', () => {
  const sample = [
    'hostname=dst',
    'kernel=Linux 6.1.0-18-amd64',
    'cpus=8',
    'cpu=Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz',
    'memtotal_kb=16384000',
    'memavailable_kb=2097152',
    'bash=/usr/bin/bash',
    'setpriv=/usr/bin/setpriv',
    'qemu_path=/usr/bin/qemu-system-x86_64',
    'qemu_version=QEMU emulator version 8.2.2 (Debian 1:8.2.2+ds-0ubuntu1)',
    `qemu_sha256=${'ab'.repeat(32)}`,
    'kvm=ok',
    'end=1',
  ].join('\n');

  it('parses the facts script output', () => {
    const p = parseFacts(sample, 'qemu-system-x86_64');
    expect(p.complete).toBe(true);
    expect(p.qemuProblem).toBeUndefined();
    expect(p.facts).toEqual({
      host: { hostname: 'dst', kernel: 'Linux 6.1.0-18-amd64', cpus: 8, cpuModel: 'Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz', memBytes: 16384000 * 1024 },
      kvm: 'ok',
      memAvailableBytes: 2 * 1024 ** 3,
      bash: '/usr/bin/bash',
      setpriv: '/usr/bin/setpriv',
      qemu: {
        path: '/usr/bin/qemu-system-x86_64',
        version: '8.2.2',
        versionLine: 'QEMU emulator version 8.2.2 (Debian 1:8.2.2+ds-0ubuntu1)',
        sha256: 'ab'.repeat(32),
      },
    });
  });

  it('one line per problem', () => {
    const broken = sample.replace(/^qemu_path=.*$/m, 'qemu_path=').replace('kvm=ok', 'kvm=denied').replace(/^bash=.*$/m, 'bash=');
    const where = 'destination root@dst';
    const failures = evaluateFacts(where, parseFacts(broken, 'qemu-system-x86_64'), { accel: 'kvm', ramBytes: 4 * 1024 ** 3 });
    expect(failures).toEqual([
      'destination root@dst: qemu-system-x86_64 not found on its PATH (install qemu-system-x86 there, or pass --dest-qemu PATH)',
      'destination root@dst: bash not found (migdown\'s remote watchdog runs in bash)',
      'destination root@dst: /dev/kvm is not accessible to the SSH user (add it to the kvm group); use --accel tcg or fix KVM on the destination',
      'destination root@dst: only 2.0 GiB of memory available, the VM needs 4.0 GiB plus 256 MiB for QEMU',
    ]);
    // TCG needs no /dev/kvm; enough memory passes
    expect(evaluateFacts(where, parseFacts(sample, 'q'), { accel: 'tcg', ramBytes: 1024 ** 3 })).toEqual([]);
    expect(evaluateFacts(where, parseFacts(sample.replace('kvm=ok', 'kvm=missing'), 'q'), { accel: 'kvm', ramBytes: 1 })[0]).toMatch(
      /\/dev\/kvm does not exist/,
    );
  });

  it('a path that is not QEMU', () => {
    const p = parseFacts(sample.replace(/^qemu_version=.*$/m, 'qemu_version=hello'), '/bin/echo');
    expect(p.qemuProblem).toBe('/usr/bin/qemu-system-x86_64 does not look like QEMU (--version: hello)');
  });

  it('the facts script runs in a plain POSIX sh (dash) and parses', async () => {
    const r = await execa('sh', ['-c', factsScript('qemu-system-x86_64')], { reject: false });
    expect(r.exitCode).toBe(0);
    const p = parseFacts(r.stdout, 'qemu-system-x86_64');
    expect(p.complete).toBe(true);
    expect(p.facts.host.kernel).toMatch(/^Linux /);
    expect(p.facts.host.memBytes).toBeGreaterThan(0);
    expect(p.facts.memAvailableBytes).toBeGreaterThan(0);
    expect(['ok', 'missing', 'denied']).toContain(p.facts.kvm);
  });
});

describe('ssh stderr', () => {
  it('drops the known-hosts notice and finds the last line', () => {
    const text = "Warning: Permanently added '10.231.0.2' (ED25519) to the list of known hosts.\r\nTimeout, server 10.231.0.2 not responding.\n";
    expect(withoutSshNoise(text)).toBe('Timeout, server 10.231.0.2 not responding.\n');
    expect(lastLine(withoutSshNoise(text))).toBe('Timeout, server 10.231.0.2 not responding.');
  });
});
