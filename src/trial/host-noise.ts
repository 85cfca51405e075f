// What else the host was doing while migdown measured: load average, other QEMUs, the CPU
// frequency governor, SMT, and over each trial the steal time and the CPU other processes used.
// Pure parsing of /proc and /sys text, so it is tested on captured text; host-noise-read.ts
// does the reading. The judgement (how much noise matters) is in src/stats/noise.ts.

/** The host as a run found it, before its first trial (in the results header). */
export interface HostNoise {
  /** /proc/loadavg: runnable tasks averaged over 1, 5 and 15 minutes */
  loadAvg: [number, number, number];
  /** CPUs the kernel has online, to read the load against */
  cpus: number;
  /** qemu-system processes this migdown did not start (other users' or other tools' VMs) */
  otherQemus: Array<{ pid: number; name: string }>;
  /** cpufreq scaling governors in use, sorted, without repeats; absent where there is no cpufreq (most VMs) */
  governors?: string[];
  /** /sys/devices/system/cpu/smt/control: on, off, forceoff, notsupported or notimplemented */
  smt?: string;
}

/** The same facts over one trial, from a sample before it and one after it. */
export interface TrialNoise {
  /** 1-minute load average as the trial started (it still holds the previous trial's QEMUs: it decays over a minute) */
  loadAvg1: number;
  /** other qemu-system processes seen before or after the trial, the larger count */
  otherQemus: number;
  /** steal time over the trial, % of all CPU time: the hypervisor ran someone else on our CPUs */
  stealPct?: number;
  /** CPU time processes other than migdown and its QEMUs used over the trial, in CPUs (1 = one CPU busy throughout) */
  othersCpus?: number;
}

/** Cumulative CPU time in clock ticks (the first line of /proc/stat). */
export interface CpuTimes {
  /** every state, steal included */
  total: number;
  idle: number;
  steal: number;
}

/** What one process looks like in /proc/PID/stat and cmdline. */
export interface ProcEntry {
  pid: number;
  /** the text of /proc/PID/stat */
  stat: string;
  /** the text of /proc/PID/cmdline (NUL-separated arguments) */
  cmdline: string;
}

/** One moment's sample: taken before and after each trial. */
export interface NoiseSample {
  loadAvg1: number;
  otherQemus: number;
  cpu?: CpuTimes;
  /** this process's CPU time plus its reaped children's, clock ticks */
  ownTicks?: number;
  cpus: number;
}

export function parseLoadAvg(text: string): [number, number, number] | undefined {
  const [a, b, c] = text.trim().split(/\s+/).map(Number);
  return [a, b, c].every((v) => Number.isFinite(v)) ? [a!, b!, c!] : undefined;
}

/** The aggregate "cpu" line of /proc/stat: user nice system idle iowait irq softirq steal guest guest_nice. */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) return undefined;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  if (v.length < 4 || v.some((x) => !Number.isFinite(x))) return undefined;
  // guest and guest_nice are already counted in user and nice.
  const total = v.slice(0, 8).reduce((s, x) => s + x, 0);
  return { total, idle: (v[3] ?? 0) + (v[4] ?? 0), steal: v[7] ?? 0 };
}

/** Fields of /proc/PID/stat after "pid (comm)": comm may hold spaces and parentheses. */
function statFields(stat: string): string[] | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  return stat.slice(close + 2).trim().split(/\s+/);
}

/** utime + stime + cutime + cstime of /proc/PID/stat, clock ticks. */
export function parseOwnTicks(stat: string): number | undefined {
  const f = statFields(stat);
  // fields 14-17 of stat(5); statFields starts at field 3 (state)
  const ticks = f?.slice(11, 15).map(Number);
  return ticks && ticks.length === 4 && ticks.every(Number.isFinite) ? ticks.reduce((s, x) => s + x, 0) : undefined;
}

function parentOf(stat: string): number | undefined {
  const ppid = Number(statFields(stat)?.[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

/** A QEMU system emulator: argv[0] (or the program a loader runs) is named qemu-system-*. */
function qemuName(cmdline: string): string | undefined {
  const args = cmdline.split('\0').slice(0, 3);
  for (const a of args) {
    const base = a.slice(a.lastIndexOf('/') + 1);
    if (base.startsWith('qemu-system')) return base;
  }
  return undefined;
}

/**
 * qemu-system processes that are not this process's descendants (its own QEMUs) and not
 * zombies. `entries` is every process of /proc, so that ancestry can be followed.
 */
export function otherQemuProcesses(entries: ProcEntry[], selfPid: number): Array<{ pid: number; name: string }> {
  const parent = new Map<number, number | undefined>(entries.map((e) => [e.pid, parentOf(e.stat)]));
  const descendsFromSelf = (pid: number) => {
    for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 64; p = parent.get(p), hops++) {
      if (p === selfPid) return true;
    }
    return false;
  };
  const out: Array<{ pid: number; name: string }> = [];
  for (const e of entries) {
    const name = qemuName(e.cmdline);
    if (!name || statFields(e.stat)?.[0] === 'Z' || descendsFromSelf(e.pid)) continue;
    out.push({ pid: e.pid, name });
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** The distinct governors of cpufreq's scaling_governor files, sorted. */
export function governorsOf(texts: string[]): string[] | undefined {
  const g = [...new Set(texts.map((t) => t.trim()).filter(Boolean))].sort();
  return g.length ? g : undefined;
}

const round = (v: number, digits: number) => Number(v.toFixed(digits));

/** The trial's noise from the samples taken before and after it. */
export function trialNoise(before: NoiseSample, after: NoiseSample): TrialNoise {
  const noise: TrialNoise = { loadAvg1: before.loadAvg1, otherQemus: Math.max(before.otherQemus, after.otherQemus) };
  if (before.cpu && after.cpu) {
    const total = after.cpu.total - before.cpu.total;
    if (total > 0) {
      noise.stealPct = round((100 * Math.max(0, after.cpu.steal - before.cpu.steal)) / total, 2);
      if (before.ownTicks !== undefined && after.ownTicks !== undefined) {
        const busy = total - (after.cpu.idle - before.cpu.idle) - (after.cpu.steal - before.cpu.steal);
        const others = busy - (after.ownTicks - before.ownTicks);
        // ticks over all CPUs; one CPU's worth of the interval is total / cpus
        noise.othersCpus = round(Math.max(0, (others * Math.max(1, after.cpus)) / total), 2);
      }
    }
  }
  return noise;
}
