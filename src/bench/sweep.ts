// Sweeps: a list on the command line (`--ram 1G,2G,4G`, `--dirty-rate 0,64,256`) or in a
// scenario becomes one point per combination, each run with the usual repetitions.

export type PointLabel = Record<string, string | number>;

export interface SweepPoint {
  /** what distinguishes this point, e.g. { ram: '2G' }; empty when nothing is swept */
  label: PointLabel;
  /** option values for this point, in commander's names */
  overrides: Record<string, string>;
}

const SWEEPABLE = [
  { option: 'ram', key: 'ram', numeric: false },
  { option: 'dirtyRate', key: 'dirtyRate', numeric: true },
] as const;

function split(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

export function expandSweep(opts: Record<string, unknown>): SweepPoint[] {
  let points: SweepPoint[] = [{ label: {}, overrides: {} }];
  for (const s of SWEEPABLE) {
    const values = split(opts[s.option] as string | undefined);
    if (values.length <= 1) continue;
    points = points.flatMap((p) =>
      values.map((v) => ({
        label: { ...p.label, [s.key]: s.numeric && /^\d+(\.\d+)?$/.test(v) ? Number(v) : v },
        overrides: { ...p.overrides, [s.option]: v },
      })),
    );
  }
  return points;
}

export function pointKey(label: PointLabel | undefined): string {
  if (!label || Object.keys(label).length === 0) return '';
  return Object.entries(label)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}
