// Before anything starts on a remote destination: does it answer over SSH, has it a QEMU,
// the accelerator, the memory, and can the source reach its migration port? Each problem is
// one line; the caller turns a non-empty list into a UsageError (exit 2).
//
// Everything but the port probe comes from one SSH command (a POSIX sh script run by the
// remote login shell); the same output gives the destination's facts for the results.

import { execa } from 'execa';
import net from 'node:net';
import { UsageError } from '../errors.js';
import type { Accel, HostFacts, QemuFacts } from '../qemu/facts.js';
import { parseQemuVersion, versionString } from '../qemu/dialect.js';
import { terminate } from '../qemu/live-processes.js';
import { formatTarget, migrationEndpoints, type MigrationEndpoints, type SshTarget } from './host-spec.js';
import { startRemoteQemu } from './remote-qemu.js';
import { lastLine, runRemote, shQuote, type SshOptions } from './ssh.js';

export interface RemoteFacts {
  host: HostFacts;
  /** undefined when the destination has no usable QEMU */
  qemu?: QemuFacts;
  kvm: 'ok' | 'missing' | 'denied' | 'unknown';
  memAvailableBytes?: number;
  bash?: string;
  setpriv?: string;
}

/** The facts script: one `key=value` line each. Runs in the remote login shell (POSIX sh). */
export function factsScript(qemuPath: string): string {
  return [
    `q=${shQuote(qemuPath)}`,
    'echo "hostname=$(uname -n)"',
    'echo "kernel=$(uname -sr)"',
    'echo "cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null)"',
    `echo "cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)"`,
    `sed -n -e 's/^MemTotal:[[:space:]]*\\([0-9]*\\) kB$/memtotal_kb=\\1/p' -e 's/^MemAvailable:[[:space:]]*\\([0-9]*\\) kB$/memavailable_kb=\\1/p' /proc/meminfo 2>/dev/null`,
    'echo "bash=$(command -v bash 2>/dev/null)"',
    'echo "setpriv=$(command -v setpriv 2>/dev/null)"',
    'qp=$(command -v "$q" 2>/dev/null)',
    'echo "qemu_path=$qp"',
    'if [ -n "$qp" ]; then',
    '  echo "qemu_version=$("$qp" --version 2>&1 | head -n 1)"',
    '  echo "qemu_sha256=$(sha256sum "$qp" 2>/dev/null | cut -d" " -f1)"',
    'fi',
    // what QEMU needs: /dev/kvm opened read-write
    'if [ ! -e /dev/kvm ]; then echo kvm=missing; elif (exec 3<>/dev/kvm) 2>/dev/null; then echo kvm=ok; else echo kvm=denied; fi',
    'echo end=1',
  ].join('\n');
}

export interface ParsedFacts {
  facts: RemoteFacts;
  /** the script ran to its end */
  complete: boolean;
  /** the QEMU path did not resolve or --version did not look like QEMU */
  qemuProblem?: string;
}

