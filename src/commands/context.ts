// What every command gets from the boundary: where to write, whether to colour, and the
// signal that tells it a SIGINT/SIGTERM arrived.

import type { ChalkInstance } from 'chalk';

export interface CommandContext {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  chalk: ChalkInstance;
  /** chalk for stderr, which may be a terminal when stdout is not */
  chalkErr: ChalkInstance;
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
}

// Environment defaults, read from the context's env when a command is built or run (never at
// module load), so a test or an embedder can give each command its own environment.

/** The QEMU binary a --qemu option defaults to: env MIGDOWN_QEMU, else the one on PATH. */
export function defaultQemu(env: NodeJS.ProcessEnv): string {
  return env.MIGDOWN_QEMU ?? 'qemu-system-x86_64';
}

/** The KVM device probed for --accel: env MIGDOWN_KVM_DEVICE (tests point it elsewhere), else /dev/kvm. */
export function kvmDevice(env: NodeJS.ProcessEnv): string {
  return env.MIGDOWN_KVM_DEVICE || '/dev/kvm';
}
