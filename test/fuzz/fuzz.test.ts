// The fuzz harness (harness.ts) in two sizes: a few thousand seeded inputs in `npm test`, and
// `npm run fuzz` for 100,000 (FUZZ_INPUTS, FUZZ_SEED to replay). Plus the scaling of every
// parser on the inputs that made the old ones quadratic.

import { describe, expect, it } from 'vitest';
import { parseInfoMigrate, parseInfoStatus } from '../../src/qemu/info-migrate.js';
import { classifyReply, extractReply } from '../../src/qemu/hmp-framing.js';
import { parseTraceLog } from '../../src/trace/trace-log.js';
import { SerialParser } from '../../src/guest/heartbeat.js';
import { parseResults } from '../../src/trial/results-read.js';
import { parseDowntime, parseRamSize } from '../../src/util/units.js';
import { fuzz, growthRatio, TARGETS } from './harness.js';

const INPUTS = Number(process.env.FUZZ_INPUTS ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261203);

describe('fuzzing the pure parsers', () => {
  it(`${INPUTS} mutated fixtures (seed ${SEED}): no throw but the typed error, none over its time bound`, { timeout: Math.max(120_000, INPUTS * 20) }, () => {
    const report = fuzz(INPUTS, SEED);
    if (process.env.FUZZ_INPUTS) console.log(JSON.stringify({ seed: SEED, inputs: report.inputs, failures: report.failures.length, perTarget: report.perTarget }, null, 1));
    expect(report.failures).toEqual([]);
    expect(Object.keys(report.perTarget).sort()).toEqual(TARGETS.map((t) => t.name).sort());
  });
});

const ignore = (fn: () => unknown) => () => {
  try {
    fn();
  } catch {
    // only the time matters here
  }
};

describe('every parser is linear: 16 times the input takes well under 256 times as long', () => {
  // A linear parser gives ~16, a quadratic one ~256; 64 (growth exponent 1.5) leaves room for a
  // loaded machine and the garbage collector (the serial parser's ratio was once 28 at 8x).
  const LIMIT = 64;
  it.each([
    ['info migrate capabilities: a word without a colon', (n: number) => `capabilities: ${'a'.repeat(n)}`, (s: string) => parseInfoMigrate(s)],
    ['info migrate "(kib)" key with long blanks', (n: number) => `Sizes${' '.repeat(n)}x: 1`, (s: string) => parseInfoMigrate(s)],
    ['info migrate long number', (n: number) => `downtime: ${'1'.repeat(n)}!`, (s: string) => parseInfoMigrate(s)],
    ['info status: unclosed parentheses', (n: number) => `VM status: paused ${'('.repeat(n)}`, (s: string) => parseInfoStatus(s)],
    ['trace event with a long word', (n: number) => `1@1.1:vmstate_downtime_save ${'a'.repeat(n)}`, (s: string) => parseTraceLog(s)],
    ['trace log of many lines', (n: number) => '1@1.000001:vmstate_downtime_checkpoint src-downtime-start\n'.repeat(n / 50), (s: string) => parseTraceLog(s)],
    ['HMP reply with unclosed quotes on many lines', (n: number) => `x\r\n${"unknown command: '\r\n".repeat(n / 20)}(qemu) `, (s: string) => classifyReply(extractReply(s))],
    ['HMP reply full of escape sequences', (n: number) => `x\r\n${'\x1b[1;2'.repeat(n / 6)}(qemu) `, (s: string) => extractReply(s)],
    ['serial output', (n: number) => '.'.repeat(n), (s: string) => new SerialParser().feed(Buffer.from(s), 0)],
    ['results file with a long junk line', (n: number) => `{"kind":"trial"${' '.repeat(n)}`, (s: string) => parseResults(s)],
    ['units with long blanks', (n: number) => `1${' '.repeat(n)}!`, (s: string) => ignore(() => (parseRamSize(s), parseDowntime(s)))()],
  ])('%s', (_, make, run) => {
    expect(growthRatio(run, make, 20_000)).toBeLessThan(LIMIT);
  });
});
