// What a scenario file may say. Strict: an unknown key is an error (a typo must not silently
// fall back to a default). The JSON Schema for editors is generated from this
// (`npm run schema` writes scenarios/scenario.schema.json).

import { z } from 'zod';
import { HMP_NAME, hmpValueProblem } from '../qemu/hmp-safe.js';
import { parseDowntime, parseRamSize, parseSpeed } from '../util/units.js';

// Names and values go to the monitor: the same strict patterns as --param (src/qemu/hmp-safe.ts).
const paramValue = z
  .union([z.string(), z.number(), z.boolean()])
  .transform((v) => (typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v)))
  .superRefine((v, ctx) => {
    const problem = hmpValueProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
// Text a scenario shows (labels, descriptions, references) goes to terminals as it is.
const shownText = z.string().regex(/^[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*$/, 'control characters are not allowed in text that is shown');
const hmpName = z.string().regex(HMP_NAME, 'not a migration parameter or capability name (lowercase letters, digits and dashes)');

const size = z.union([z.string(), z.number()]).transform(String);

/**
 * A value checked by the parser its flag uses, so a bad one is reported at its field (vm.ram)
 * when the file is loaded, not later as a flag the user never typed.
 */
function checkedBy(parse: (text: string, option: string) => unknown) {
  return size.superRefine((text, ctx) => {
    try {
      parse(text, '');
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^: /, '') });
    }
  });
}
const ramSize = checkedBy(parseRamSize);
const speed = checkedBy(parseSpeed);
const downtime = checkedBy(parseDowntime);
const powerOfTwo = (n: number) => (n & (n - 1)) === 0;

export const GuestSchema = z
  .strictObject({
    kind: z.enum(['builtin', 'none', 'image']).default('builtin').describe('builtin: migdown\'s tiny payload; none: firmware only; image: a disk image'),
    touch: z.enum(['read', 'write', 'none']).optional().describe('how the builtin guest touches its RAM before migrating'),
    dirtyRate: z.number().nonnegative().optional().describe('MiB/s the builtin guest dirties during migration; 0 = idle'),
    workingSet: z.number().positive().optional().describe('MiB the builtin guest dirties'),
    heartbeat: z.number().min(0.1).max(60_000).optional().describe('heartbeat period, ms (whole µs, 0.1 ms or more)'),
    image: z.string().optional().describe('disk image, for kind: image'),
    readyPattern: z.string().optional().describe('regex on the serial console telling an image is up'),
    bootWait: z.number().positive().max(2_147_483).optional().describe('seconds to wait for an image to boot instead of readyPattern'),
  })
  .describe('the guest workload');

export const VmSchema = z.strictObject({
  ram: ramSize.optional().describe('QEMU -m syntax: 8G, 8192M, 512'),
  smp: z.number().int().positive().optional(),
  machine: z.string().optional().describe('QEMU -machine type, e.g. pc, q35'),
  accel: z.enum(['auto', 'kvm', 'tcg']).optional(),
  dirtyRing: z.number().int().min(1024).max(65536).refine(powerOfTwo, 'must be a power of two').optional().describe('KVM dirty ring size (entries); needs kernel and QEMU support'),
  firmware: z
    .string()
    .min(1)
    .optional()
    .describe('auto (qboot where the QEMU has it, else SeaBIOS), seabios, qboot, or the path of a firmware file for -bios; both sides boot the same'),
  guest: GuestSchema.optional(),
  args: z.array(z.string()).optional().describe('extra QEMU arguments for both sides'),
});

export const MigrationSchema = z.strictObject({
  speed: speed.optional().describe('bytes/s with K/M/G suffix; 0 = unlimited'),
  downtime: downtime.optional().describe('seconds as migrate_set_downtime takes them (0.01) or 10ms'),
  transport: z.enum(['tcp']).optional().describe('only tcp today'),
  capabilities: z.record(hmpName, z.boolean()).optional().describe('migrate_set_capability NAME on|off, on both sides'),
  parameters: z.record(hmpName, paramValue).optional().describe('migrate_set_parameter NAME VALUE, on both sides'),
  postcopy: z.boolean().optional().describe('switch to postcopy after the first pass (needs capabilities.postcopy-ram)'),
});

export const TrialsSchema = z.strictObject({
  runs: z.number().int().positive().optional(),
  warmup: z.number().int().nonnegative().optional(),
  order: z.enum(['alternate', 'shuffle']).optional(),
  timeout: z.number().positive().optional().describe('seconds before one migration is given up'),
});

export const BuildSchema = z
  .strictObject({
    source: z.string().min(1).describe('debian:7.2, debian:10.0, a QEMU source directory, or DIR@REF (relative to this file)'),
    patch: z.array(z.string().min(1)).optional().describe('patch files applied in order (relative to this file); {version} becomes 7.2, 10.0, ...'),
    revert: z.array(z.string().min(1)).optional().describe('patch files reverse-applied after the patches'),
    configure: z.array(z.string().min(1)).optional().describe('more configure arguments, e.g. --enable-slirp'),
  })
  .describe('build this variant\'s QEMU with migdown build (cached) instead of naming a binary');

export const VariantSchema = z
  .strictObject({
    label: shownText.min(1).regex(/^[^=]+$/, "a name without '='"),
    qemu: z.string().optional().describe('path, or ${ENV_VAR} to take it from the environment'),
    build: BuildSchema.optional(),
    args: z.array(z.string()).optional(),
    parameters: z.record(hmpName, paramValue).optional(),
  })
  .refine((v) => !(v.qemu && v.build), { message: 'a variant has either qemu or build, not both' });

export const ReferenceSchema = z.strictObject({
  source: shownText.min(1).describe('who published the figures, where'),
  url: shownText.optional(),
  metric: z.enum(['qemu-downtime', 'guest-downtime', 'total-time']).default('qemu-downtime'),
  values: z.record(shownText, z.number()).describe('variant label -> published value in ms'),
  note: shownText.optional(),
});

export const SweepSchema = z
  .strictObject({
    ram: z.array(ramSize).min(1).optional(),
    dirtyRate: z.array(z.number().nonnegative()).min(1).optional(),
    downtime: z.array(downtime).min(1).optional().describe('as migration.downtime: 0.01, 300ms'),
    speed: z.array(speed).min(1).optional().describe('as migration.speed: 0, 100M'),
    smp: z.array(z.number().int().positive()).min(1).optional(),
    parameters: z.record(hmpName, z.array(paramValue).min(1)).optional().describe('migrate_set_parameter NAME -> the values to sweep'),
    capabilities: z.record(hmpName, z.array(z.boolean()).min(1)).optional().describe('migrate_set_capability NAME -> [true, false]'),
  })
  .describe('every combination of these lists is one point (cartesian product)');

export const ScenarioSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes'),
  description: shownText.min(1),
  vm: VmSchema.default({}),
  migration: MigrationSchema.default({}),
  trials: TrialsSchema.default({}),
  variants: z.array(VariantSchema).min(1).optional().describe('one for run; two or more for compare, the first is the baseline the others are compared against'),
  sweep: SweepSchema.optional(),
  requires: z
    .array(z.enum(['multifd', 'postcopy', 'auto-converge', 'dirty-ring', 'kvm', 'tracepoints']))
    .optional()
    .describe('features checked before any VM starts; the scenario is skipped with a note where missing'),
  reference: z.array(ReferenceSchema).optional(),
});

export type Scenario = z.output<typeof ScenarioSchema>;
export type ScenarioBuild = z.output<typeof BuildSchema>;
export type ScenarioReference = z.output<typeof ReferenceSchema>;
