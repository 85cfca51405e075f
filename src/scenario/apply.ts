// A scenario supplies defaults; flags given on the command line win. Commander records where
// each option value came from, which is exactly the precedence rule: a value whose source is
// 'cli' (or 'env') is the user's, anything else may be replaced by the scenario's.

import type { Command } from 'commander';
import path from 'node:path';
import { formatBuildSpec, parseBuildSpec } from '../build/spec.js';
import { expandEnv } from './load.js';
import type { Scenario, ScenarioBuild } from './schema.js';
import { escapeListValue } from '../util/list.js';

/** Options a scenario can set, in commander's camelCase names, as strings like the CLI gives. */
export type ScenarioOptionValues = Record<string, string | string[] | boolean | undefined>;

const paramList = (p: Record<string, string> | undefined) => Object.entries(p ?? {}).map(([k, v]) => `${k}=${v}`);
/** The same for --param, where a comma would sweep: escaped. */
const sharedParamList = (p: Record<string, string> | undefined) => Object.entries(p ?? {}).map(([k, v]) => `${k}=${escapeListValue(v)}`);

/**
 * A variant's `build:` as a build spec string (what --qemu-a build:... takes), with its paths
 * resolved against the scenario file's directory. `source` replaces the scenario's own source
 * (migdown reproduce --source). Validated like any spec: a scenario is untrusted input.
 */
export function scenarioBuildSpec(build: ScenarioBuild, file: string, source = build.source): string {
  const dir = path.dirname(file);
  const parsed = parseBuildSpec(source);
  if (parsed.source.kind === 'dir' && source === build.source) parsed.source.path = path.resolve(dir, parsed.source.path);
  parsed.steps.push(...(build.patch ?? []).map((f) => ({ mode: 'patch' as const, file: path.resolve(dir, f) })));
  parsed.steps.push(...(build.revert ?? []).map((f) => ({ mode: 'revert' as const, file: path.resolve(dir, f) })));
  parsed.configure.push(...(build.configure ?? []));
  return formatBuildSpec(parseBuildSpec(formatBuildSpec(parsed)));
}

/** The scenario as option values for `run` (variants[0]) or `compare` (all its variants). */
export function scenarioOptionValues(s: Scenario, command: 'run' | 'compare', file: string, env: NodeJS.ProcessEnv): ScenarioOptionValues {
  const v: ScenarioOptionValues = {};
  const set = (key: string, value: string | string[] | boolean | undefined) => {
    if (value !== undefined) v[key] = value;
  };
  set('ram', s.vm.ram);
  set('smp', s.vm.smp?.toString());
  set('accel', s.vm.accel);
  set('firmware', s.vm.firmware);
  set('qemuArg', [...(s.vm.machine ? ['-machine', s.vm.machine] : []), ...(s.vm.args ?? [])]);
  set('speed', s.migration.speed);
  set('param', sharedParamList(s.migration.parameters));
  set('capability', Object.entries(s.migration.capabilities ?? {}).map(([k, on]) => `${k}=${on ? 'on' : 'off'}`));
  if (s.migration.postcopy) set('postcopy', true);
  set('dirtyRing', s.vm.dirtyRing?.toString());
  set('downtime', s.migration.downtime);
  set('runs', s.trials.runs?.toString());
  set('timeout', s.trials.timeout?.toString());
  const g = s.vm.guest;
  if (g) {
    set('guest', g.kind);
    set('touch', g.touch);
    set('dirtyRate', g.dirtyRate?.toString());
    set('workingSet', g.workingSet?.toString());
    set('heartbeat', g.heartbeat?.toString());
    set('image', g.image);
    set('readyPattern', g.readyPattern);
    set('bootWait', g.bootWait?.toString());
  }
  const variants = s.variants ?? [];
  if (command === 'run') {
    // With two variants, `run` measures the one QEMU it is given (--qemu) under the scenario's
    // settings, and shows every published figure beside that measurement.
    const only = variants.length === 1 ? variants[0] : undefined;
    if (only?.qemu) set('qemu', expandEnv(only.qemu, env, file));
    if (only?.build) set('qemu', scenarioBuildSpec(only.build, file));
    set('qemuArg', [...((v.qemuArg as string[]) ?? []), ...(only?.args ?? [])]);
    if (only?.parameters) set('param', [...((v.param as string[]) ?? []), ...sharedParamList(only.parameters)]);
  } else {
    set('warmup', s.trials.warmup?.toString());
    set('order', s.trials.order);
    if (variants.length > 2) {
      // More than two: the --variant form, in the scenario's order (the first is the baseline).
      set('variant', variants.map((x) => (x.qemu ? `${x.label}=${expandEnv(x.qemu, env, file)}` : x.label)));
      set('variantArg', variants.flatMap((x) => (x.args ?? []).map((arg) => `${x.label}=${arg}`)));
      set('variantParam', variants.flatMap((x) => paramList(x.parameters).map((p) => `${x.label}=${p}`)));
    }
    const [a, b] = variants.length > 2 ? [] : variants;
    // The same five options for A and for B, named by the side.
    const sides = [
      [a, { label: 'labelA', qemu: 'qemuA', args: 'aArg', params: 'aParam' }],
      [b, { label: 'labelB', qemu: 'qemuB', args: 'bArg', params: 'bParam' }],
    ] as const;
    for (const [v, key] of sides) {
      if (!v) continue;
      set(key.label, v.label);
      if (v.qemu) set(key.qemu, expandEnv(v.qemu, env, file));
      if (v.build) set(key.qemu, scenarioBuildSpec(v.build, file));
      set(key.args, v.args);
      set(key.params, paramList(v.parameters));
    }
  }
  // Sweeps become lists, the same syntax as --ram 1G,2G on the command line.
  const sw = s.sweep;
  for (const key of ['ram', 'dirtyRate', 'downtime', 'speed', 'smp'] as const) {
    if (sw?.[key]) set(key, sw[key].map((x) => escapeListValue(String(x))).join(','));
  }
  // Swept parameters and capabilities as NAME=V1,V2 entries after the scenario's fixed ones.
  const listed = (o: Record<string, string[]> | undefined) => Object.entries(o ?? {}).map(([k, vs]) => `${k}=${vs.map(escapeListValue).join(',')}`);
  if (sw?.parameters) set('param', [...((v.param as string[]) ?? []), ...listed(sw.parameters)]);
  if (sw?.capabilities) {
    const caps = Object.fromEntries(Object.entries(sw.capabilities).map(([k, vs]) => [k, vs.map((on) => (on ? 'on' : 'off'))]));
    set('capability', [...((v.capability as string[]) ?? []), ...listed(caps)]);
  }
  return v;
}

/**
 * Fill `opts` from the scenario wherever the user gave no flag. Repeatable options
 * (--qemu-arg and the like) get the scenario's values first, then the user's.
 */
export function applyScenario(cmd: Command, opts: Record<string, unknown>, values: ScenarioOptionValues): void {
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const source = cmd.getOptionValueSource(key);
    const given = source === 'cli' || source === 'env';
    if (Array.isArray(value)) {
      const current = (opts[key] as string[] | undefined) ?? [];
      // Variants named on the command line replace the scenario's rather than add to them.
      if (given && key === 'variant') continue;
      opts[key] = given ? [...value, ...current] : value;
    } else if (!given) {
      opts[key] = value;
    }
  }
}
