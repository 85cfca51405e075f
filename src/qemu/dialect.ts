// What differs between QEMU releases in the way migdown talks to them. Pure: decided from the
// `--version` line and, once a monitor is up, from the monitor's `help` listing, which is
// the authority (a distribution may backport or drop commands).
//
// Facts (see docs/qemu-versions.md and QEMU's hmp-commands.hx):
// - migrate_set_speed / migrate_set_downtime exist up to 5.2 (deprecated from 2.8) and are
//   gone in 6.0; migrate_set_parameter max-bandwidth / downtime-limit exist from 2.8.
// - migrate_set_speed reads a bare number as MB, and 2.x's max-bandwidth did too, so the
//   size is always sent with an explicit "B" suffix (every version's size parser takes it).
// - Bare boolean options such as `server,nowait` were deprecated in 6.0 in favour of
//   `server=on,wait=off`; `-accel` appeared in 2.9 (before: `-machine accel=`).

export interface QemuVersion {
  major: number;
  minor: number;
  micro: number;
}

export function parseQemuVersion(versionLine: string): QemuVersion | undefined {
  const m = /version\s+(\d+)\.(\d+)(?:\.(\d+))?/i.exec(versionLine);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), micro: Number(m[3] ?? 0) };
}

export function versionAtLeast(v: QemuVersion | undefined, major: number, minor = 0): boolean {
  if (!v) return true; // unknown (a git build prints odd versions): assume current QEMU
  return v.major > major || (v.major === major && v.minor >= minor);
}

export function versionString(v: QemuVersion | undefined): string {
  return v ? `${v.major}.${v.minor}.${v.micro}` : 'unknown';
}

export type ParameterStyle = 'legacy' | 'parameters';

export interface Dialect {
  version?: QemuVersion;
  parameterStyle: ParameterStyle;
  /** how -chardev/-monitor boolean flags are spelt */
  serverFlags: string;
  /** QEMU arguments selecting the accelerator */
  accelArgs(accel: 'kvm' | 'tcg', props?: string): string[];
  /** monitor commands that set the bandwidth limit (bytes/s, 0 = unlimited) */
  setSpeed(bytesPerSecond: number): string;
  /** monitor commands that set the allowed downtime (ms) */
  setDowntime(ms: number): string;
  /** does `info migrate` print durations as "milliseconds" (before 5.1) */
  millisecondsSpelledOut: boolean;
}

/** Names of the commands listed by the monitor's `help` (first word of each line). */
export function helpCommands(helpText: string): Set<string> {
  const names = new Set<string>();
  for (const line of helpText.split('\n')) {
    // help lines read "name|alias args -- description"
    const first = /^([a-z_][a-z0-9_|-]*)/i.exec(line.trim());
    first?.[1]?.split('|').forEach((n) => names.add(n));
  }
  return names;
}

/**
 * Pick the dialect. With `helpText`, the commands the monitor actually lists decide the
 * parameter style; without it, the version does.
 */
export function chooseDialect(versionLine: string, helpText?: string): Dialect {
  const version = parseQemuVersion(versionLine);
  let parameterStyle: ParameterStyle = versionAtLeast(version, 6, 0) ? 'parameters' : 'legacy';
  if (helpText !== undefined) {
    const cmds = helpCommands(helpText);
    if (cmds.has('migrate_set_speed') && cmds.has('migrate_set_downtime')) parameterStyle = 'legacy';
    else if (cmds.has('migrate_set_parameter')) parameterStyle = 'parameters';
  }
  const modernFlags = versionAtLeast(version, 6, 0);
  const hasAccelOption = versionAtLeast(version, 2, 9);
  return {
    version,
    parameterStyle,
    serverFlags: modernFlags ? 'server=on,wait=off' : 'server,nowait',
    accelArgs: (accel, props) =>
      hasAccelOption ? ['-accel', props ? `${accel},${props}` : accel] : ['-machine', `accel=${accel}`],
    setSpeed: (bytes) =>
      parameterStyle === 'legacy'
        ? `migrate_set_speed ${bytes === 0 ? '0' : `${bytes}B`}`
        : `migrate_set_parameter max-bandwidth ${bytes === 0 ? '0' : `${bytes}B`}`,
    setDowntime: (ms) =>
      parameterStyle === 'legacy'
        ? `migrate_set_downtime ${formatSeconds(ms)}`
        : `migrate_set_parameter downtime-limit ${Math.round(ms)}`,
    millisecondsSpelledOut: !versionAtLeast(version, 5, 1),
  };
}

/** 10 -> "0.01", 300 -> "0.3": the seconds a person would type at migrate_set_downtime. */
function formatSeconds(ms: number): string {
  return String(Number((ms / 1000).toFixed(6)));
}
