// The probes every run and compare needs before its first trial (`--version` and the binary's
// hash, `-trace help`, `-L help`) are three QEMU processes that need only the binary's path:
// started together they cost the slowest one, not the sum, of every command's start-up.

import type { QemuFacts } from '../qemu/facts.js';
import { probeTracepoints } from '../qemu/features.js';
import { findQboot } from '../qemu/firmware.js';
import { probeQemu, which } from '../qemu/probe.js';
import { prepareDeathSignal } from '../qemu/process.js';

/**
 * probeQemu, with the tracepoint and firmware probes started alongside; their results are
 * cached, so the later calls (probeTracepoints, resolveFirmware) find them done.
 */
export async function probeQemuAhead(binary: string, option: string, extraArgs: readonly string[]): Promise<QemuFacts> {
  const facts = probeQemu(binary, option);
  void prepareDeathSignal();
  // Its rejection (a missing binary: exit 2) is the caller's, once awaited below; not unhandled meanwhile.
  facts.catch(() => undefined);
  const resolved = await which(binary);
  if (resolved) {
    // Failures surface (or not) where the results are used.
    probeTracepoints({ path: resolved }).catch(() => undefined);
    findQboot(resolved, extraArgs).catch(() => undefined);
  }
  return facts;
}
