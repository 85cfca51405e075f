// Errors that the one boundary in cli.ts turns into a single line and an exit code.
// Anything that is not one of these is a bug in migdown and is reported as such.

/** Exit codes, documented in `migdown --help` and the README. */
export const EXIT = {
  ok: 0,
  /** a migration failed or QEMU died: the run itself went wrong (nothing to judge) */
  failure: 1,
  /**
   * the run could not produce a verdict: QEMU would not start (the same error twice in a row),
   * or a results or report file could not be written. The same value as `failure` for now.
   */
  couldNotMeasure: 1,
  /** bad input: options, files, missing binaries; nothing was measured */
  usage: 2,
  /** everything was measured and a gate (--max-downtime, --fail-if-regression) tripped */
  gate: 3,
  /** `migdown build` (or a build spec given to run/compare) failed to compile */
  buildFailed: 4,
  /** --bisect: could not measure (build failed, QEMU would not start, migrations failed); git bisect skips */
  bisectSkip: 125,
  /** 128 + SIGINT / SIGTERM, as shells report signals */
  sighup: 129,
  sigint: 130,
  sigterm: 143,
} as const;

/** The user asked for something migdown cannot do as asked. Exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Something went wrong while measuring. Exit 1. */
export class RuntimeFailure extends Error {
  override name = 'RuntimeFailure';
}

/** A QEMU build failed; the boundary prints the message and the compiler's last error lines. Exit 4. */
export class BuildFailed extends Error {
  override name = 'BuildFailed';
  constructor(
    message: string,
    readonly errorLines: string[],
  ) {
    super(message);
  }
}

/** --bisect: the command could not measure (the cause says why); the boundary exits 125. */
export class BisectSkip extends Error {
  override name = 'BisectSkip';
  constructor(readonly failure: RuntimeFailure | BuildFailed | CouldNotMeasure) {
    super(failure.message);
  }
}

/**
 * Measuring cannot go on: the same error twice in a row (QEMU will not start, say). Exit
 * EXIT.couldNotMeasure: a verdict about the QEMU under test would be a guess.
 */
export class CouldNotMeasure extends Error {
  override name = 'CouldNotMeasure';
}

/** The run was interrupted by a signal; the boundary exits 128+N. */
export class Interrupted extends Error {
  override name = 'Interrupted';
  constructor(readonly signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP') {
    super(`interrupted by ${signal}`);
  }
}
