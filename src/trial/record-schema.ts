// The results file's records as zod schemas: the one definition that both validates records
// read back and generates schemas/results.schema.json (npm run schema) for CI and other tools.
// The TypeScript interfaces stay where the layers that produce them are (trial/types.ts, qemu/facts.ts, guest/types.ts,
// qemu/info-migrate.ts, trace/breakdown-types.ts, trial/host-noise.ts); the checks at the end make
// tsc fail when a schema and its interface name different fields or incompatible types.
//
// Objects are loose (unknown fields pass): a newer migdown may add fields without breaking
// readers of the same schemaVersion, which changes only when a field is removed, renamed or
// changes its meaning. zod loads only where this module is imported (not on a run's hot path).

import { TRIAL_PHASES } from './phases.js';
import { z } from 'zod';
import type { MigrationInfo } from '../qemu/info-migrate.js';
import type { BreakdownCheckpoint, BreakdownPhase, DeviceTime, DirtyLogStop, DowntimeBreakdown } from '../trace/breakdown.js';
import type { HostNoise, TrialNoise } from './host-noise.js';
import { RESULTS_SCHEMA_VERSION } from './results-version.js';
import type { ProgressSample, RunHeader, TrialRecord } from './types.js';
import type { HostFacts, MonitorExchange, QemuFacts } from '../qemu/facts.js';
import type { GuestObservation } from '../guest/types.js';

const ms = (what: string) => z.number().describe(`${what}, ms`);
const count = z.number().int().nonnegative();
const bytes = z.number().nonnegative();

export const QemuFactsSchema = z.looseObject({
  path: z.string(),
  version: z.string().describe('e.g. "7.2.22"'),
  versionLine: z.string().describe('the first line of --version'),
  sha256: z.string().optional(),
});

export const HostFactsSchema = z.looseObject({
  hostname: z.string(),
  cpuModel: z.string(),
  kernel: z.string(),
  memBytes: bytes,
  cpus: count,
  kvm: z
    .looseObject({
      kernel: z.string(),
      vendorModule: z.string().optional(),
      tdpMmu: z.string().optional(),
      eagerPageSplit: z.string().optional(),
      thpEnabled: z.string().optional(),
      thpDefrag: z.string().optional(),
    })
    .optional()
    .describe('KVM MMU, THP and kernel: what decides how long stopping dirty logging takes'),
});

export const HostNoiseSchema = z
  .looseObject({
    loadAvg: z.tuple([z.number(), z.number(), z.number()]).describe('/proc/loadavg over 1, 5 and 15 minutes'),
    cpus: count,
    otherQemus: z.array(z.looseObject({ pid: count, name: z.string() })).describe('qemu-system processes migdown did not start'),
    governors: z.array(z.string()).optional().describe('cpufreq scaling governors in use; absent without cpufreq'),
    smt: z.string().optional().describe('/sys/devices/system/cpu/smt/control'),
  })
  .describe('the host before the first trial');

export const TrialNoiseSchema = z
  .looseObject({
    loadAvg1: z.number().describe('1-minute load average as the trial started'),
    otherQemus: count.describe('other qemu-system processes before or after the trial'),
    stealPct: z.number().optional().describe('steal time over the trial, % of all CPU time'),
    othersCpus: z.number().optional().describe("CPU other processes used over the trial, in CPUs"),
  })
  .describe('what else the host did over the trial');

export const MigrationInfoSchema = z
  .looseObject({
    status: z.string().optional(),
    failureReason: z.string().optional(),
    totalTimeMs: ms('total time').optional(),
    downtimeMs: ms("QEMU's downtime").optional(),
    expectedDowntimeMs: ms('expected downtime').optional(),
    setupMs: ms('setup').optional(),
    transferredRamBytes: bytes.optional(),
    remainingRamBytes: bytes.optional(),
    totalRamBytes: bytes.optional(),
    throughputMbps: z.number().optional(),
    duplicatePages: z.number().optional(),
    skippedPages: z.number().optional(),
    normalPages: z.number().optional(),
    normalBytes: bytes.optional(),
    dirtySyncCount: z.number().optional(),
    pageSizeBytes: bytes.optional(),
    dirtyPagesRate: z.number().optional(),
    multifdBytes: bytes.optional(),
    pagesPerSecond: z.number().optional(),
    precopyRamBytes: bytes.optional(),
    downtimeRamBytes: bytes.optional(),
    postcopyRamBytes: bytes.optional(),
    postcopyRequests: z.number().optional(),
    remainingBytes: bytes.optional(),
    vfioBytes: bytes.optional(),
    zeroCopyFallbacks: z.number().optional(),
    capabilities: z.record(z.string(), z.boolean()).optional(),
    globals: z.record(z.string(), z.string()).optional(),
    blocked: z.array(z.string()).optional(),
    unknown: z.array(z.string()),
  })
  .describe('the final `info migrate`, parsed');

