// The one registry of the child processes migdown must not leave behind: every local QEMU,
// and every ssh session that carries a remote one. Each is registered from its start until it
// has exited, so the boundary in cli.ts can stop all of them on signals and errors
// (stopAllLive) and SIGKILL whatever is left from a synchronous 'exit' handler
// (killAllLiveSync). It lives in qemu/, the lowest layer that starts such a process.

import type { Readable } from 'node:stream';

/** What the registry needs of a process: its pid, how to signal it, when it is gone. */
export interface LiveProcess<Exit = unknown> {
  readonly pid: number | undefined;
  /** resolves (never rejects) when the process has exited */
  readonly exited: Promise<Exit>;
  /** set once the process has exited */
  readonly exitInfo?: Exit;
  /** must do nothing once the process has exited */
  kill(signal: NodeJS.Signals): void;
}

/** Each live process with how long stopAllLive gives it between SIGTERM and SIGKILL. */
const live = new Map<LiveProcess, number>();

/** Keep `proc` here until it exits. */
export function registerLive(proc: LiveProcess, termGraceMs: number): void {
  live.set(proc, termGraceMs);
  void proc.exited.then(() => live.delete(proc));
}

/** Processes started and not yet exited. */
export function liveProcessCount(): number {
  return live.size;
}

/** Has `proc` exited within `ms`? Resolves as soon as it has, or false after the deadline. */
export async function exitedWithin(proc: LiveProcess, ms: number): Promise<boolean> {
  if (proc.exitInfo) return true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const done = await Promise.race([proc.exited.then(() => true as const), timeout]);
  clearTimeout(timer);
  return done;
}

/** SIGTERM, then SIGKILL if `proc` is still there after `graceMs`; resolves once it is gone. */
export async function terminate<Exit>(proc: LiveProcess<Exit>, graceMs: number): Promise<Exit> {
  proc.kill('SIGTERM');
  if (!(await exitedWithin(proc, graceMs))) proc.kill('SIGKILL');
  return proc.exited;
}

/** Stop every process still running (the boundary calls this on signals and errors). */
export async function stopAllLive(): Promise<void> {
  await Promise.all([...live].map(([proc, graceMs]) => terminate(proc, graceMs)));
}

/** Last resort, usable from a synchronous 'exit' handler: SIGKILL every process still running. */
export function killAllLiveSync(): void {
  for (const proc of live.keys()) {
    try {
      if (proc.pid) process.kill(proc.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * The last 16 KiB a process wrote to `stream` (its stderr): what explains an early exit,
 * without letting a chatty process grow migdown's memory without bound.
 */
export function keepTail(stream: Readable | null | undefined, limit = 16_384): () => string {
  let text = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    text = (text + chunk).slice(-limit);
  });
  return () => text;
}
