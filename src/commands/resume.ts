// `compare --resume FILE`: a results file is someone's data, not a command. Its header records
// the options of the run (QEMU paths and arguments, --dest-host, --ssh-option, ...), and
// taking those as they are would run whatever the file says. So a resume runs only with the
// options given now: they must be the ones the file recorded, or the resume stops (exit 2)
// with the differences and the recorded command line, for the user to read and retype.

import type { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { shQuote } from '../remote/ssh.js';
import { visible } from '../util/visible.js';

/**
 * Options that do not change what is measured: where output goes, how it looks, the gates.
 * They come from this command line only; whatever the file says about them is ignored.
 */
const NOT_RECORDED = new Set(['format', 'json', 'quiet', 'resume', 'out', 'html', 'svg', 'maxDowntime', 'failIfRegression', 'scenario', 'seed']);

type Values = Record<string, unknown>;

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function optionFor(cmd: Command, key: string): Option | undefined {
  return cmd.options.find((o) => o.attributeName() === key);
}

/** An option's default; a lone `--no-x` defaults to true, as commander applies it. */
function defaultOf(opt: Option): unknown {
  return opt.negate && opt.defaultValue === undefined ? true : opt.defaultValue;
}

/** One option as command-line words, or none when it has its default. */
function words(opt: Option, value: unknown): string[] {
  const flag = opt.long ?? opt.short ?? '';
  if (same(value, defaultOf(opt))) return [];
  if (typeof value === 'boolean') return opt.negate ? (value ? [] : [flag]) : value ? [flag] : [];
  const list = Array.isArray(value) ? value : [value];
  return list.filter((v) => v !== undefined && v !== null).map((v) => `${flag}=${String(v)}`);
}

/** The command line a set of recorded options amounts to, quoted for a shell, escaped for a terminal. */
export function recordedCommandLine(cmd: Command, file: string, recorded: Values): string {
  const argv = ['migdown', 'compare', '--resume', file];
  for (const opt of cmd.options) {
    const key = opt.attributeName();
    if (NOT_RECORDED.has(key) || !(key in recorded)) continue;
    argv.push(...words(opt, recorded[key]));
  }
  return visible(argv.map(shQuote).join(' '), 2000);
}

/** What `recorded` and the effective options `now` disagree on, one phrase each (pure). */
export function resumeDifferences(cmd: Command, recorded: Values, now: Values): string[] {
  const out: string[] = [];
  const keys = new Set([...Object.keys(recorded), ...Object.keys(now)]);
  for (const key of keys) {
    if (NOT_RECORDED.has(key)) continue;
    const opt = optionFor(cmd, key);
    if (!opt) {
      if (key in recorded) out.push(`an option migdown does not have (${visible(key, 40)})`);
      continue;
    }
    // an option the file does not mention had its default when the file was written
    const then = key in recorded ? recorded[key] : defaultOf(opt);
    if (!same(then, now[key])) {
      out.push(`${opt.long} (recorded ${visible(JSON.stringify(then ?? null), 120)}, now ${visible(JSON.stringify(now[key] ?? null), 120)})`);
    }
  }
  if (now['seed'] !== undefined && recorded['seed'] !== undefined && String(now['seed']) !== String(recorded['seed'])) {
    out.push(`--seed (recorded ${visible(String(recorded['seed']), 20)}, now ${visible(String(now['seed']), 20)})`);
  }
  return out;
}

/**
 * Throws a UsageError unless the options of this command line (after any --scenario) are the
 * ones `file` recorded. The message shows the recorded command line; nothing from the file is
 * run, connected to or written to.
 */
export function assertResumeMatches(cmd: Command, file: string, recorded: unknown, now: Values): void {
  if (!recorded || typeof recorded !== 'object' || Array.isArray(recorded)) {
    throw new UsageError(`--resume: ${visible(file)} does not record its options`);
  }
  const diff = resumeDifferences(cmd, recorded as Values, now);
  if (diff.length === 0) return;
  throw new UsageError(
    `--resume: ${visible(file)} was recorded with other options; give the same ones to continue it ` +
      `(differs: ${diff.join('; ')}). Recorded, to check before you run it: ${recordedCommandLine(cmd, file, recorded as Values)}`,
  );
}

/**
 * The command line that continues this session: the same command (compare, or reproduce with
 * its scenario argument) and its own flags, as the user typed them.
 */
export function continueCommandLine(cmd: Command, file: string, now: Values): string {
  const argv = ['migdown', cmd.name(), ...cmd.args, '--resume', file];
  for (const opt of cmd.options) {
    const key = opt.attributeName();
    if (['resume', 'out'].includes(key) || cmd.getOptionValueSource(key) !== 'cli') continue;
    argv.push(...words(opt, now[key]));
  }
  return visible(argv.map(shQuote).join(' '), 2000);
}
