// Building qemu-system-x86_64: resolve the source, apply the patches, configure out of tree,
// run ninja, and publish the binary into the content-addressed cache, or nothing at all.
//
// Every build happens in a fresh directory under CACHE/work; only a finished binary is moved
// (one rename) to CACHE/builds/KEY. A failed build leaves its log in CACHE/failed/KEY and no
// binary anywhere. Compiles go through ccache (CACHE/ccache, with paths made relative to
// CACHE/work), so a second build of the same source with one patched file recompiles only that
// file. Patch files and specs are untrusted: argv arrays only, never a shell.

import { execa, type ResultPromise } from 'execa';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, copyFile, lstat, mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BuildFailed, UsageError } from '../errors.js';
import { withDeathSignal } from '../qemu/process.js';
import { aptEnv, ensureBackportsMeson, fetchDebianSource, sha256File, unpackDebianSource } from './debian.js';
import {
  aptInstallLine,
  BUILD_DEPS,
  cacheKey,
  configureArgs,
  DEBIAN_SOURCE_DEPS,
  DEFAULT_CONFIGURE,
  formatBuildSpec,
  lastErrorLines,
  majorMinor,
  parseNinjaProgress,
  type BuildSpec,
} from './spec.js';

export const BINARY = 'qemu-system-x86_64';
const CONFIGURE_TIMEOUT_MS = 15 * 60 * 1000;
const NINJA_TIMEOUT_MS = 3 * 3600 * 1000;
const OWNER = 'owner.pid';

/** $XDG_CACHE_HOME/migdown, or ~/.cache/migdown; MIGDOWN_CACHE_DIR overrides. */
export function cacheRoot(env: NodeJS.ProcessEnv): string {
  if (env['MIGDOWN_CACHE_DIR']) return path.resolve(env['MIGDOWN_CACHE_DIR']);
  const xdg = env['XDG_CACHE_HOME'];
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'), 'migdown');
}

export interface BuildEvents {
  /** one human line (stderr) */
  log(line: string): void;
  /** ninja's [N/M] */
  progress?(done: number, total: number): void;
}

