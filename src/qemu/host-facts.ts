// The host facts that decide how long turning off dirty logging takes: it is KVM's work, not
// QEMU's alone. With the TDP MMU (two-dimensional paging) KVM zaps and rebuilds its mappings
// differently from shadow paging; eager page splitting decides whether huge pages were split
// when logging started, so whether they must be recovered when it stops; transparent huge pages
// decide whether there were huge pages to begin with (AnonHugePages of each QEMU), and the
// kernel version carries the huge-page recovery code. Read from /sys and /proc; every field is
// optional, since another OS or an older kernel has no such file.

import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';

export interface KvmHostFacts {
  /** `uname -r` */
  kernel: string;
  /** the KVM vendor module loaded: kvm_intel, kvm_amd, or another kvm_* (e.g. kvm_pvm); absent: none */
  vendorModule?: string;
  /** /sys/module/kvm/parameters/tdp_mmu: Y (TDP MMU) or N (shadow MMU for TDP too) */
  tdpMmu?: string;
  /** /sys/module/kvm/parameters/eager_page_split: Y or N */
  eagerPageSplit?: string;
  /** /sys/kernel/mm/transparent_hugepage/enabled, the selected value (always, madvise, never) */
  thpEnabled?: string;
  /** /sys/kernel/mm/transparent_hugepage/defrag, the selected value */
  thpDefrag?: string;
}

/** Huge pages of one QEMU at the moment it was told to migrate. */
export interface QemuHugePages {
  /** AnonHugePages of /proc/PID/smaps_rollup, KiB */
  anonHugePagesKiB: number;
}

/** "always [madvise] never" -> "madvise"; a file without brackets is taken whole. */
export function selectedSysfsChoice(text: string): string | undefined {
  const t = text.trim();
  if (!t) return undefined;
  return /\[([^\]]+)\]/.exec(t)?.[1] ?? t;
}

/** AnonHugePages in kB from the text of smaps_rollup (or smaps); undefined if absent. */
export function anonHugePagesOf(smapsRollup: string): number | undefined {
  const m = /^AnonHugePages:\s+(\d+)\s*kB/m.exec(smapsRollup);
  return m ? Number(m[1]) : undefined;
}

const VENDORS = ['kvm_intel', 'kvm_amd'];

/** The vendor module among /sys/module's entries: kvm_intel, kvm_amd, else another kvm_*. */
export function vendorModuleOf(modules: readonly string[]): string | undefined {
  const known = VENDORS.find((v) => modules.includes(v));
  if (known) return known;
  return modules.filter((m) => m.startsWith('kvm_')).sort()[0];
}

const readText = (file: string) => readFile(file, 'utf8').catch(() => undefined);

export async function readKvmHostFacts(sys = '/sys'): Promise<KvmHostFacts> {
  const [modules, tdp, eager, thp, defrag] = await Promise.all([
    readdir(`${sys}/module`).catch(() => [] as string[]),
    readText(`${sys}/module/kvm/parameters/tdp_mmu`),
    readText(`${sys}/module/kvm/parameters/eager_page_split`),
    readText(`${sys}/kernel/mm/transparent_hugepage/enabled`),
    readText(`${sys}/kernel/mm/transparent_hugepage/defrag`),
  ]);
  const facts: KvmHostFacts = { kernel: os.release() };
  const vendor = vendorModuleOf(modules);
  if (vendor) facts.vendorModule = vendor;
  const set = <K extends keyof KvmHostFacts>(k: K, v: string | undefined) => {
    if (v !== undefined && v !== '') facts[k] = v as KvmHostFacts[K];
  };
  set('tdpMmu', tdp?.trim());
  set('eagerPageSplit', eager?.trim());
  set('thpEnabled', thp && selectedSysfsChoice(thp));
  set('thpDefrag', defrag && selectedSysfsChoice(defrag));
  return facts;
}

/** One QEMU's huge pages now; undefined when /proc cannot tell (not Linux, process gone). */
export async function readQemuHugePages(pid: number | undefined): Promise<QemuHugePages | undefined> {
  if (!pid) return undefined;
  const text = await readText(`/proc/${pid}/smaps_rollup`);
  const kib = text === undefined ? undefined : anonHugePagesOf(text);
  return kib === undefined ? undefined : { anonHugePagesKiB: kib };
}

/** "kvm_pvm, tdp_mmu=N, eager_page_split=Y, THP madvise/madvise, kernel 6.1.0" */
export function shortKvmHostFacts(f: KvmHostFacts | undefined): string | undefined {
  if (!f) return undefined;
  const parts = [
    f.vendorModule ?? 'no KVM module',
    ...(f.tdpMmu !== undefined ? [`tdp_mmu=${f.tdpMmu}`] : []),
    ...(f.eagerPageSplit !== undefined ? [`eager_page_split=${f.eagerPageSplit}`] : []),
    ...(f.thpEnabled !== undefined ? [`THP ${f.thpEnabled}${f.thpDefrag !== undefined ? `/${f.thpDefrag}` : ''}`] : []),
    `kernel ${f.kernel}`,
  ];
  return parts.join(', ');
}
