// Checks across options that no single option's parser can make, run before anything is
// probed or started: each failure is one UsageError (exit 2).

import type { Command } from 'commander';
import { UsageError } from '../errors.js';

export interface RawCombinedOptions {
  json?: boolean;
  format?: string;
  destHost?: string;
  migrateUri?: string;
  sshOption?: string[];
}

/** Printable ASCII without spaces: what a tcp:HOST:PORT URI can hold, and nothing a monitor line editor acts on. */
const URI_CHARS = /^[\x21-\x7e]+$/;

export function checkOptionCombinations(cmd: Command, opts: RawCombinedOptions): void {
  const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
  if (opts.json && given('format') && opts.format !== 'json') {
    throw new UsageError(`--json and --format ${opts.format} ask for two outputs; use one of them`);
  }
  if (!opts.destHost) {
    const remoteOnly = [
      opts.migrateUri !== undefined && '--migrate-uri',
      given('destQemu') && '--dest-qemu',
      (opts.sshOption?.length ?? 0) > 0 && '--ssh-option',
    ].filter(Boolean);
    if (remoteOnly.length) throw new UsageError(`${remoteOnly.join(', ')} only mean${remoteOnly.length === 1 ? 's' : ''} something with --dest-host`);
  }
  if (opts.migrateUri !== undefined && !URI_CHARS.test(opts.migrateUri)) {
    throw new UsageError(`--migrate-uri ${JSON.stringify(opts.migrateUri)}: spaces and control characters cannot be part of a URI`);
  }
}

/**
 * QEMU arguments that take QEMU out of migdown's hands, so that no stop and no parent-death
 * signal reaches it and it outlives migdown:
 * - `-daemonize` forks QEMU into the background; the process migdown started exits at once;
 * - `-runas` and `-run-with user=` change QEMU's user ID, and the kernel clears the
 *   parent-death signal on a credential change, so a migdown killed with -9 leaves it running.
 * (`-chroot`, `-run-with chroot=` and `async-teardown` keep the process and its signal.)
 */
export function detachingArgument(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    // QEMU takes --option as -option, and -option=value for options with a value.
    const [name, inline] = args[i]!.replace(/^--/, '-').split(/=(.*)/s, 2) as [string, string | undefined];
    if (name === '-daemonize' || name === '-runas') return name;
    if (name === '-run-with') {
      const value = inline ?? args[i + 1] ?? '';
      if (/(^|,)user=/.test(value)) return '-run-with user=';
    }
  }
  return undefined;
}

export function refuseDetachingArguments(lists: Array<[option: string, args: string[] | undefined]>): void {
  for (const [option, args] of lists) {
    const bad = detachingArgument(args ?? []);
    if (bad) {
      throw new UsageError(`${option}: ${bad} would take QEMU out of migdown's control (it could outlive migdown); leave it out`);
    }
  }
}
