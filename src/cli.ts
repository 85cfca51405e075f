// The command table and the one error boundary. Every command is a module in commands/;
// every error, signal and exit code is decided here and nowhere else.

import { Command, CommanderError } from 'commander';
import { BisectSkip, BuildFailed, CouldNotMeasure, EXIT, Interrupted, RuntimeFailure, UsageError } from './errors.js';
// Every QEMU and ssh session a command starts is registered there: stopped on signals and
// errors, killed on exit. The module loads nothing else, so even `report` can afford it.
import { killAllLiveSync, stopAllLive } from './qemu/live-processes.js';
import { colorEnabled, makeChalk } from './render/style.js';
import { MIGDOWN_VERSION } from './version.js';
import type { CommandContext } from './commands/context.js';

const EXIT_CODES_HELP = `
Exit codes:
  0    every migration completed (and every gate passed)
  1    could not measure: a migration failed or timed out, QEMU died or would not start
  2    bad input: an option, a file, a missing QEMU or KVM, a build spec, a patch that does not
       apply, missing build dependencies; nothing was measured
  3    measured, and a gate (--max-downtime, --fail-if-regression) tripped
  4    a QEMU build failed (its log stays in the cache; the last compiler errors are shown)
  125  with --bisect, instead of 1 or 4: git bisect run skips the commit
  130  interrupted by SIGINT (Ctrl-C); finished trials are kept in the results file
  129, 143  interrupted by SIGHUP or SIGTERM; likewise

Environment: MIGDOWN_QEMU (default QEMU binary), NO_COLOR, FORCE_COLOR, MIGDOWN_DEBUG=1 (stack traces).`;

/** After a signal, how long a command may take to print what it has and finish on its own. */
const SIGNAL_GRACE_MS = 5000;

type CommandFactory = (ctx: CommandContext, setResult: (p: Promise<number>) => void) => Command;

/**
 * The flat command table. Each module is imported only when its command is used (or for the
 * top-level help): a command's start-up time is then its own dependencies', not everyone's.
 */
const COMMANDS: Record<string, () => Promise<CommandFactory>> = {
  run: async () => (await import('./commands/run.js')).runCommand,
  compare: async () => (await import('./commands/compare.js')).compareCommand,
  report: async () => (await import('./commands/report.js')).reportCommand,
  scenarios: async () => (await import('./commands/scenarios.js')).scenariosCommand,
  parse: async () => (await import('./commands/parse.js')).parseCommand,
  doctor: async () => (await import('./commands/doctor.js')).doctorCommand,
  build: async () => (await import('./commands/build.js')).buildCommand,
  reproduce: async () => (await import('./commands/reproduce.js')).reproduceCommand,
};

/** The factories needed for this argv: the named command's, or all of them for help. */
async function factoriesFor(argv: string[]): Promise<CommandFactory[]> {
  const args = argv.slice(2);
  const name = args.find((a) => !a.startsWith('-'));
  if (name && name in COMMANDS) return [await COMMANDS[name]!()];
  if (!name && args.length > 0 && args.every((a) => a === '--version' || a === '-V')) return [];
  return Promise.all(Object.values(COMMANDS).map((load) => load()));
}

export function buildProgram(ctx: CommandContext, setResult: (p: Promise<number>) => void, factories: CommandFactory[]): Command {
  const program = new Command('migdown')
    .description('Reproduce QEMU live-migration downtime claims on real QEMU')
    .version(MIGDOWN_VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
      // One line, prefixed like every other migdown error.
      outputError: (s, write) => write(`migdown: ${s.replace(/^error: /, '')}`),
    })
    .addHelpText('after', EXIT_CODES_HELP);
  for (const factory of factories) {
    const cmd = factory(ctx, setResult);
    // addCommand does not pass on exitOverride/configureOutput the way .command() does.
    cmd.copyInheritedSettings(program);
    cmd.addHelpText('after', EXIT_CODES_HELP);
    program.addCommand(cmd);
  }
  return program;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: EXIT.sigint, SIGTERM: EXIT.sigterm, SIGHUP: EXIT.sighup };

