// The destination QEMU on another host: one ssh session runs it under the remote wrapper
// (wrapper.ts), carries its monitor (monitor-bridge.ts) and its stderr, and is registered
// like a local QEMU (qemu/live-processes.ts), so every path that stops a local QEMU stops
// this one too.

import { execa, type ResultPromise } from 'execa';
import { constants as osConstants } from 'node:os';
import { keepTail, registerLive } from '../qemu/live-processes.js';
import { describeExit, withDeathSignal, type ExitInfo, type QemuProcess } from '../qemu/process.js';
import { formatTarget, type SshTarget } from './host-spec.js';
import { MonitorBridge, listenUnix } from './monitor-bridge.js';
import { sshCommand, withoutSshNoise, type SshOptions } from './ssh.js';
import { remoteQemuArgv, remoteWrapperCommand } from './wrapper.js';

export interface RemoteQemu extends QemuProcess {
  target: SshTarget;
  /** the local unix socket an HmpClient connects to (undefined: no monitor) */
  monitorPath?: string;
  /** QEMU's argv as run remotely (after remoteQemuArgv) */
  remoteArgv: string[];
  /** the local ssh command line */
  sshArgv: string[];
}

export interface StartRemoteOptions extends SshOptions {
  role?: string;
  /**
   * Local unix socket path for the monitor. A `-monitor unix:<monitorPath>,...` pair in
   * argv is replaced by `-monitor stdio`; without monitorPath, QEMU gets no monitor.
   */
  monitorPath?: string;
  /** the remote side stops QEMU after this long without a line from us; default 6 */
  heartbeatTimeoutSec?: number;
  /** default 1000 */
  heartbeatIntervalMs?: number;
  /** more ssh arguments for this session, e.g. `-R remote.sock:local.sock` for the guest's serial port */
  extraSshArgs?: string[];
}

/** How long the boundary gives a remote QEMU between SIGTERM and SIGKILL (the wrapper's own 3 s). */
const TERM_GRACE_MS = 3000;

const SIGNALS = osConstants.signals as unknown as Record<string, number>;

function exitReason(target: SshTarget, code: number | null, signal: string | null): string {
  if (signal) return `(ssh to ${formatTarget(target)}) killed by ${signal}`;
  if (code === 255) return `lost: ssh to ${formatTarget(target)} failed or its connection dropped (ssh exit 255)`;
  if (code !== null && code > 128 && code < 160) {
    const name = Object.entries(SIGNALS).find(([, n]) => n === code - 128)?.[0];
    return `killed by ${name ?? `signal ${code - 128}`}`;
  }
  if (code === 125) return 'could not start: the remote wrapper failed (see its message)';
  if (code === 127) return 'could not start: command not found on the destination';
  return describeExit(code, null);
}

/** The local ssh client of one remote wrapper, and the wrapper's line protocol on its stdin. */
interface WrapperSession {
  child: ResultPromise;
  stderr(): string;
  /** one protocol line; dropped once our end of the session is closed */
  sendLine(line: string): void;
  /** SIGTERM and the like: "t" to the wrapper; SIGKILL: "k", then close the session */
  signal(signal: NodeJS.Signals): void;
  /** the session has ended: no more lines, no pending kill */
  ended(): void;
  /** resolves (never rejects) with why the session ended */
  exit: Promise<ExitInfo>;
}

function openWrapperSession(target: SshTarget, sshArgv: string[]): WrapperSession {
  const [file, args] = withDeathSignal(sshArgv);
  const child: ResultPromise = execa(file, args, {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    // own process group, as for local QEMU: Ctrl-C reaches migdown only
    detached: true,
  });
  child.stdin?.on('error', () => undefined);
  const stderr = keepTail(child.stderr);
  let stdinOpen = true;
  let killTimer: NodeJS.Timeout | undefined;
  const sendLine = (line: string) => {
    if (stdinOpen && child.stdin && !child.stdin.destroyed) child.stdin.write(`${line}\n`);
  };
  const signal = (sig: NodeJS.Signals) => {
    if (sig === 'SIGKILL') {
      // the remote KILLs QEMU and exits; if the session cannot say so within 2 s, cut it:
      // the remote side then stops QEMU on EOF or, with the link down, on the heartbeat
      sendLine('k');
      stdinOpen = false;
      child.stdin?.end();
      killTimer ??= setTimeout(() => child.kill('SIGKILL'), 2000);
      killTimer.unref();
    } else if (stdinOpen) {
      sendLine('t');
    } else {
      child.kill('SIGTERM');
    }
  };
  const ended = () => {
    if (killTimer) clearTimeout(killTimer);
    stdinOpen = false;
  };
  const exit = child.then(
    (r): ExitInfo => {
      const code = typeof r.exitCode === 'number' ? r.exitCode : null;
      const sig = r.signal ?? null;
      const reason = r.failed && code === null && !sig ? `could not start ssh: ${r.shortMessage}` : exitReason(target, code, sig);
      return { code, signal: sig, reason };
    },
    (err: Error): ExitInfo => ({ code: null, signal: null, reason: `could not start ssh: ${err.message}` }),
  );
  return { child, stderr: () => withoutSshNoise(stderr()), sendLine, signal, ended, exit };
}

/**
 * Start QEMU on `target` through SSH. Resolves once the local side is set up (ssh started,
 * monitor socket listening); the remote QEMU may still be starting: connect an HmpClient to
 * `monitorPath` with `processExited: handle.exited`, exactly as for a local QEMU.
 */
export async function startRemoteQemu(target: SshTarget, qemuPath: string, argv: string[], opts: StartRemoteOptions = {}): Promise<RemoteQemu> {
  const remoteArgv = remoteQemuArgv(argv, opts.monitorPath);
  const hbTimeout = opts.heartbeatTimeoutSec ?? 6;
  const sshArgv = sshCommand(target, opts, remoteWrapperCommand(qemuPath, remoteArgv, hbTimeout), opts.extraSshArgs ?? []);
  const server = opts.monitorPath ? await listenUnix(opts.monitorPath) : undefined;
  const session = openWrapperSession(target, sshArgv);
  const bridge = new MonitorBridge(server, opts.monitorPath, (line) => session.sendLine(`m${line}`));
  session.child.stdout?.on('data', (chunk: Buffer) => bridge.fromQemu(chunk));
  session.child.stdout?.on('error', () => undefined);
  const heartbeat = setInterval(() => session.sendLine('h'), opts.heartbeatIntervalMs ?? 1000);
  heartbeat.unref();

  const proc: RemoteQemu = {
    role: opts.role ?? 'destination',
    pid: session.child.pid,
    argv: [qemuPath, ...remoteArgv],
    remoteArgv,
    sshArgv,
    target,
    ...(opts.monitorPath !== undefined && { monitorPath: opts.monitorPath }),
    exited: session.exit.then((info) => {
      proc.exitInfo = info;
      clearInterval(heartbeat);
      session.ended();
      bridge.close();
      return info;
    }),
    stderr: session.stderr,
    kill: (signal) => {
      if (!proc.exitInfo) session.signal(signal);
    },
  };
  registerLive(proc, TERM_GRACE_MS);
  return proc;
}
