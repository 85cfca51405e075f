// What a results file line may hold, checked on read: results files travel between people,
// and a line with the right kind but a wrong type ("reason": 5) must be one clear error, not
// a TypeError deep in a renderer. Objects are loose (a field added later within the same
// format version is kept and ignored); every field migdown reads has its type checked.

import { z } from 'zod';

/** The results format this migdown writes (`schemaVersion` in the header). Files without it are the 0.1 format. */
export const RESULTS_SCHEMA_VERSION = 1;
/** Versions this migdown reads: the 0.1 format (no field) has the same records as version 1. */
export const READABLE_SCHEMA_VERSIONS: ReadonlyArray<number | undefined> = [undefined, 1];

const num = z.number();
const str = z.string();
const opt = <T extends z.ZodType>(t: T) => t.optional();

const QemuFactsSchema = z.looseObject({ path: str, version: str, versionLine: str, sha256: opt(str) });
const HostFactsSchema = z.looseObject({ hostname: str, cpuModel: str, kernel: str, memBytes: num, cpus: num });

const MigrationInfoSchema = z
  .looseObject({
    status: opt(str),
    failureReason: opt(str),
    capabilities: opt(z.record(str, z.boolean())),
    globals: opt(z.record(str, str)),
    blocked: opt(z.array(str)),
    unknown: z.array(str).default([]),
  })
  // every other field of `info migrate` is a number
  .catchall(num);

const ProgressSampleSchema = z.looseObject({ atMs: num, status: opt(str) }).catchall(z.union([num, str]));

const GuestObservationSchema = z
  .looseObject({
    baselineGapMs: opt(z.looseObject({ median: num, p99: num, max: num, n: num })),
    note: opt(str),
  })
  .catchall(num);

const DeviceTimeSchema = z.looseObject({ idstr: str, instance: num, type: str, us: num });
const BreakdownSchema = z.looseObject({
  available: z.boolean(),
  sameHost: z.boolean(),
  clock: z.enum(['shared', 'per-side']),
  phases: z.array(z.looseObject({ from: str, to: str, startUs: num, durationMs: num, deviceUs: num })),
  checkpoints: z.array(z.looseObject({ name: str, side: z.enum(['source', 'destination']), atUs: num })),
  sourceDowntimeMs: opt(num),
  endToEndPauseMs: opt(num),
  topDevices: z.looseObject({ save: z.array(DeviceTimeSchema), load: z.array(DeviceTimeSchema) }),
  deviceTotalsUs: z.looseObject({ save: num, load: num }),
  dirtyLogStop: z.looseObject({
    inPause: opt(z.boolean()),
    startedAtMsRelativeToPauseStart: opt(num),
    atMsRelativeToPauseStart: opt(num),
    durationMs: opt(num),
    note: str,
  }),
  traceLinesInPause: opt(num),
  notes: z.array(str),
});

export const TrialRecordSchema = z.looseObject({
  kind: z.literal('trial'),
  runId: str,
  variant: str,
  index: z.number().int().nonnegative(),
  point: opt(z.record(str, z.union([str, num]))),
  warmup: z.boolean(),
  status: z.enum(['completed', 'failed', 'cancelled', 'timeout', 'error']),
  reason: opt(str),
  accel: z.enum(['kvm', 'tcg']),
  startedAt: str,
  wallMs: num,
  info: opt(MigrationInfoSchema),
  rawInfo: opt(str),
  destinationStatus: opt(str),
  guest: opt(GuestObservationSchema),
  breakdown: opt(BreakdownSchema),
  samples: z.array(ProgressSampleSchema).default([]),
  monitor: z.array(z.looseObject({ side: z.enum(['source', 'destination']), command: str, reply: str, atMs: num })).default([]),
  sourceArgv: z.array(str).default([]),
  destinationArgv: z.array(str).default([]),
  qemu: QemuFactsSchema,
});

export const RunHeaderSchema = z.looseObject({
  kind: z.literal('header'),
  schemaVersion: opt(z.number().int()),
  runId: str,
  command: z.enum(['run', 'compare']),
  migdownVersion: str,
  createdAt: str,
  host: HostFactsSchema,
  accel: z.enum(['kvm', 'tcg']),
  accelNote: opt(str),
  config: z
    .looseObject({
      ram: opt(str),
      ramBytes: opt(num),
      smp: opt(num),
      speed: opt(str),
      speedBytes: opt(num),
      downtime: opt(str),
      downtimeMs: opt(num),
      runs: opt(num),
      pollMs: opt(num),
      timeoutMs: opt(num),
      extraArgs: opt(z.array(str)),
      params: opt(z.record(str, str)),
      capabilities: opt(z.record(str, z.boolean())),
      postcopy: opt(z.boolean()),
      guest: opt(z.looseObject({ kind: str })),
      breakdown: opt(str),
      sweep: opt(z.array(z.record(str, z.union([str, num])))),
      reference: opt(z.array(z.looseObject({ source: str, metric: opt(str), values: z.record(str, num) }))),
      warmup: opt(num),
      order: opt(str),
      seed: opt(num),
      confidence: opt(num),
      options: opt(z.record(str, z.unknown())),
    })
    .catchall(z.unknown()),
  variants: z.array(z.looseObject({ label: str, qemu: QemuFactsSchema, extraArgs: z.array(str), params: z.record(str, str) })),
  destination: opt(z.looseObject({ target: str, host: HostFactsSchema, qemu: QemuFactsSchema })),
});

/** The first problem of a line as "field.path: message". */
export function describeRecordProblem(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const at = issue.path.length ? issue.path.map(String).join('.') : '(line)';
  return `${at}: ${issue.message}`;
}
