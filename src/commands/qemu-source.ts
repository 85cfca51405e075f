// A --qemu value (or --qemu-a, --qemu-b ...): a binary, or a `build:` spec to build first. The
// builder is loaded only for a spec, not before every run's first trial.

import { isBuildSpec, parseBuildSpec, type BuildSpec } from '../build/spec.js';
import type { CommandContext } from './context.js';

export const BUILD_SPEC_HELP = `
Build specs (migdown build SPEC, and --qemu/--qemu-a/--qemu-b build:SPEC):
  debian:7.2                   Debian's QEMU 7.2 source package (newest revision); debian:10.0, or
                               an exact Debian version: debian:1:7.2+dfsg-7+deb12u18
  DIR                          a QEMU source directory as it is (copied, never written)
  DIR@REF                      a git checkout at REF, built from a clean export (git archive)
  ,patch=FILE ,revert=FILE     apply / reverse-apply a unified diff or git format-patch series,
                               in the order given; {version} in FILE becomes 7.2, 10.0, ...
  ,configure=--FLAG            one more configure argument (repeatable)
  e.g. --qemu-a build:debian:7.2,patch=patches/qemu-7.2-stop-dirty-log-in-pause.patch
Binaries are cached in $XDG_CACHE_HOME/migdown/builds (default ~/.cache/migdown), keyed by the
source's identity, each patch's sha256, the configure flags and the host.`;

/** A --qemu value as the plan holds it: a binary, or a parsed `build:` spec. */
export type QemuSource = { binary: string } | { build: BuildSpec };

/** A --qemu value read once: a `build:` spec parsed (a UsageError when bad), anything else a binary. */
export function planQemuSource(value: string): QemuSource {
  return isBuildSpec(value) ? { build: parseBuildSpec(value) } : { binary: value };
}

/** The binary of a planned QEMU: as it is, or its build built (or found cached) first. */
export async function resolveQemuSource(source: QemuSource, ctx: CommandContext, quiet?: boolean): Promise<string> {
  if ('binary' in source) return source.binary;
  const { buildWithProgress } = await import('./build-run.js');
  return (await buildWithProgress(source.build, ctx, { quiet })).binary;
}

