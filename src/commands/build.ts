// `migdown build SOURCE`: build qemu-system-x86_64 (from Debian's source package, a QEMU
// directory or a git ref), with patches applied or reverted, into the cache; print its path.
// The build with its progress is build-run.ts, shared with the `build:` specs of run and compare.

import { Command } from 'commander';
import { cacheRoot } from '../build/builder.js';
import { checkConfigureArg, formatBuildSpec, parseBuildSpec, type BuildSpec } from '../build/spec.js';
import { UsageError } from '../errors.js';
import { buildWithProgress } from './build-run.js';
import type { CommandContext } from './context.js';
import { addBisectOption, bisectExit } from './gates.js';
import { BUILD_SPEC_HELP } from './qemu-source.js';

export interface RawBuildOptions {
  ref?: string;
  configure: string[];
  defaultConfigure: boolean;
  jobs?: string;
  quiet?: boolean;
  json?: boolean;
  bisect?: boolean;
}

export function buildCommand(ctx: CommandContext, setResult: (p: Promise<number>) => void): Command {
  // --patch and --revert interleave in the order given, so they share one list.
  let steps: BuildSpec['steps'] = [];
  const step = (mode: 'patch' | 'revert') => (file: string) => {
    steps.push({ mode, file });
    return file;
  };
  const cmd = new Command('build')
    .description('build qemu-system-x86_64 from a Debian source package, a QEMU directory or a git ref, with patches; print its path')
    .argument('<source>', 'debian:VERSION (7.2, 10.0), a QEMU source directory, or DIR@REF; or a full build spec (see below)')
    .option('--ref <rev>', 'for a git checkout: build this commit, tag or branch from a clean export')
    .option('--patch <file>', 'apply a unified diff or git format-patch/mbox series (repeatable, in order)', step('patch'))
    .option('--revert <file>', 'reverse-apply a patch (repeatable, in order with --patch)', step('revert'))
    .option('--configure <arg>', 'one more configure argument, e.g. --configure=--enable-slirp (repeatable)', (v: string, p: string[]) => [...p, v], [])
    .option('--no-default-configure', 'drop the default configure flags (KVM+TCG x86_64-softmmu, log tracing, no docs); only --configure ones')
    .option('-j, --jobs <n>', 'parallel compile jobs (default: every core)')
    .option('--json', 'print the build record (path, key, source, patches, flags) as JSON instead of the path')
    .option('-q, --quiet', 'no progress on stderr');
  addBisectOption(cmd);
  cmd.addHelpText('after', BUILD_SPEC_HELP);
  return cmd.action((source: string, opts: RawBuildOptions) => {
    const mine = steps;
    steps = [];
    setResult(bisectExit(build(source, opts, mine, ctx), opts.bisect));
  });
}

/** Everything `build` does, from its argument and options. */
export interface BuildPlan {
  spec: BuildSpec;
  jobs?: number;
  /** false: --no-default-configure */
  defaultConfigure: boolean;
  json: boolean;
  quiet: boolean;
}

/** The plan of `build` (pure): the source with --ref, the --patch/--revert steps in order, --configure, --jobs. */
export function planBuild(source: string, opts: RawBuildOptions, steps: BuildSpec['steps']): BuildPlan {
  const parsed = parseBuildSpec(source);
  if (opts.ref !== undefined) {
    if (parsed.source.kind !== 'dir') throw new UsageError('--ref: only for a QEMU git checkout, not a Debian source');
    if (parsed.source.ref !== undefined) throw new UsageError(`--ref ${opts.ref}: the source already names a ref (${parsed.source.ref})`);
    parsed.source = parseBuildSpec(`${parsed.source.path}@${opts.ref}`).source;
  }
  const spec: BuildSpec = { ...parsed, steps: [...parsed.steps, ...steps], configure: [...parsed.configure, ...opts.configure.map(checkConfigureArg)] };
  const jobs = opts.jobs === undefined ? undefined : Number(opts.jobs);
  if (jobs !== undefined && !(Number.isInteger(jobs) && jobs > 0 && jobs <= 1024)) throw new UsageError(`--jobs: "${opts.jobs}" is not a positive whole number`);
  return { spec, ...(jobs !== undefined && { jobs }), defaultConfigure: opts.defaultConfigure !== false, json: Boolean(opts.json), quiet: Boolean(opts.quiet) };
}

async function build(source: string, opts: RawBuildOptions, steps: BuildSpec['steps'], ctx: CommandContext): Promise<number> {
  return buildPlanned(planBuild(source, opts, steps), ctx);
}

async function buildPlanned(plan: BuildPlan, ctx: CommandContext): Promise<number> {
  const { spec, jobs } = plan;
  const r = await buildWithProgress(spec, ctx, { quiet: plan.quiet, ...(!plan.defaultConfigure && { defaults: [] }), ...(jobs && { jobs }) });
  if (plan.json) ctx.stdout.write(`${JSON.stringify({ binary: r.binary, cached: r.cached, seconds: Math.round(r.seconds * 10) / 10, cache: cacheRoot(ctx.env), ...r.record, spec: formatBuildSpec(spec) }, null, 2)}\n`);
  else ctx.stdout.write(`${r.binary}\n`);
  return 0;
}
