// A seeded mutation fuzzer for migdown's pure parsers: every input QEMU, a guest, a results
// file or a scenario file can hand them. Inputs are the real captures in test/fixtures,
// mutated (bytes flipped, slices deleted, repeated or spliced from another fixture, characters
// the parsers treat specially inserted). A parser may return anything; it may throw only its
// own typed error (UsageError for values and files a user gave), and no input may take longer
// than a bound that grows with its length.
//
// Time is bounded robustly on a loaded machine: an input over the bound is run again three
// times and only fails if its fastest run is still over (a GC pause or a busy neighbour
// slows one run, a quadratic parser slows all of them). Scaling is tested apart, in
// fuzz.test.ts, by the ratio of two input sizes measured back to back.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseResults } from '../../src/trial/results-read.js';
import { UsageError } from '../../src/errors.js';
import { SerialParser, parseBanner, parseStatsLine } from '../../src/guest/heartbeat.js';
import { chooseDialect, helpCommands, parseQemuVersion } from '../../src/qemu/dialect.js';
import { classifyReply, extractReply, replyComplete } from '../../src/qemu/hmp-framing.js';
import { parseInfoMigrate, parseInfoStatus } from '../../src/qemu/info-migrate.js';
import { infoMigrateFromTranscript } from '../../src/qemu/transcript.js';
import { parseScenario } from '../../src/scenario/load.js';
import { mulberry32 } from '../../src/stats/compare.js';
import { computeBreakdown } from '../../src/trace/breakdown.js';
import { parseTraceLog } from '../../src/trace/trace-log.js';
import { parseDowntime, parseRamSize, parseSpeed } from '../../src/util/units.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const SCENARIOS = fileURLToPath(new URL('../../scenarios/', import.meta.url));

export interface Target {
  name: string;
  /** which fixture files seed this parser */
  seeds: (file: string) => boolean;
  run: (input: string) => unknown;
  /** the parser's own typed error, which it may throw */
  allowed?: (err: unknown) => boolean;
  /** time bound per input character, µs (default 20) */
  usPerChar?: number;
}

const usage = (err: unknown) => err instanceof UsageError;

export const TARGETS: Target[] = [
  { name: 'info-migrate', seeds: (f) => /info-migrate|info-status|dest-/.test(f) && f.endsWith('.txt'), run: (s) => (parseInfoMigrate(s), parseInfoStatus(s)) },
  { name: 'transcript', seeds: (f) => f.endsWith('.raw'), run: (s) => infoMigrateFromTranscript(s) },
  { name: 'hmp-framing', seeds: (f) => f.endsWith('.raw'), run: (s) => (replyComplete(s), classifyReply(extractReply(s))) },
  { name: 'trace-log', seeds: (f) => f.endsWith('.log'), run: (s) => (parseTraceLog(s), computeBreakdown(s, s, { sameHost: true })) },
  { name: 'help', seeds: (f) => /help|banner/.test(f), run: (s) => (helpCommands(s), parseQemuVersion(s), chooseDialect(s, s)) },
  {
    name: 'heartbeat',
    seeds: (f) => f.endsWith('.raw') || f.endsWith('.log'),
    run: (s) => {
      const p = new SerialParser();
      const events = [...p.feed(Buffer.from(s, 'latin1'), 0), ...p.flush(1)];
      for (const line of s.split('\n')) (parseBanner(line), parseStatsLine(line));
      return events;
    },
  },
  { name: 'results', seeds: (f) => f.endsWith('.jsonl'), run: (s) => parseResults(s) },
  // The yaml package takes up to ~20 µs a character on input dense with errors, more on a loaded
  // machine; the 64 KiB size limit is what bounds it (see parseScenario).
  { name: 'scenario', seeds: (f) => f.endsWith('.yaml'), run: (s) => parseScenario(s, 'fuzz.yaml'), allowed: usage, usPerChar: 200 },
  {
    name: 'units',
    seeds: (f) => f.endsWith('.yaml'),
    run: (s) => {
      const value = s.slice(0, 64);
      for (const parse of [parseRamSize, parseSpeed, parseDowntime]) {
        try {
          parse(value);
        } catch (err) {
          if (!usage(err)) throw err;
        }
      }
    },
  },
];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

export function corpusFor(target: Target): string[] {
  return [...walk(FIXTURES), ...walk(SCENARIOS)].filter(target.seeds).map((f) => readFileSync(f, 'latin1'));
}

/** The seeded generator of the statistics, so every run and every failure can be replayed. */
export const prng = mulberry32;

// What the parsers treat specially: separators, escapes, signs, exponents, brackets, prompts.
const SPECIAL = [':', '=', ',', '(', ')', '\n', '\r', '\r\n', ' ', '\t', '\x1b[', '\x1b[K', '\x1b[D', '-', '+', 'e999', '1e-999', 'NaN', '.', '(qemu) ', '@', '"', '{', '}', '[', ']', '&a', '*a', '#', '\\', '\u0000', '\x7f', '\u00ff', 'ms', 'KiB', 'on', 'off'];

