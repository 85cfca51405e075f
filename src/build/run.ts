// The one way the builder runs a program: an argv array (never a shell), output collected,
// bounded by a timeout and the caller's signal.

import { execa } from 'execa';

export async function run(file: string, args: string[], opts: { cwd?: string; signal?: AbortSignal; timeout?: number; env?: NodeJS.ProcessEnv } = {}) {
  return execa(file, args, {
    reject: false,
    all: true,
    stdin: 'ignore',
    timeout: opts.timeout ?? 5 * 60 * 1000,
    ...(opts.cwd && { cwd: opts.cwd }),
    ...(opts.signal && { cancelSignal: opts.signal }),
    ...(opts.env && { env: opts.env, extendEnv: false }),
  });
}

