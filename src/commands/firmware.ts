// --firmware for `run` and `compare`: one firmware for every binary and both sides of every
// trial, decided once the QEMUs are known (see src/qemu/firmware.ts for how).

import type { QemuFacts } from '../qemu/facts.js';
import { resolveFirmware, type Firmware, type FirmwareRequest } from '../qemu/firmware.js';
import { firmwareLabel } from '../util/firmware-label.js';
import type { VmOptions } from './vm-plan.js';

export function firmwareFor(requested: FirmwareRequest, remote: boolean, vm: VmOptions, qemus: QemuFacts[]): Promise<Firmware> {
  return resolveFirmware(requested, {
    guest: vm.guest.kind,
    binaries: qemus.map((q) => q.path),
    extraArgs: vm.extraArgs,
    remote,
  });
}

/** "qboot", or "SeaBIOS (why)" when auto could not take qboot: for the line before trials. */
export function firmwareSummary(fw: Firmware): string {
  const name = firmwareLabel(fw)!;
  return fw.note && fw.requested === 'auto' ? `${name}: ${fw.note}` : name;
}