export function mutate(input: string, rand: () => number, corpus: string[]): string {
  let s = input;
  const rounds = 1 + Math.floor(rand() * 4);
  for (let r = 0; r < rounds; r++) {
    const at = Math.floor(rand() * (s.length + 1));
    const len = Math.floor(rand() * Math.min(64, s.length - at + 1));
    switch (Math.floor(rand() * 7)) {
      case 0: // flip one character
        if (s.length) s = s.slice(0, at) + String.fromCharCode(Math.floor(rand() * 256)) + s.slice(at + 1);
        break;
      case 1: // insert a special token
        s = s.slice(0, at) + SPECIAL[Math.floor(rand() * SPECIAL.length)] + s.slice(at);
        break;
      case 2: // delete a slice (a cut capture)
        s = s.slice(0, at) + s.slice(at + len);
        break;
      case 3: {
        // repeat a slice many times: where a parser is superlinear, this is where it shows
        const times = 2 + Math.floor(rand() * 200);
        s = s.slice(0, at) + s.slice(at, at + len).repeat(times) + s.slice(at);
        break;
      }
      case 4: {
        // splice in part of another fixture
        const other = corpus[Math.floor(rand() * corpus.length)] ?? '';
        const from = Math.floor(rand() * (other.length + 1));
        s = s.slice(0, at) + other.slice(from, from + 1 + Math.floor(rand() * 512)) + s.slice(at);
        break;
      }
      case 5: // truncate (a killed writer)
        s = s.slice(0, at);
        break;
      default: // a long run of one character
        s = s.slice(0, at) + (SPECIAL[Math.floor(rand() * SPECIAL.length)] ?? 'a').repeat(1 + Math.floor(rand() * 4000)) + s.slice(at);
    }
  }
  return s;
}

export interface FuzzFailure {
  target: string;
  seed: number;
  iteration: number;
  kind: 'threw' | 'slow';
  detail: string;
  inputLength: number;
}

export interface FuzzReport {
  inputs: number;
  failures: FuzzFailure[];
  /** per target: inputs run and the slowest input's ms and length */
  perTarget: Record<string, { inputs: number; slowestMs: number; slowestLength: number }>;
}

/** A generous bound, linear in the input: 50 ms plus (by default) 20 µs per character. */
export function timeBoundMs(length: number, usPerChar = 20): number {
  return 50 + (length * usPerChar) / 1000;
}

function timed(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

export function fuzz(total: number, seed: number, targets: Target[] = TARGETS): FuzzReport {
  const report: FuzzReport = { inputs: 0, failures: [], perTarget: {} };
  const perTarget = Math.ceil(total / targets.length);
  for (const target of targets) {
    const corpus = corpusFor(target);
    if (corpus.length === 0) throw new Error(`no fixtures seed ${target.name}`);
    const rand = prng(seed ^ hash(target.name));
    const stats = { inputs: 0, slowestMs: 0, slowestLength: 0 };
    for (let i = 0; i < perTarget; i++) {
      const base = corpus[Math.floor(rand() * corpus.length)]!;
      const input = mutate(base, rand, corpus);
      let threw: unknown;
      const run = () => {
        try {
          target.run(input);
        } catch (err) {
          threw = err;
        }
      };
      let ms = timed(run);
      if (threw !== undefined && !(target.allowed?.(threw) ?? false)) {
        report.failures.push({ target: target.name, seed, iteration: i, kind: 'threw', detail: String((threw as Error)?.stack ?? threw).split('\n').slice(0, 3).join(' | '), inputLength: input.length });
      }
      const bound = timeBoundMs(input.length, target.usPerChar);
      if (ms > bound) {
        ms = Math.min(ms, timed(run), timed(run), timed(run));
        if (ms > bound) {
          report.failures.push({ target: target.name, seed, iteration: i, kind: 'slow', detail: `${ms.toFixed(1)} ms`, inputLength: input.length });
        }
      }
      if (ms > stats.slowestMs) Object.assign(stats, { slowestMs: ms, slowestLength: input.length });
      stats.inputs++;
      report.inputs++;
      if (report.failures.length >= 20) break;
    }
    report.perTarget[target.name] = stats;
  }
  return report;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * How the time of `run` grows from an input of size n to one of 8n: ~8 for a linear parser,
 * ~64 for a quadratic one. Fastest of five runs each, measured back to back.
 */
export function growthRatio(run: (input: string) => unknown, make: (n: number) => string, n: number, factor = 16): number {
  const best = (input: string) => Math.min(...Array.from({ length: 5 }, () => timed(() => void run(input))));
  const small = make(n);
  const large = make(factor * n);
  best(small); // warm up the JIT
  // A busy machine or a collection only ever makes one ratio larger: the smallest of three.
  return Math.min(...Array.from({ length: 3 }, () => best(large) / Math.max(best(small), 0.05)));
}
