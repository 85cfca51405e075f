// Reads the files host-noise.ts parses. Everything here fails soft: a host without /proc (not
// Linux) or a process that exits while we look just yields fewer facts, never an error.

import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import {
  governorsOf,
  otherQemuProcesses,
  parseLoadAvg,
  parseOwnTicks,
  parseProcStat,
  type HostNoise,
  type NoiseSample,
  type ProcEntry,
} from './host-noise.js';

const read = (file: string) => readFile(file, 'utf8').catch(() => undefined);

async function processes(): Promise<ProcEntry[]> {
  const names = await readdir('/proc').catch(() => [] as string[]);
  const entries = await Promise.all(
    names
      .filter((n) => /^\d+$/.test(n))
      .map(async (n) => {
        const [stat, cmdline] = await Promise.all([read(`/proc/${n}/stat`), read(`/proc/${n}/cmdline`)]);
        return stat === undefined || cmdline === undefined ? undefined : { pid: Number(n), stat, cmdline };
      }),
  );
  return entries.filter((e): e is ProcEntry => e !== undefined);
}

async function loadAvg(): Promise<[number, number, number]> {
  const parsed = parseLoadAvg((await read('/proc/loadavg')) ?? '');
  return parsed ?? (os.loadavg() as [number, number, number]);
}

export async function readHostNoise(): Promise<HostNoise> {
  const cpuDirs = (await readdir('/sys/devices/system/cpu').catch(() => [] as string[])).filter((d) => /^cpu\d+$/.test(d));
  const governorTexts = await Promise.all(cpuDirs.map((d) => read(`/sys/devices/system/cpu/${d}/cpufreq/scaling_governor`)));
  const [avg, procs, smt] = await Promise.all([loadAvg(), processes(), read('/sys/devices/system/cpu/smt/control')]);
  const governors = governorsOf(governorTexts.filter((t): t is string => t !== undefined));
  return {
    loadAvg: avg,
    cpus: os.cpus().length,
    otherQemus: otherQemuProcesses(procs, process.pid),
    ...(governors && { governors }),
    ...(smt?.trim() && { smt: smt.trim() }),
  };
}

/** One sample for trialNoise(): taken right before and right after a trial. */
export async function sampleNoise(): Promise<NoiseSample> {
  const [avg, procs, stat, self] = await Promise.all([loadAvg(), processes(), read('/proc/stat'), read('/proc/self/stat')]);
  const cpu = stat === undefined ? undefined : parseProcStat(stat);
  const ownTicks = self === undefined ? undefined : parseOwnTicks(self);
  return {
    loadAvg1: avg[0],
    otherQemus: otherQemuProcesses(procs, process.pid).length,
    ...(cpu && { cpu }),
    ...(ownTicks !== undefined && { ownTicks }),
    cpus: os.cpus().length,
  };
}
