// What migdown learns about a QEMU binary, the host it runs on and its monitor: produced by
// this layer (probe.ts, host-facts.ts, the HMP client) and recorded as plain data in results.

import type { KvmHostFacts } from './host-facts.js';

export type Accel = 'kvm' | 'tcg';

/** One QEMU binary as migdown found it. */
export interface QemuFacts {
  path: string;
  /** e.g. "7.2.22" */
  version: string;
  /** the whole first line of `--version` */
  versionLine: string;
  sha256?: string;
}

export interface HostFacts {
  hostname: string;
  cpuModel: string;
  kernel: string;
  memBytes: number;
  cpus: number;
  /** KVM MMU, THP and kernel: what decides how long stopping dirty logging takes */
  kvm?: KvmHostFacts;
}

/** One monitor command as sent, with what QEMU answered. */
export interface MonitorExchange {
  side: 'source' | 'destination';
  command: string;
  reply: string;
  /** ms since the trial started */
  atMs: number;
}
