// The variants of a `compare`, from either form of the command line:
//   two variants:  --qemu-a/--qemu-b, --label-a/-b, --a-arg/--b-arg, --a-param/--b-param
//   N variants:    --variant LABEL[=QEMU] (repeated, in order; the first is the baseline),
//                  --variant-arg LABEL=ARG, --variant-param LABEL=NAME=VALUE (repeatable)
// A label cannot contain '=', so everything after the first '=' is the variant's QEMU, taken
// as one opaque string: resolveVariantQemu is the one place that turns it into a binary.

import { UsageError } from '../errors.js';
import type { QemuFacts } from '../qemu/facts.js';
import { probeQemuAhead } from './probes.js';
import { parseParams } from './vm-options.js';

export interface RawVariantOptions {
  qemuA: string;
  qemuB: string;
  labelA: string;
  labelB: string;
  aArg: string[];
  bArg: string[];
  aParam: string[];
  bParam: string[];
  /** absent in the recorded options of migdown 0.1's compare */
  variant?: string[];
  variantArg?: string[];
  variantParam?: string[];
}

/** One variant as asked for, before its QEMU is looked at. */
export interface VariantSpec {
  label: string;
  /** the QEMU as the user wrote it (today a binary name or path) */
  qemu: string;
  /** the option it came from, for error messages */
  option: string;
  extraArgs: string[];
  params: Record<string, string>;
}

/** The options of the two-variant form, as commander names them (they conflict with --variant). */
export const TWO_VARIANT_KEYS = ['qemuA', 'qemuB', 'labelA', 'labelB', 'aArg', 'bArg', 'aParam', 'bParam'] as const;

const LABEL = /^[^=]+$/;

/** Split "LABEL=REST" at the first '='; the label must be one of `labels`. */
function byLabel(option: string, item: string, labels: string[], what: string): [string, string] {
  const at = item.indexOf('=');
  const label = at < 0 ? item : item.slice(0, at);
  if (at <= 0 || at === item.length - 1) throw new UsageError(`${option}: "${item}" is not LABEL=${what}`);
  if (!labels.includes(label)) throw new UsageError(`${option}: "${label}" is not a --variant label (they are: ${labels.join(', ')})`);
  return [label, item.slice(at + 1)];
}

/**
 * The variants, in order (the first is the baseline every other is compared against). Throws a
 * UsageError for a bad spec, a repeated label, fewer than two variants, or per-variant options
 * naming no variant.
 */
export function variantSpecs(opts: RawVariantOptions, defaultQemu: string): VariantSpec[] {
  const given = opts.variant ?? [];
  let specs: VariantSpec[];
  if (given.length === 0) {
    if ((opts.variantArg ?? []).length || (opts.variantParam ?? []).length) {
      throw new UsageError('--variant-arg and --variant-param need the variants named with --variant LABEL[=QEMU]');
    }
    specs = [
      { label: opts.labelA, qemu: opts.qemuA, option: '--qemu-a', extraArgs: opts.aArg, params: parseParams('--a-param', opts.aParam) },
      { label: opts.labelB, qemu: opts.qemuB, option: '--qemu-b', extraArgs: opts.bArg, params: parseParams('--b-param', opts.bParam) },
    ];
    if (opts.labelA === opts.labelB) throw new UsageError(`--label-a and --label-b are both "${opts.labelA}"; the table needs two names`);
    return specs;
  }
  specs = given.map((item) => {
    const at = item.indexOf('=');
    const label = (at < 0 ? item : item.slice(0, at)).trim();
    const qemu = at < 0 ? defaultQemu : item.slice(at + 1).trim();
    if (!LABEL.test(label) || label === '' || qemu === '') throw new UsageError(`--variant: "${item}" is not LABEL or LABEL=QEMU (e.g. --variant 7.2=/usr/bin/qemu-system-x86_64)`);
    return { label, qemu, option: `--variant ${label}`, extraArgs: [], params: {} };
  });
  const labels = specs.map((s) => s.label);
  const repeated = labels.find((l, i) => labels.indexOf(l) !== i);
  if (repeated !== undefined) throw new UsageError(`--variant: the label "${repeated}" is given twice; the table needs distinct names`);
  if (specs.length < 2) throw new UsageError(`--variant: ${specs.length} variant given; compare needs at least two (the first is the baseline)`);
  for (const item of opts.variantArg ?? []) {
    const [label, arg] = byLabel('--variant-arg', item, labels, 'ARG');
    specs.find((s) => s.label === label)!.extraArgs.push(arg);
  }
  for (const item of opts.variantParam ?? []) {
    const [label, param] = byLabel('--variant-param', item, labels, 'NAME=VALUE');
    Object.assign(specs.find((s) => s.label === label)!.params, parseParams('--variant-param', [param]));
  }
  return specs;
}

/** The one function that turns a variant's QEMU string into a probed binary. */
export function resolveVariantQemu(spec: VariantSpec, sharedArgs: readonly string[] = []): Promise<QemuFacts> {
  return probeQemuAhead(spec.qemu, spec.option, [...sharedArgs, ...spec.extraArgs]);
}
