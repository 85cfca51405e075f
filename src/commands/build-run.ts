// One QEMU build (or its cached binary) with its progress on stderr: what `migdown build` and a
// `build:` spec of run and compare (qemu-source.ts, which loads this only for a spec) both do.

import { buildQemu, type BuildResult } from '../build/builder.js';
import { etaSeconds, tenthOf, type BuildSpec } from '../build/spec.js';
import { buildProgressBar, buildProgressLine } from '../render/build-progress.js';
import { formatDuration, progressEnabled } from '../render/progress.js';
import type { CommandContext } from './context.js';

/** Write progress lines (or the live bar) for one build to stderr. */
function buildEvents(ctx: CommandContext, quiet: boolean | undefined) {
  const live = progressEnabled(ctx.stderr, { quiet }, ctx.env);
  const started = Date.now();
  let lastTenth = -1;
  let drawn = false;
  const clear = () => {
    if (drawn) ctx.stderr.write('\r\x1b[K');
    drawn = false;
  };
  return {
    log: (line: string) => {
      if (quiet) return;
      clear();
      ctx.stderr.write(`${line}\n`);
    },
    progress: (done: number, total: number) => {
      if (quiet) return;
      const elapsedMs = Date.now() - started;
      const eta = etaSeconds(done, total, elapsedMs / 1000);
      const state = { done, total, elapsedMs, ...(eta !== undefined && { etaMs: eta * 1000 }) };
      if (live) {
        ctx.stderr.write(`\r${buildProgressBar(state, (ctx.stderr as { columns?: number }).columns ?? 80)}\x1b[K`);
        drawn = true;
      } else {
        const tenth = tenthOf(done, total);
        if (tenth > lastTenth) {
          lastTenth = tenth;
          ctx.stderr.write(`${buildProgressLine(state)}\n`);
        }
      }
    },
    done: clear,
  };
}

/** Build (or find in the cache) one spec, showing progress on stderr. */
export async function buildWithProgress(spec: BuildSpec, ctx: CommandContext, opts: { quiet?: boolean; defaults?: string[]; jobs?: number } = {}): Promise<BuildResult> {
  const events = buildEvents(ctx, opts.quiet);
  try {
    const r = await buildQemu(spec, { env: ctx.env, signal: ctx.signal, ...(opts.defaults && { defaults: opts.defaults }), ...(opts.jobs && { jobs: opts.jobs }) }, events);
    events.done();
    events.log(r.cached ? `migdown: cached build ${r.binary} (${r.record.source})` : `migdown: built ${r.binary} in ${formatDuration(r.seconds * 1000)}`);
    return r;
  } finally {
    events.done();
  }
}