export interface BuildOptions {
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** replaces DEFAULT_CONFIGURE (the spec's own configure= still follow) */
  defaults?: readonly string[];
  /** ninja -j; default: every core */
  jobs?: number;
}

export interface BuildResult {
  binary: string;
  key: string;
  cached: boolean;
  /** wall time of this call */
  seconds: number;
  dir: string;
  record: BuildRecord;
}

/** What CACHE/builds/KEY/build.json says about the binary beside it. */
export interface BuildRecord {
  spec: string;
  key: string;
  source: string;
  sourceId: string;
  qemuVersion: string;
  steps: Array<{ mode: string; file: string; sha256: string }>;
  configure: string[];
  host: string;
  buildSeconds: number;
  finished: string;
}

interface ResolvedSource {
  describe: string;
  sourceId: string;
  qemuVersion: string;
  /** writes a pristine tree into dest (which must not exist) */
  materialize(dest: string): Promise<void>;
}

async function run(file: string, args: string[], opts: { cwd?: string; signal?: AbortSignal; timeout?: number; env?: NodeJS.ProcessEnv } = {}) {
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

async function resolveSource(spec: BuildSpec, cache: string, o: BuildOptions, events: BuildEvents): Promise<ResolvedSource> {
  const src = spec.source;
  if (src.kind === 'debian') {
    const deb = await fetchDebianSource(aptEnv(cache, o.env, o.signal), src.version, events.log);
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
  events.log(`migdown: hashing ${dir}`);
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

/** What decides whether a binary built here runs elsewhere: arch, distribution, compiler. */
async function hostIdentity(): Promise<string> {
  const osr = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const field = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(osr)?.[1] ?? '?';
  const gcc = (await run('gcc', ['-dumpfullversion'])).stdout?.trim() || '?';
  return `${process.arch} ${field('ID')} ${field('VERSION_ID')} gcc ${gcc}`;
}

/** The {version} placeholder in a patch path becomes the source's major.minor (7.2, 10.0). */
export function patchPathFor(file: string, qemuVersion: string): string {
  return file.includes('{version}') ? file.replaceAll('{version}', majorMinor(qemuVersion) ?? qemuVersion) : file;
}

async function readPatches(spec: BuildSpec, qemuVersion: string) {
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
async function mesonNeeded(srcDir: string): Promise<string | undefined> {
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

/**
 * QEMU finds its data relative to its executable: with a `qemu-bundle` directory beside it,
 * every configured path P is looked up as qemu-bundle/P (how QEMU runs from its build tree).
 * The cached binary gets one whose data and firmware directories are links to the installed
 * qemu-system-data, seabios and ipxe-qemu, the firmware Debian's own QEMU uses.
 */
export const FIRMWARE_DIRS = ['/usr/share/qemu', '/usr/share/seabios', '/usr/lib/ipxe/qemu'] as const;

export async function writeFirmwareBundle(dir: string): Promise<void> {
  for (const target of FIRMWARE_DIRS) {
    const link = path.join(dir, 'qemu-bundle', target);
    await mkdir(path.dirname(link), { recursive: true });
    await rm(link, { force: true });
    await symlink(target, link);
  }
}

/** Remove work directories of builds whose migdown is gone (SIGKILLed); never throws. */
async function removeStaleWork(workDir: string): Promise<void> {
  for (const name of await readdir(workDir).catch(() => [] as string[])) {
    const dir = path.join(workDir, name);
    const pid = Number((await readFile(path.join(dir, OWNER), 'utf8').catch(() => '')).trim());
    let alive = false;
    try {
      if (pid > 0) process.kill(pid, 0);
      alive = pid > 0;
    } catch (err) {
      alive = (err as NodeJS.ErrnoException).code === 'EPERM';
    }
    if (!alive) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

export async function buildQemu(spec: BuildSpec, o: BuildOptions, events: BuildEvents): Promise<BuildResult> {
  const started = Date.now();
  const cache = cacheRoot(o.env);
  const missing = await missingBuildDeps(spec.source.kind === 'debian');
  if (missing.length) throw new UsageError(`missing build dependencies; install them with: ${aptInstallLine(missing)}`);

  const source = await resolveSource(spec, cache, o, events);
  const steps = await readPatches(spec, source.qemuVersion);
  // The flags depend on the source (--disable-download exists from 8.1); decided from the
  // version so the key is known before anything is unpacked.
  const [maj, min] = (majorMinor(source.qemuVersion) ?? '0.0').split('.').map(Number);
  const disableDownload = maj! > 8 || (maj === 8 && min! >= 1);
  const configure = configureArgs(spec, { disableDownload }, o.defaults ?? DEFAULT_CONFIGURE);
  const host = await hostIdentity();
  const key = cacheKey({ sourceId: source.sourceId, steps, configure, host });
  const outDir = path.join(cache, 'builds', key);
  const binary = path.join(outDir, BINARY);
  const recordFile = path.join(outDir, 'build.json');
  if (existsSync(binary) && existsSync(recordFile)) {
    const record = JSON.parse(await readFile(recordFile, 'utf8')) as BuildRecord;
    return { binary, key, cached: true, seconds: (Date.now() - started) / 1000, dir: outDir, record };
  }

  const workRoot = path.join(cache, 'work');
  await mkdir(workRoot, { recursive: true });
  await removeStaleWork(workRoot);
  const work = path.join(workRoot, `${key.slice(0, 12)}-${randomBytes(4).toString('hex')}`);
  await mkdir(work, { recursive: true });
  await writeFile(path.join(work, OWNER), `${process.pid}\n`);
  const srcDir = path.join(work, 'src');
  const buildDir = path.join(work, 'build');
  const logFile = path.join(work, 'build.log');
  const log = async (text: string) => appendFile(logFile, text.endsWith('\n') ? text : `${text}\n`);
  const failedDir = path.join(cache, 'failed', key);
  const specText = formatBuildSpec(spec);
  const fail = async (what: string, output: string): Promise<never> => {
    await log(output);
    await rm(failedDir, { recursive: true, force: true });
    await mkdir(failedDir, { recursive: true });
    await copyFile(logFile, path.join(failedDir, 'build.log'));
    await writeFile(path.join(failedDir, 'build.json'), `${JSON.stringify({ spec: specText, key, failed: what, at: new Date().toISOString() }, null, 2)}\n`);
    throw new BuildFailed(`build failed (${what}); log: ${path.join(failedDir, 'build.log')}`, lastErrorLines(output));
  };

  try {
    events.log(`migdown: building ${BINARY} from ${source.describe}${steps.length ? ` with ${steps.map((s) => `${s.mode} ${path.basename(s.file)}`).join(', ')}` : ''} (key ${key.slice(0, 12)})`);
    await log(`spec: ${specText}\nsource: ${source.describe}\nkey: ${key}\nconfigure: ${configure.join(' ')}\nhost: ${host}\n`);
    await source.materialize(srcDir);
    for (const s of steps) {
      const args = ['-p1', '--batch', '--forward', '--no-backup-if-mismatch', '-r', '-', '-d', srcDir, '-i', s.file, ...(s.mode === 'revert' ? ['-R'] : [])];
      // Dry run first: a patch that does not apply changes nothing and is bad input.
      const dry = await run('patch', [...args, '--dry-run'], { signal: o.signal });
      if (dry.exitCode !== 0) {
        const why = dry.all.split('\n').find((l) => /FAILED|can't find file|Reversed|malformed|Only garbage/i.test(l)) ?? dry.all.split('\n').at(-1) ?? '';
        throw new UsageError(`${s.mode === 'revert' ? '--revert' : '--patch'} ${s.file} does not ${s.mode === 'revert' ? 'revert cleanly from' : 'apply to'} ${source.describe}: ${why.trim()}`);
      }
      const r = await run('patch', args, { signal: o.signal });
      await log(`$ patch ${args.join(' ')}\n${r.all}`);
      if (r.exitCode !== 0) await fail(`patch ${path.basename(s.file)}`, r.all);
    }

    const env: NodeJS.ProcessEnv = {
      PATH: `${existsSync('/usr/lib/ccache') ? '/usr/lib/ccache:' : ''}${o.env['PATH'] ?? '/usr/bin:/bin'}`,
      HOME: o.env['HOME'] ?? os.homedir(),
      // One locale for every build: ccache hashes it, so the caller's must not decide hits.
      LANG: 'C.UTF-8',
      CCACHE_DIR: path.join(cache, 'ccache'),
      // Paths under work/ are made relative, so a build in another work directory hits the cache.
      CCACHE_BASEDIR: workRoot,
      CCACHE_NOHASHDIR: 'true',
      CCACHE_MAXSIZE: o.env['CCACHE_MAXSIZE'] ?? '5G',
    };
    const meson = await mesonNeeded(srcDir);
    if (meson) {
      const m = await ensureBackportsMeson(aptEnv(cache, o.env, o.signal), path.join(cache, 'tools'), events.log);
      env['PYTHONPATH'] = m.pythonPath;
      await log(`meson ${m.version} from bookworm-backports (needs >= ${meson}): PYTHONPATH=${m.pythonPath}`);
    }
    await mkdir(buildDir, { recursive: true });
    events.log(`migdown: configure ${configure.join(' ')}`);
    const conf = await run(path.join(srcDir, 'configure'), configure, { cwd: buildDir, signal: o.signal, timeout: CONFIGURE_TIMEOUT_MS, env });
    await log(`$ configure ${configure.join(' ')}\n${conf.all}`);
    if (conf.exitCode !== 0) await fail('configure', conf.all);

    const jobs = o.jobs ?? Math.max(1, os.availableParallelism());
    const [file, args] = withDeathSignal(['ninja', '-j', String(jobs), BINARY]);
    const ninja: ResultPromise = execa(file, args, {
      cwd: buildDir,
      env,
      extendEnv: false,
      reject: false,
      all: true,
      stdin: 'ignore',
      buffer: { stdout: false, stderr: false, all: true },
      timeout: NINJA_TIMEOUT_MS,
      forceKillAfterDelay: 5000,
      ...(o.signal && { cancelSignal: o.signal }),
    });
    let partial = '';
    ninja.stdout?.setEncoding('utf8');
    ninja.stdout?.on('data', (chunk: string) => {
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const p = parseNinjaProgress(line);
        if (p) events.progress?.(p.done, p.total);
      }
    });
    const result = await ninja;
    if (o.signal?.aborted) throw o.signal.reason;
    await log(`$ ninja -j ${jobs} ${BINARY}\n${String(result.all ?? '')}`);
    if (result.exitCode !== 0 || !existsSync(path.join(buildDir, BINARY))) await fail(result.timedOut ? 'ninja timed out' : 'compile', String(result.all ?? ''));

    // Publish: everything into a sibling directory, then one rename. A reader sees all or nothing.
    const seconds = (Date.now() - started) / 1000;
    const record: BuildRecord = {
      spec: specText,
      key,
      source: source.describe,
      sourceId: source.sourceId,
      qemuVersion: source.qemuVersion,
      steps,
      configure,
      host,
      buildSeconds: Math.round(seconds),
      finished: new Date().toISOString(),
    };
    const staging = path.join(work, 'out');
    await mkdir(staging);
    await copyFile(path.join(buildDir, BINARY), path.join(staging, BINARY));
    await copyFile(logFile, path.join(staging, 'build.log'));
    await writeFirmwareBundle(staging);
    await writeFile(path.join(staging, 'build.json'), `${JSON.stringify(record, null, 2)}\n`);
    await mkdir(path.dirname(outDir), { recursive: true });
    try {
      await rename(staging, outDir);
    } catch (err) {
      // Another migdown published the same key meanwhile: same inputs, keep theirs.
      if (!existsSync(binary)) throw err;
    }
    await rm(failedDir, { recursive: true, force: true });
    return { binary, key, cached: false, seconds, dir: outDir, record };
  } finally {
    await rm(work, { recursive: true, force: true }).catch(() => undefined);
  }
}