/** Parse the facts script's output (pure). */
export function parseFacts(stdout: string, qemuPath: string): ParsedFacts {
  const kv = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const num = (k: string) => {
    const v = kv.get(k);
    return v && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const memTotalKb = num('memtotal_kb');
  const memAvailKb = num('memavailable_kb');
  const kvmText = kv.get('kvm');
  const facts: RemoteFacts = {
    host: {
      hostname: kv.get('hostname') || 'unknown',
      cpuModel: kv.get('cpu') || 'unknown',
      kernel: kv.get('kernel') || 'unknown',
      memBytes: (memTotalKb ?? 0) * 1024,
      cpus: num('cpus') ?? 0,
    },
    kvm: kvmText === 'ok' || kvmText === 'missing' || kvmText === 'denied' ? kvmText : 'unknown',
    ...(memAvailKb !== undefined && { memAvailableBytes: memAvailKb * 1024 }),
    ...(kv.get('bash') && { bash: kv.get('bash') }),
    ...(kv.get('setpriv') && { setpriv: kv.get('setpriv') }),
  };
  let qemuProblem: string | undefined;
  const qp = kv.get('qemu_path');
  const versionLine = kv.get('qemu_version') ?? '';
  if (!qp) {
    qemuProblem = qemuPath.includes('/')
      ? `${qemuPath} does not exist or is not executable there`
      : `${qemuPath} not found on its PATH (install qemu-system-x86 there, or pass --dest-qemu PATH)`;
  } else {
    const version = parseQemuVersion(versionLine);
    if (!version) qemuProblem = `${qp} does not look like QEMU (--version: ${versionLine || 'no output'})`;
    else {
      const sha = kv.get('qemu_sha256');
      facts.qemu = { path: qp, version: versionString(version), versionLine, ...(sha && /^[0-9a-f]{64}$/.test(sha) && { sha256: sha }) };
    }
  }
  return { facts, complete: kv.get('end') === '1', ...(qemuProblem !== undefined && { qemuProblem }) };
}

export interface PreflightOptions extends SshOptions {
  /** default qemu-system-x86_64 */
  qemuPath?: string;
  accel: Accel;
  /** guest RAM */
  ramBytes: number;
  /** memory QEMU needs beyond the guest RAM; default 256 MiB */
  reserveBytes?: number;
  /** the migration port (ignored when migrateUri carries one) */
  port: number;
  migrateUri?: string;
  /** default 5000 */
  probeTimeoutMs?: number;
  /** skip the port probe (unit tests, or when the caller probes itself) */
  skipPortProbe?: boolean;
}

export interface PreflightResult {
  failures: string[];
  facts?: RemoteFacts;
  endpoints: MigrationEndpoints;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
function size(bytes: number): string {
  return bytes >= GiB ? `${(bytes / GiB).toFixed(1)} GiB` : `${Math.round(bytes / MiB)} MiB`;
}

/** The checks on the gathered facts (pure). */
export function evaluateFacts(where: string, parsed: ParsedFacts, opts: Pick<PreflightOptions, 'accel' | 'ramBytes' | 'reserveBytes'>): string[] {
  const failures: string[] = [];
  const { facts } = parsed;
  if (parsed.qemuProblem) failures.push(`${where}: ${parsed.qemuProblem}`);
  if (!facts.bash) failures.push(`${where}: bash not found (migdown's remote watchdog runs in bash)`);
  if (opts.accel === 'kvm' && facts.kvm !== 'ok') {
    const why =
      facts.kvm === 'missing'
        ? '/dev/kvm does not exist (no KVM there)'
        : facts.kvm === 'denied'
          ? `/dev/kvm is not accessible to the SSH user (add it to the kvm group)`
          : 'could not check /dev/kvm';
    failures.push(`${where}: ${why}; use --accel tcg or fix KVM on the destination`);
  }
  const need = opts.ramBytes + (opts.reserveBytes ?? 256 * MiB);
  if (facts.memAvailableBytes === undefined) {
    failures.push(`${where}: could not read MemAvailable from /proc/meminfo`);
  } else if (facts.memAvailableBytes < need) {
    failures.push(
      `${where}: only ${size(facts.memAvailableBytes)} of memory available, the VM needs ${size(opts.ramBytes)} plus ${size(need - opts.ramBytes)} for QEMU`,
    );
  }
  return failures;
}

/** Gather the destination's facts (one SSH command). Throws UsageError if SSH fails. */
export async function remoteHostFacts(target: SshTarget, opts: SshOptions & { qemuPath?: string }): Promise<ParsedFacts> {
  const qemuPath = opts.qemuPath ?? 'qemu-system-x86_64';
  const r = await runRemote(target, factsScript(qemuPath), opts);
  const where = `destination ${formatTarget(target)}`;
  if (r.timedOut) throw new UsageError(`${where} does not answer over SSH: no reply within ${(opts.connectTimeoutSec ?? 10) + 20} s`);
  if (r.sshFailed || r.exitCode === undefined) {
    throw new UsageError(`${where} does not answer over SSH: ${lastLine(r.stderr) || `ssh exited with code ${r.exitCode ?? 'unknown'}`}`);
  }
  const parsed = parseFacts(r.stdout, qemuPath);
  if (!parsed.complete) {
    throw new UsageError(`${where}: the facts script failed over SSH (${lastLine(r.stderr) || `exit ${r.exitCode}`}); is the login shell POSIX?`);
  }
  return parsed;
}

/** Try a TCP connect to host:port from this machine (or through opts.wrapper). */
export async function tcpConnect(host: string, port: number, timeoutMs: number, wrapper?: string[]): Promise<string | undefined> {
  if (wrapper?.length) {
    // in another network namespace: a one-off node does the connect there
    const script =
      "const net=require('net');const [h,p,t]=process.argv.slice(1);" +
      "const s=net.connect({host:h,port:Number(p)});s.setTimeout(Number(t),()=>{console.log('timed out after '+t+' ms');process.exit(1)});" +
      "s.on('connect',()=>{s.destroy();process.exit(0)});s.on('error',e=>{console.log(e.code||e.message);process.exit(1)})";
    const r = await execa(wrapper[0]!, [...wrapper.slice(1), process.execPath, '-e', script, host, String(port), String(timeoutMs)], {
      reject: false,
      timeout: timeoutMs + 10_000,
      stdin: 'ignore',
    });
    return r.exitCode === 0 ? undefined : String(r.stdout ?? '').trim() || lastLine(String(r.stderr ?? '')) || 'failed';
  }
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.setTimeout(timeoutMs, () => {
      s.destroy();
      resolve(`timed out after ${timeoutMs} ms`);
    });
    s.once('connect', () => {
      s.destroy();
      resolve(undefined);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/**
 * Is the migration port reachable from the source? A throw-away remote QEMU (`-machine none
 * -incoming ...`, under the same watchdog as the real one) listens exactly as the
 * destination will; we connect to it, and it exits ("not a migration stream").
 */
export async function probeMigrationPort(
  target: SshTarget,
  endpoints: MigrationEndpoints,
  opts: SshOptions & { qemuPath?: string; probeTimeoutMs?: number },
): Promise<string | undefined> {
  const qemuPath = opts.qemuPath ?? 'qemu-system-x86_64';
  const timeoutMs = opts.probeTimeoutMs ?? 5000;
  const where = `${endpoints.connectHost.includes(':') ? `[${endpoints.connectHost}]` : endpoints.connectHost}:${endpoints.port}`;
  const listener = await startRemoteQemu(
    target,
    qemuPath,
    ['-machine', 'none', '-nodefaults', '-no-user-config', '-display', 'none', '-S', '-name', 'migdown-port-probe', '-incoming', endpoints.incoming],
    { ...opts, role: 'port probe', heartbeatTimeoutSec: 10 },
  );
  try {
    // The listener needs the SSH login and QEMU's start-up first: retry refusals for a while.
    const deadline = Date.now() + (opts.connectTimeoutSec ?? 10) * 1000 + timeoutMs;
    const cannotListen = () => {
      const why = lastLine(listener.stderr().replace(/^migdown-remote:.*$/gm, '')).replace(/^[^:]*qemu[^:]*: /, '');
      return `destination ${formatTarget(target)}: QEMU cannot listen on ${endpoints.incoming}: ${why || listener.exitInfo?.reason}`;
    };
    let last = 'no attempt';
    for (;;) {
      if (listener.exitInfo) return cannotListen();
      const left = deadline - Date.now();
      if (left <= 0) break;
      const err = await tcpConnect(endpoints.connectHost, endpoints.port, Math.min(left, 2000), opts.wrapper);
      if (err === undefined) {
        // Something answered. It was our QEMU only if QEMU now gives up on the "stream"; a
        // QEMU that failed to bind means another program holds the port.
        await Promise.race([listener.exited, new Promise((r) => setTimeout(r, 3000))]);
        if (!listener.exitInfo) {
          return `migration port ${where}: a connection was accepted but did not reach the destination QEMU (another listener, NAT or a proxy?)`;
        }
        if (/Failed to bind|Address already in use|Cannot assign/i.test(listener.stderr())) return cannotListen();
        return undefined;
      }
      last = err;
      await Promise.race([listener.exited, new Promise((r) => setTimeout(r, 200))]);
    }
    return `migration port ${where} is not reachable from the source: ${last} (firewall? wrong --migrate-uri?)`;
  } finally {
    await terminate(listener, 3000);
  }
}

/**
 * All checks, before anything else starts. An empty `failures` means go; otherwise each entry
 * is one line for the user. SSH failing ends the checks early (nothing else can be asked).
 */
export async function preflightRemote(target: SshTarget, opts: PreflightOptions): Promise<PreflightResult> {
  const endpoints = migrationEndpoints(target, opts.port, opts.migrateUri);
  const where = `destination ${formatTarget(target)}`;
  let parsed: ParsedFacts;
  try {
    parsed = await remoteHostFacts(target, opts);
  } catch (err) {
    if (err instanceof UsageError) return { failures: [err.message], endpoints };
    throw err;
  }
  const failures = evaluateFacts(where, parsed, opts);
  if (!parsed.qemuProblem && parsed.facts.bash && !opts.skipPortProbe) {
    const portProblem = await probeMigrationPort(target, endpoints, { ...opts, qemuPath: parsed.facts.qemu?.path ?? opts.qemuPath });
    if (portProblem) failures.push(portProblem);
  }
  return { failures, facts: parsed.facts, endpoints };
}

/** preflightRemote, throwing one UsageError (one line per problem) unless all is well. */
export async function assertRemoteReady(target: SshTarget, opts: PreflightOptions): Promise<PreflightResult> {
  const r = await preflightRemote(target, opts);
  if (r.failures.length) throw new UsageError(r.failures.join('\n'));
  return r;
}
