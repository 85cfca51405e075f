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