const PhaseSideSchema = z.enum(['source', 'destination', 'both']);
const SideSchema = z.enum(['source', 'destination']);

export const BreakdownPhaseSchema = z.looseObject({
  key: z.string(),
  name: z.string(),
  side: PhaseSideSchema,
  from: z.string(),
  to: z.string(),
  startUs: z.number(),
  durationMs: z.number(),
  deviceUs: z.number(),
});

export const BreakdownCheckpointSchema = z.looseObject({ name: z.string(), side: SideSchema, atUs: z.number() });
export const DeviceTimeSchema = z.looseObject({ idstr: z.string(), instance: z.number(), type: z.string(), us: z.number() });

export const DirtyLogStopSchema = z.looseObject({
  inPause: z.boolean().optional(),
  startedAtMsRelativeToPauseStart: z.number().optional(),
  atMsRelativeToPauseStart: z.number().optional(),
  durationMs: z.number().optional(),
  note: z.string(),
});

export const DowntimeBreakdownSchema = z
  .looseObject({
    available: z.boolean(),
    legacyPause: z
      .looseObject({ from: z.string(), to: z.string(), ms: z.number() })
      .optional()
      .describe('without checkpoints (QEMU < 8.2): the pause bracketed by run-state tracepoints'),
    sameHost: z.boolean(),
    clock: z.enum(['shared', 'per-side']),
    phases: z.array(BreakdownPhaseSchema),
    checkpoints: z.array(BreakdownCheckpointSchema),
    sourceDowntimeMs: z.number().optional(),
    endToEndPauseMs: z.number().optional(),
    vcpusStoppedAfterMs: z.number().optional(),
    topDevices: z.looseObject({ save: z.array(DeviceTimeSchema), load: z.array(DeviceTimeSchema) }),
    deviceTotalsUs: z.looseObject({ save: z.number(), load: z.number() }),
    dirtyLogStop: DirtyLogStopSchema,
    traceLinesInPause: z.number().optional(),
    notes: z.array(z.string()),
  })
  .describe("the pause's phases from QEMU's downtime tracepoints");

export const MonitorExchangeSchema = z.looseObject({ side: SideSchema, command: z.string(), reply: z.string(), atMs: z.number() });

export const ProgressSampleSchema = z.looseObject({
  atMs: z.number(),
  status: z.string().optional(),
  transferredRamBytes: bytes.optional(),
  remainingRamBytes: bytes.optional(),
  throughputMbps: z.number().optional(),
  dirtyPagesRate: z.number().optional(),
  expectedDowntimeMs: z.number().optional(),
  dirtySyncCount: z.number().optional(),
});

const BeatLossSchema = z.looseObject({ lost: count, merged: count });

const GapStatsSchema = z.looseObject({ median: z.number(), p99: z.number(), max: z.number(), n: count });

export const GuestObservationSchema = z.looseObject({
  observedDowntimeMs: ms('longest heartbeat gap across the switchover (guest-observed downtime)').optional(),
  baselineGapMs: GapStatsSchema.optional().describe('heartbeat gaps while nothing migrated: the noise floor, ms'),
  heartbeatPeriodMs: z.number().optional(),
  requestedDirtyRateMiBs: z.number().optional(),
  measuredDirtyRateMiBs: z.number().optional(),
  readyAfterMs: z.number().optional(),
  touchMs: z.number().optional(),
  note: z.string().optional(),
  beats: z
    .looseObject({
      source: BeatLossSchema,
      destination: BeatLossSchema,
      lastSourceSeq: z.number().optional(),
      firstDestinationSeq: z.number().optional(),
      unseenAcrossSwitchover: z.number().optional(),
      lastSourceChunkBeats: z.number().optional(),
      firstDestinationChunkBeats: z.number().optional(),
    })
    .optional()
    .describe("what the heartbeats' sequence numbers say (guest protocol 2)"),
});