/**
 * A first SIGINT, SIGTERM or SIGHUP aborts the command (which then prints what it has); a
 * second kills every QEMU at once and leaves. Returns the function that removes the handlers.
 */
function handleSignals(controller: AbortController): () => void {
  const onSignal = (signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP') => {
    if (controller.signal.aborted) {
      // Second signal: the user means it. Kill without ceremony and leave.
      killAllLiveSync();
      process.exit(SIGNAL_EXIT[signal]);
    }
    controller.abort(new Interrupted(signal));
    // Every command watches the signal, but a file system call that never returns cannot:
    // once the QEMUs are stopped and a grace period has passed, leave anyway.
    // process.exit() would wait for that call's thread and hang too, so the signal is raised
    // again with its default action: the process ends as killed by it (128+N to a shell).
    void stopAllLive().then(() =>
      setTimeout(() => {
        killAllLiveSync();
        process.removeAllListeners(signal);
        process.kill(process.pid, signal);
      }, SIGNAL_GRACE_MS).unref(),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A closed terminal or ssh session: stop QEMU as for SIGTERM rather than die on the spot.
  process.on('SIGHUP', onSignal);
  process.on('exit', killAllLiveSync);
  // A reader that went away (`migdown doctor | head`) is not an error of migdown's: stop quietly.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(EXIT.ok);
    });
  }
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  };
}

/** The one error boundary: what a command threw, as one line on stderr and an exit code. */
function exitCodeFor(err: unknown, ctx: CommandContext): number {
  if (ctx.signal.aborted) {
    const reason = ctx.signal.reason as Interrupted;
    return SIGNAL_EXIT[reason.signal] ?? EXIT.sigint;
  }
  if (err instanceof CommanderError) {
    // help and --version exit 0; everything else commander rejects is bad input.
    if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
    return EXIT.usage;
  }
  if (err instanceof UsageError) {
    ctx.stderr.write(`migdown: ${err.message}\n`);
    return EXIT.usage;
  }
  const skip = err instanceof BisectSkip;
  const failure = err instanceof BisectSkip ? err.failure : err;
  if (failure instanceof BuildFailed) {
    ctx.stderr.write(`migdown: ${failure.message}\n`);
    for (const line of failure.errorLines) ctx.stderr.write(`  ${line}\n`);
    return skip ? EXIT.bisectSkip : EXIT.buildFailed;
  }
  if (failure instanceof CouldNotMeasure || failure instanceof RuntimeFailure) {
    ctx.stderr.write(`migdown: ${failure.message}\n`);
    return skip ? EXIT.bisectSkip : failure instanceof CouldNotMeasure ? EXIT.couldNotMeasure : EXIT.failure;
  }
  ctx.stderr.write(`migdown: internal error: ${errorMessage(err)}\n`);
  if (ctx.env.MIGDOWN_DEBUG) ctx.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
  return EXIT.failure;
}

export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const removeSignalHandlers = handleSignals(controller);
  // Commands read the environment as ctx.env, never at module load.
  const env = process.env;
  const ctx: CommandContext = {
    stdout: process.stdout,
    stderr: process.stderr,
    chalk: makeChalk(colorEnabled(process.stdout, env)),
    chalkErr: makeChalk(colorEnabled(process.stderr, env)),
    signal: controller.signal,
    env,
  };

  let pending: Promise<number> | undefined;
  try {
    const program = buildProgram(ctx, (p) => (pending = p), await factoriesFor(argv));
    await program.parseAsync(argv);
    if (!pending) return EXIT.ok;
    return await pending;
  } catch (err) {
    return exitCodeFor(err, ctx);
  } finally {
    await stopAllLive();
    removeSignalHandlers();
  }
}
