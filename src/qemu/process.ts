// QEMU processes and their lifetime. Every QEMU migdown starts is registered in
// live-processes.ts and is gone before migdown exits, on every path:
// - the normal path stops it with `quit`, then SIGTERM, then SIGKILL after deadlines;
// - signals and exceptions reach the boundary in cli.ts, which stops all registered ones;
// - process 'exit' SIGKILLs whatever is still registered (synchronous, last resort);
// - where util-linux's setpriv exists, QEMU is started with PDEATHSIG=KILL, so even a
//   SIGKILL of migdown itself takes its QEMUs with it.

import { execa, type ResultPromise } from 'execa';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { HmpClient } from './hmp-client.js';
import { cachedProbeOutput } from './hash-cache.js';
import { exitedWithin, keepTail, registerLive, terminate } from './live-processes.js';

export interface QemuProcess {
  role: string;
  pid: number | undefined;
  /** QEMU's command line as it runs, binary first (a remote QEMU's as run on its host) */
  argv: string[];
  /** resolves (never rejects) when the process has exited */
  exited: Promise<ExitInfo>;
  exitInfo?: ExitInfo;
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
}

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** "exited with code 1", "killed by SIGKILL" */
  reason: string;
}

/** How long a QEMU gets between SIGTERM and SIGKILL. */
const TERM_GRACE_MS = 2000;

/** Does this `setpriv --help` list --pdeathsig? util-linux added it in 2.33. */
export function helpListsPdeathsig(helpText: string): boolean {
  return /(^|\s)--pdeathsig\b/m.test(helpText);
}

export interface DeathSignalSupport {
  /** the setpriv to run QEMU under; absent: QEMU runs without a parent-death signal */
  setpriv?: string;
  /** why not, when absent */
  reason?: string;
}

let deathSignal: DeathSignalSupport | undefined;

/** The first setpriv on PATH, then in the usual places. */
function findSetpriv(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/bin', '/bin'];
  return dirs.map((d) => path.join(d, 'setpriv')).find((p) => existsSync(p));
}

function judgeSetpriv(found: string, help: string): DeathSignalSupport {
  return helpListsPdeathsig(help) ? { setpriv: found } : { reason: `${found} has no --pdeathsig (util-linux before 2.33)` };
}

/**
 * Where setpriv with --pdeathsig is, found once per process: the first setpriv on PATH (then
 * the usual places), asked for its --help. A setpriv without the option (util-linux < 2.33)
 * would make every QEMU fail to start, so it is not used. Synchronous, since spawnQemu is;
 * commands ask prepareDeathSignal() first, and this then answers from memory.
 */
export function deathSignalSupport(): DeathSignalSupport {
  if (deathSignal) return deathSignal;
  const found = findSetpriv();
  if (!found) return (deathSignal = { reason: 'setpriv is not installed (util-linux)' });
  let help = '';
  try {
    help = execFileSync(found, ['--help'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    help = String((err as { stdout?: string }).stdout ?? '');
  }
  return (deathSignal = judgeSetpriv(found, help));
}

/**
 * deathSignalSupport() asked ahead, while other start-up work runs: the synchronous `setpriv
 * --help` blocked a command for 5-10 ms before its first QEMU. Its answer is remembered beside
 * setpriv's file identity, like a QEMU probe's.
 */
export async function prepareDeathSignal(): Promise<void> {
  if (deathSignal) return;
  const found = findSetpriv();
  if (!found) return;
  const { text } = await cachedProbeOutput(found, ['--help'], async () => {
    const r = await execa(found, ['--help'], { reject: false, stdin: 'ignore', timeout: 5000 });
    return { text: String(r.stdout), ok: r.exitCode === 0 };
  }).catch(() => ({ text: '' }));
  deathSignal ??= judgeSetpriv(found, text);
}

export function describeExit(code: number | null | undefined, signal: string | null | undefined): string {
  if (signal) return `killed by ${signal}`;
  if (code === 0) return 'exited normally';
  return `exited with code ${code ?? 'unknown'}`;
}

/**
 * The command line that runs `cmd` with PDEATHSIG=KILL where setpriv exists: the child dies
 * with migdown even when migdown is SIGKILLed. Used for QEMU and for ssh sessions alike.
 */
export function withDeathSignal(cmd: string[]): [string, string[]] {
  const { setpriv } = deathSignalSupport();
  const full = setpriv ? [setpriv, '--pdeathsig', 'KILL', '--', ...cmd] : cmd;
  return [full[0]!, full.slice(1)];
}

export function spawnQemu(role: string, binary: string, argv: string[], env?: Record<string, string>): QemuProcess {
  const [file, args] = withDeathSignal([binary, ...argv]);
  const child: ResultPromise = execa(file, args, {
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    // Own process group: a terminal's Ctrl-C reaches migdown only, which then stops QEMU
    // in order (quit, SIGTERM, SIGKILL) instead of racing QEMU's own SIGINT exit.
    detached: true,
    env,
  });
  const stderr = keepTail(child.stderr);
  const proc: QemuProcess = {
    role,
    pid: child.pid,
    argv: [binary, ...argv],
    exited: undefined as unknown as Promise<ExitInfo>,
    stderr,
    kill: (signal) => {
      if (!proc.exitInfo) child.kill(signal);
    },
  };
  proc.exited = child.then(
    (r) => {
      const sig = r.signal ?? null;
      const code = r.exitCode ?? null;
      proc.exitInfo = {
        code,
        signal: sig,
        // originalMessage ("spawn /x ENOENT") rather than shortMessage, which repeats the whole argv.
        reason: r.failed && code === undefined && !sig ? `could not start: ${r.originalMessage || r.shortMessage}` : describeExit(code, sig),
      };
      return proc.exitInfo;
    },
    (err: Error) => {
      proc.exitInfo = { code: null, signal: null, reason: `could not start: ${err.message}` };
      return proc.exitInfo;
    },
  );
  registerLive(proc, TERM_GRACE_MS);
  return proc;
}

/**
 * Stop a QEMU: monitor `quit` first (a clean exit), then SIGTERM, then SIGKILL, each after a
 * deadline. Resolves once the process is gone.
 */
export async function stopQemu(proc: QemuProcess, monitor?: HmpClient, graceMs = 3000): Promise<ExitInfo> {
  if (!proc.exitInfo && monitor && !monitor.isClosed) {
    monitor.sendQuit();
    await exitedWithin(proc, graceMs);
  }
  monitor?.close();
  return terminate(proc, TERM_GRACE_MS);
}

/** Why a QEMU that exited early failed: its own last stderr lines are the best explanation. */
export function exitExplanation(proc: QemuProcess): string {
  const lines = proc.stderr().trim().split('\n').filter(Boolean);
  const last = lines.slice(-3).join(' | ');
  return `${proc.role} QEMU ${proc.exitInfo?.reason ?? 'exited'}${last ? `: ${last}` : ''}`;
}