const HugePagesSchema = z.looseObject({ anonHugePagesKiB: z.number() });

const AccelSchema = z.enum(['kvm', 'tcg']);
const PointSchema = z.record(z.string(), z.union([z.string(), z.number()])).describe('the sweep point, e.g. {"ram":"2G"}');

export const TrialRecordSchema = z
  .looseObject({
    kind: z.literal('trial'),
    runId: z.string(),
    variant: z.string().describe('the variant label; "run" for a plain run'),
    index: z.number().int().positive().describe("1-based among this variant's trials at this point"),
    point: PointSchema.optional(),
    warmup: z.boolean(),
    status: z.enum(['completed', 'failed', 'cancelled', 'timeout', 'error']),
    reason: z.string().optional(),
    accel: AccelSchema,
    startedAt: z.string(),
    wallMs: z.number(),
    info: MigrationInfoSchema.optional(),
    rawInfo: z.string().optional(),
    destinationStatus: z.string().optional(),
    guest: GuestObservationSchema.optional(),
    breakdown: DowntimeBreakdownSchema.optional(),
    samples: z.array(ProgressSampleSchema).optional(),
    noise: TrialNoiseSchema.optional(),
    phaseMs: z
      .partialRecord(z.enum(TRIAL_PHASES), z.number())
      .optional()
      .describe('milliseconds of the trial spent in each phase: boot, ready, configure, migrate, verify, stop'),
    hugePages: z
      .looseObject({ source: HugePagesSchema.optional(), destination: HugePagesSchema.optional() })
      .optional()
      .describe("each local QEMU's AnonHugePages right before migrate was sent"),
    clocks: z
      .looseObject({
        guestObservedMs: z.number(),
        tracedPauseMs: z.number(),
        differenceMs: z.number(),
        heartbeatPeriodMs: z.number(),
        honest: z.boolean(),
        flagged: z.boolean(),
        vcpusStoppedAfterMs: z.number().optional(),
        edgesReadOnTime: z.boolean().optional(),
      })
      .optional()
      .describe('guest-observed downtime against the traced pause, where the trial has both'),
    firmware: z
      .looseObject({ name: z.enum(['seabios', 'qboot', 'file']), path: z.string().optional() })
      .optional()
      .describe('what both QEMUs of this trial booted; absent: QEMU\'s default (files before --firmware)'),
    monitor: z.array(MonitorExchangeSchema),
    sourceArgv: z.array(z.string()),
    destinationArgv: z.array(z.string()),
    qemu: QemuFactsSchema,
  })
  .describe('one migration: every line after the header');

export const RunHeaderSchema = z
  .looseObject({
    kind: z.literal('header'),
    schemaVersion: z.literal(RESULTS_SCHEMA_VERSION).describe('the results format; files of migdown 0.1 have none'),
    runId: z.string(),
    command: z.enum(['run', 'compare']),
    migdownVersion: z.string(),
    createdAt: z.string(),
    host: HostFactsSchema,
    hostNoise: HostNoiseSchema.optional(),
    accel: AccelSchema,
    accelNote: z.string().optional(),
    config: z
      .looseObject({
        ram: z.string().optional(),
        ramBytes: z.number().optional(),
        smp: z.union([z.number(), z.string()]).optional().describe('vCPUs; a swept count is its list, e.g. "1,2"'),
        speed: z.string().optional(),
        speedBytes: z.number().optional(),
        downtime: z.string().optional(),
        downtimeMs: z.number().optional(),
        runs: z.number().optional(),
        pollMs: z.number().optional(),
        timeoutMs: z.number().optional(),
        extraArgs: z.array(z.string()).optional(),
        params: z.record(z.string(), z.string()).optional(),
        capabilities: z.record(z.string(), z.boolean()).optional(),
        postcopy: z.boolean().optional(),
        guest: z.looseObject({ kind: z.string() }).optional(),
        breakdown: z.string().optional(),
        sweep: z.array(z.record(z.string(), z.union([z.string(), z.number()]))).optional(),
        reference: z.array(z.looseObject({ source: z.string(), metric: z.string().optional(), values: z.record(z.string(), z.number()) })).optional(),
        warmup: z.number().optional(),
        order: z.string().optional(),
        seed: z.number().optional(),
        confidence: z.number().optional(),
        options: z.record(z.string(), z.unknown()).optional(),
      })
      .describe('what was asked for: the resolved options; the fields renderers read are typed, others kept as they are'),
    variants: z.array(
      z.looseObject({ label: z.string(), qemu: QemuFactsSchema, extraArgs: z.array(z.string()), params: z.record(z.string(), z.string()) }),
    ),
    destination: z.looseObject({ target: z.string(), host: HostFactsSchema, qemu: QemuFactsSchema }).optional(),
  })
  .describe('the first line of a run: what was asked for, on what machine');

