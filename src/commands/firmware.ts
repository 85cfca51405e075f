// --firmware for `run` and `compare`: one firmware for every binary and both sides of every
// trial, decided once the QEMUs are known (see src/qemu/firmware.ts for how).

import type { QemuFacts } from '../qemu/facts.js';
import { resolveFirmware, type Firmware } from '../qemu/firmware.js';
import { firmwareLabel } from '../util/firmware-label.js';
import type { RawVmOptions, VmOptions } from './vm-options.js';

export function firmwareFor(opts: Pick<RawVmOptions, 'firmware' | 'destHost'>, vm: VmOptions, qemus: QemuFacts[]): Promise<Firmware> {
  return resolveFirmware(opts.firmware ?? 'auto', {
    guest: vm.guest.kind,
    binaries: qemus.map((q) => q.path),
    extraArgs: vm.extraArgs,
    remote: Boolean(opts.destHost),
  });
}

/** "qboot", or "SeaBIOS (why)" when auto could not take qboot: for the line before trials. */
export function firmwareSummary(fw: Firmware): string {
  const name = firmwareLabel(fw)!;
  return fw.note && fw.requested === 'auto' ? `${name}: ${fw.note}` : name;
}
