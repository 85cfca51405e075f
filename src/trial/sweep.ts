// Sweeps, hyperfine-style: a list on the command line (`--ram 1G,2G`, `--dirty-rate 0,64`,
// `--downtime 0.01,0.3`, `--speed 0,100M`, `--smp 1,2`, `--param multifd-channels=2,4`,
// `--capability multifd=on,off`) or in a scenario's `sweep:` becomes one point per combination
// (the cartesian product, first option outermost), each run with the usual repetitions.
//
// A comma separates values. A migration parameter's value that itself holds a comma (a string
// parameter such as tls-authz or, in QEMU 10.2+, a cpr-exec-command list) writes it `\,`;
// `\\` is a backslash. Per-variant settings (--a-param, --variant-param) are never swept.

import { splitList } from '../util/list.js';

export type PointLabel = Record<string, string | number>;

export interface SweepPoint {
  /** what distinguishes this point, e.g. { ram: '2G', 'multifd-channels': '4' }; empty when nothing is swept */
  label: PointLabel;
  /** option values for this point, in commander's names */
  overrides: Record<string, string | string[]>;
}

/** Options a plain list sweeps; the label key is the option's name. */
const SWEEPABLE = [
  { option: 'ram', numeric: false },
  { option: 'dirtyRate', numeric: true },
  { option: 'downtime', numeric: false },
  { option: 'speed', numeric: false },
  { option: 'smp', numeric: true },
] as const;

/** One axis of the sweep: the values a label key takes, and how each sets the options. */
interface Axis {
  key: string;
  values: Array<{ label: string | number; apply: (o: Record<string, string | string[]>) => void }>;
}

/** `NAME=V1,V2` entries of a repeatable option: every entry resolved, the listed ones as axes. */
function listAxes(option: 'param' | 'capability', entries: string[]): { base: string[]; axes: Axis[] } {
  const base: string[] = [];
  const axes: Axis[] = [];
  entries.forEach((entry) => {
    const at = entry.indexOf('=');
    if (at <= 0) {
      base.push(entry); // not NAME=VALUE: resolveVmOptions says so
      return;
    }
    const name = entry.slice(0, at);
    const values = splitList(entry.slice(at + 1));
    const slot = base.length;
    base.push(`${name}=${values[0] ?? ''}`);
    if (values.length <= 1) return;
    axes.push({
      key: name,
      values: values.map((v) => ({
        label: v,
        apply: (o) => {
          const list = [...((o[option] as string[] | undefined) ?? base)];
          list[slot] = `${name}=${v}`;
          o[option] = list;
        },
      })),
    });
  });
  return { base, axes };
}

export function expandSweep(opts: Record<string, unknown>): SweepPoint[] {
  const axes: Axis[] = [];
  const fixed: Record<string, string | string[]> = {};
  for (const s of SWEEPABLE) {
    const raw = opts[s.option];
    if (typeof raw !== 'string') continue;
    const values = splitList(raw);
    if (values.length <= 1) continue;
    axes.push({
      key: s.option,
      values: values.map((v) => ({ label: s.numeric && /^\d+(\.\d+)?$/.test(v) ? Number(v) : v, apply: (o) => (o[s.option] = v) })),
    });
  }
  for (const option of ['param', 'capability'] as const) {
    const entries = opts[option];
    if (!Array.isArray(entries) || entries.length === 0) continue;
    const { base, axes: more } = listAxes(option, entries as string[]);
    fixed[option] = base; // escapes resolved even where nothing is swept
    axes.push(...more);
  }
  let points: SweepPoint[] = [{ label: {}, overrides: { ...fixed } }];
  for (const axis of axes) {
    points = points.flatMap((p) =>
      axis.values.map((v) => {
        const overrides = { ...p.overrides };
        v.apply(overrides);
        return { label: { ...p.label, [axis.key]: v.label }, overrides };
      }),
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