/** One line of a results file, as migdown writes it (and as schemas/results.schema.json says). */
export const ResultLineSchema = z.discriminatedUnion('kind', [RunHeaderSchema, TrialRecordSchema]);

/**
 * A header as a reader accepts it: any schemaVersion (files of migdown 0.1 have none), so that
 * an unknown version is refused with its own message (results-read.ts), not as a bad field.
 */
export const ReadableHeaderSchema = RunHeaderSchema.extend({ schemaVersion: z.number().int().optional() });

/** One line as a reader accepts it: files of migdown 0.1 have no schemaVersion and are otherwise version 1. */
export const ReadableResultLineSchema = z.discriminatedUnion('kind', [
  RunHeaderSchema.extend({ schemaVersion: z.literal(RESULTS_SCHEMA_VERSION).optional() }),
  TrialRecordSchema,
]);

/** Versions this migdown reads: the 0.1 format (no field) has the same records as version 1. */
export const READABLE_SCHEMA_VERSIONS: ReadonlyArray<number | undefined> = [undefined, RESULTS_SCHEMA_VERSION];

/** The first problem of a line as "field.path: message". */
export function describeRecordProblem(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const at = issue.path.length ? issue.path.map(String).join('.') : '(line)';
  return `${at}: ${issue.message}`;
}

// ---------------------------------------------------------------------------------------------
// Kept in step with the interfaces: tsc fails here when a field is added to one and not the other.

/** The named keys of T (a loose object's output also has an index signature). */
type Named<T> = keyof { [K in keyof T as string extends K ? never : K]: T[K] };
type Differ<A, B> = Exclude<Named<A>, Named<B>> | Exclude<Named<B>, Named<A>>;
type SameKeys<A, B> = [Differ<A, B>] extends [never] ? true : { fieldsThatDiffer: Differ<A, B> };
type Out<S extends z.ZodType> = z.output<S>;
const inStep = <T extends true>(..._: T[]) => undefined;
inStep<SameKeys<Out<typeof QemuFactsSchema>, QemuFacts>>();
inStep<SameKeys<Out<typeof HostFactsSchema>, HostFacts>>();
inStep<SameKeys<Out<typeof HostNoiseSchema>, HostNoise>>();
inStep<SameKeys<Out<typeof TrialNoiseSchema>, TrialNoise>>();
inStep<SameKeys<Out<typeof MigrationInfoSchema>, MigrationInfo>>();
inStep<SameKeys<Out<typeof BreakdownPhaseSchema>, BreakdownPhase>>();
inStep<SameKeys<Out<typeof BreakdownCheckpointSchema>, BreakdownCheckpoint>>();
inStep<SameKeys<Out<typeof DeviceTimeSchema>, DeviceTime>>();
inStep<SameKeys<Out<typeof DirtyLogStopSchema>, DirtyLogStop>>();
inStep<SameKeys<Out<typeof DowntimeBreakdownSchema>, DowntimeBreakdown>>();
inStep<SameKeys<Out<typeof MonitorExchangeSchema>, MonitorExchange>>();
inStep<SameKeys<Out<typeof ProgressSampleSchema>, ProgressSample>>();
inStep<SameKeys<Out<typeof GuestObservationSchema>, GuestObservation>>();
inStep<SameKeys<Out<typeof TrialRecordSchema>, TrialRecord>>();
inStep<SameKeys<Out<typeof RunHeaderSchema>, RunHeader>>();
// and every value the schemas accept is one the interfaces allow
const _trial: z.ZodType<TrialRecord> = TrialRecordSchema;
const _header: z.ZodType<RunHeader> = RunHeaderSchema;
void _trial;
void _header;
