// What a build needs of this host before and while it compiles: the build dependencies, the
// host identity that keys the cache, the patch files, the meson the source asks for.

import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { sha256File } from './debian.js';
import { run } from './run.js';
import { BUILD_DEPS, DEBIAN_SOURCE_DEPS, majorMinor, type BuildSpec } from './spec.js';

/** Missing build dependencies (and the packages that add them), checked before anything else. */
export async function missingBuildDeps(needDebian: boolean): Promise<string[]> {
  const pkgs: string[] = [];
  const checks = [...BUILD_DEPS, ...(needDebian ? DEBIAN_SOURCE_DEPS : [])];
  await Promise.all(
    checks.map(async ({ check, pkg }) => {
      let ok: boolean;
      if ('program' in check) ok = (await run('sh', ['-c', 'command -v "$1"', 'sh', check.program])).exitCode === 0;
      else if ('pkgconfig' in check) ok = (await run('pkg-config', ['--exists', check.pkgconfig])).exitCode === 0;
      else ok = (await run('python3', ['-c', `import ${check.pymodule}`])).exitCode === 0;
      if (!ok) pkgs.push(pkg);
    }),
  );
  return [...new Set(pkgs)].sort();
}

/** What decides whether a binary built here runs elsewhere: arch, distribution, compiler. */
export async function hostIdentity(): Promise<string> {
  const osr = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const field = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(osr)?.[1] ?? '?';
  const gcc = (await run('gcc', ['-dumpfullversion'])).stdout?.trim() || '?';
  return `${process.arch} ${field('ID')} ${field('VERSION_ID')} gcc ${gcc}`;
}

/** The {version} placeholder in a patch path becomes the source's major.minor (7.2, 10.0). */
export function patchPathFor(file: string, qemuVersion: string): string {
  return file.includes('{version}') ? file.replaceAll('{version}', majorMinor(qemuVersion) ?? qemuVersion) : file;
}

/** A patch step with its file resolved and hashed (the hash goes into the cache key). */
export interface PatchStep {
  mode: BuildSpec['steps'][number]['mode'];
  file: string;
  sha256: string;
}

export async function readPatches(spec: BuildSpec, qemuVersion: string): Promise<PatchStep[]> {
  return Promise.all(
    spec.steps.map(async (s) => {
      const file = path.resolve(patchPathFor(s.file, qemuVersion));
      const st = await lstat(file).catch(() => undefined);
      if (!st?.isFile()) throw new UsageError(`--${s.mode} ${file}: no such file`);
      return { mode: s.mode, file, sha256: await sha256File(file) };
    }),
  );
}

/** meson >= X that the source's pythondeps.toml asks for, if the system's is older. */
export async function mesonNeeded(srcDir: string): Promise<string | undefined> {
  const toml = await readFile(path.join(srcDir, 'pythondeps.toml'), 'utf8').catch(() => '');
  const want = /^meson\s*=\s*\{[^}]*accepted\s*=\s*">=\s*([\d.]+)"/m.exec(toml)?.[1];
  if (!want) return undefined;
  const have = (await run('meson', ['--version'])).stdout?.trim() ?? '';
  const num = (v: string) => v.split('.').map(Number);
  const [a, b] = [num(have), num(want)];
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) > (b[i] ?? 0)) return undefined;
    if ((a[i] ?? 0) < (b[i] ?? 0)) return want;
  }
  return undefined;
}

