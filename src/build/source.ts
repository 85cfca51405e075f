// Where a build's source comes from: Debian's source package, a git checkout at a ref (a clean
// export), or a plain QEMU tree (copied); each with the identity that keys the cache.

import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { aptEnv, fetchDebianSource, unpackDebianSource } from './debian.js';
import { run } from './run.js';
import type { BuildSpec } from './spec.js';

export interface ResolvedSource {
  describe: string;
  sourceId: string;
  qemuVersion: string;
  /** writes a pristine tree into dest (which must not exist) */
  materialize(dest: string): Promise<void>;
}

/** What resolveSource needs of the build's options and events. */
export interface SourceContext {
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  log(line: string): void;
}

async function isQemuTree(dir: string): Promise<boolean> {
  return ['VERSION', 'configure', 'meson.build', 'migration/ram.c'].every((f) => existsSync(path.join(dir, f)));
}

/** sha256 over every file's path and bytes (not .git, not build directories): a plain tree's identity. */
async function hashTree(root: string): Promise<string> {
  const h = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const entries = (await readdir(path.join(root, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (!rel && (e.name === '.git' || e.name === 'build' || e.name.startsWith('build-'))) continue;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile()) h.update(`${r}\0`).update(await readFile(path.join(root, r))).update('\0');
      else if (e.isSymbolicLink()) h.update(`${r}\0->\0`);
    }
  };
  await walk('');
  return h.digest('hex');
}

export async function resolveSource(spec: BuildSpec, cache: string, o: SourceContext): Promise<ResolvedSource> {
  const src = spec.source;
  if (src.kind === 'debian') {
    const deb = await fetchDebianSource(aptEnv(cache, o.env, o.signal), src.version, o.log);
    const upstream = deb.version.replace(/^\d+:/, '').replace(/[+-].*$/, '');
    return {
      describe: `Debian qemu ${deb.version}`,
      sourceId: `debian:${deb.version}:${deb.sha256}`,
      qemuVersion: upstream,
      materialize: (dest) => unpackDebianSource(deb, dest, o.signal),
    };
  }
  const dir = path.resolve(src.path);
  if (!existsSync(dir) || !(await stat(dir)).isDirectory()) throw new UsageError(`${src.path}: no such directory`);
  if (src.ref !== undefined) {
    const top = await run('git', ['-C', dir, 'rev-parse', '--show-toplevel']);
    if (top.exitCode !== 0) throw new UsageError(`${src.path}: not a git checkout, so @${src.ref} cannot be built`);
    const tree = await run('git', ['-C', dir, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${src.ref}^{tree}`]);
    if (tree.exitCode !== 0) throw new UsageError(`${src.path}: no such git ref "${src.ref}"`);
    const treeId = tree.stdout.trim();
    const version = await run('git', ['-C', dir, 'show', `${treeId}:VERSION`]);
    const ram = await run('git', ['-C', dir, 'cat-file', '-e', `${treeId}:migration/ram.c`]);
    if (version.exitCode !== 0 || ram.exitCode !== 0) throw new UsageError(`${src.path}@${src.ref}: not a QEMU source tree (no VERSION or migration/ram.c)`);
    return {
      describe: `${dir} at ${src.ref} (tree ${treeId.slice(0, 12)})`,
      sourceId: `git-tree:${treeId}`,
      qemuVersion: version.stdout.trim(),
      materialize: async (dest) => {
        await mkdir(dest, { recursive: true });
        // A clean export: the user's work tree and index are never touched.
        // Streamed, never buffered: a QEMU tree is hundreds of MB.
        const signal = o.signal ? { cancelSignal: o.signal } : {};
        const r = await execa('git', ['-C', dir, 'archive', '--format=tar', treeId], { stdin: 'ignore', buffer: { stdout: false }, reject: false, ...signal })
          .pipe('tar', ['-x', '-C', dest], { reject: false, ...signal });
        if (r.exitCode !== 0) throw new UsageError(`exporting ${dir} at ${src.ref}: ${String(r.stderr).split('\n')[0]}`);
      },
    };
  }
  if (!(await isQemuTree(dir))) throw new UsageError(`${src.path}: not a QEMU source directory (no VERSION, configure, meson.build and migration/ram.c)`);
  o.log(`migdown: hashing ${dir}`);
  return {
    describe: dir,
    sourceId: `tree:${await hashTree(dir)}`,
    qemuVersion: (await readFile(path.join(dir, 'VERSION'), 'utf8')).trim(),
    materialize: async (dest) => {
      const r = await run('cp', ['-a', '--reflink=auto', '--', `${dir}/.`, dest], { signal: o.signal });
      if (r.exitCode !== 0) throw new UsageError(`copying ${dir}: ${r.all.split('\n').at(-1)}`);
      await rm(path.join(dest, '.git'), { recursive: true, force: true });
      await rm(path.join(dest, 'build'), { recursive: true, force: true });
    },
  };
}

