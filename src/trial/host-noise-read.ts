// Reads the files host-noise.ts parses. Everything here fails soft: a host without /proc (not
// Linux) or a process that exits while we look just yields fewer facts, never an error.

import { readFileSync } from 'node:fs';
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

const readNow = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/**
 * Every process's stat and cmdline. Read synchronously on purpose: procfs answers from memory,
 * and 140 reads take about 1 ms this way against 20 ms through the thread pool, twice per trial
 * (bench figures in docs/benchmarks.md); nothing else is waiting between two trials.
 */
async function processes(): Promise<ProcEntry[]> {
  const names = await readdir('/proc').catch(() => [] as string[]);
  const entries: ProcEntry[] = [];
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    const stat = readNow(`/proc/${n}/stat`);
    const cmdline = stat === undefined ? undefined : readNow(`/proc/${n}/cmdline`);
    if (stat !== undefined && cmdline !== undefined) entries.push({ pid: Number(n), stat, cmdline });
  }
  return entries;
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
