// Building qemu-system-x86_64: resolve the source, apply the patches, configure out of tree,
// run ninja, and publish the binary into the content-addressed cache, or nothing at all.
//
// Every build happens in a fresh directory under CACHE/work; only a finished binary is moved
// (one rename) to CACHE/builds/KEY. A failed build leaves its log in CACHE/failed/KEY and no
// binary anywhere. Compiles go through ccache (CACHE/ccache, with paths made relative to
// CACHE/work), so a second build of the same source with one patched file recompiles only that
// file. Patch files and specs are untrusted: argv arrays only, never a shell.

import { execa, type ResultPromise } from 'execa';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, copyFile, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BuildFailed, UsageError } from '../errors.js';
import { withDeathSignal } from '../qemu/process.js';
import { aptEnv, ensureBackportsMeson } from './debian.js';
import { run } from './run.js';
import { resolveSource, type ResolvedSource } from './source.js';
import { aptInstallLine, cacheKey, configureArgs, DEFAULT_CONFIGURE, formatBuildSpec, lastErrorLines, majorMinor, parseNinjaProgress, type BuildSpec } from './spec.js';
import { hostIdentity, mesonNeeded, missingBuildDeps, readPatches, type PatchStep } from './toolchain.js'
;
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

/** What the cache key is made of, known before anything is unpacked. */
interface KeyedBuild {
  source: ResolvedSource;
  steps: PatchStep[];
  configure: string[];
  host: string;
  key: string;
}

async function keyedBuild(spec: BuildSpec, cache: string, o: BuildOptions, events: BuildEvents): Promise<KeyedBuild> {
  const source = await resolveSource(spec, cache, { env: o.env, ...(o.signal && { signal: o.signal }), log: events.log });
  const steps = await readPatches(spec, source.qemuVersion);
  // The flags depend on the source (--disable-download exists from 8.1); decided from the
  // version so the key is known before anything is unpacked.
  const [maj, min] = (majorMinor(source.qemuVersion) ?? '0.0').split('.').map(Number);
  const disableDownload = maj! > 8 || (maj === 8 && min! >= 1);
  const configure = configureArgs(spec, { disableDownload }, o.defaults ?? DEFAULT_CONFIGURE);
  const host = await hostIdentity();
  return { source, steps, configure, host, key: cacheKey({ sourceId: source.sourceId, steps, configure, host }) };
}

/** One build's private directory under CACHE/work, its log, and the way it fails. */
interface Workspace {
  workRoot: string;
  work: string;
  srcDir: string;
  buildDir: string;
  logFile: string;
  log(text: string): Promise<void>;
  /** keeps the log in CACHE/failed/KEY and throws BuildFailed */
  fail(what: string, output: string): Promise<never>;
}

async function makeWorkspace(cache: string, key: string, specText: string): Promise<Workspace> {
  const workRoot = path.join(cache, 'work');
  await mkdir(workRoot, { recursive: true });
  await removeStaleWork(workRoot);
  const work = path.join(workRoot, `${key.slice(0, 12)}-${randomBytes(4).toString('hex')}`);
  await mkdir(work, { recursive: true });
  await writeFile(path.join(work, OWNER), `${process.pid}\n`);
  const logFile = path.join(work, 'build.log');
  const log = async (text: string) => appendFile(logFile, text.endsWith('\n') ? text : `${text}\n`);
  const failedDir = path.join(cache, 'failed', key);
  return {
    workRoot,
    work,
    srcDir: path.join(work, 'src'),
    buildDir: path.join(work, 'build'),
    logFile,
    log,
    fail: async (what, output) => {
      await log(output);
      await rm(failedDir, { recursive: true, force: true });
      await mkdir(failedDir, { recursive: true });
      await copyFile(logFile, path.join(failedDir, 'build.log'));
      await writeFile(path.join(failedDir, 'build.json'), `${JSON.stringify({ spec: specText, key, failed: what, at: new Date().toISOString() }, null, 2)}\n`);
      throw new BuildFailed(`build failed (${what}); log: ${path.join(failedDir, 'build.log')}`, lastErrorLines(output));
    },
  };
}

async function applyPatches(steps: PatchStep[], source: ResolvedSource, ws: Workspace, signal: AbortSignal | undefined): Promise<void> {
  for (const s of steps) {
    const args = ['-p1', '--batch', '--forward', '--no-backup-if-mismatch', '-r', '-', '-d', ws.srcDir, '-i', s.file, ...(s.mode === 'revert' ? ['-R'] : [])];
    // Dry run first: a patch that does not apply changes nothing and is bad input.
    const dry = await run('patch', [...args, '--dry-run'], { signal });
    if (dry.exitCode !== 0) {
      const why = dry.all.split('\n').find((l) => /FAILED|can't find file|Reversed|malformed|Only garbage/i.test(l)) ?? dry.all.split('\n').at(-1) ?? '';
      throw new UsageError(`${s.mode === 'revert' ? '--revert' : '--patch'} ${s.file} does not ${s.mode === 'revert' ? 'revert cleanly from' : 'apply to'} ${source.describe}: ${why.trim()}`);
    }
    const r = await run('patch', args, { signal });
    await ws.log(`$ patch ${args.join(' ')}\n${r.all}`);
    if (r.exitCode !== 0) await ws.fail(`patch ${path.basename(s.file)}`, r.all);
  }
}

/** The compilers' environment (ccache in front), with a newer meson where the source needs one. */
async function compileEnv(cache: string, ws: Workspace, o: BuildOptions, events: BuildEvents): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = {
    PATH: `${existsSync('/usr/lib/ccache') ? '/usr/lib/ccache:' : ''}${o.env['PATH'] ?? '/usr/bin:/bin'}`,
    HOME: o.env['HOME'] ?? os.homedir(),
    // One locale for every build: ccache hashes it, so the caller's must not decide hits.
    LANG: 'C.UTF-8',
    CCACHE_DIR: path.join(cache, 'ccache'),
    // Paths under work/ are made relative, so a build in another work directory hits the cache.
    CCACHE_BASEDIR: ws.workRoot,
    CCACHE_NOHASHDIR: 'true',
    CCACHE_MAXSIZE: o.env['CCACHE_MAXSIZE'] ?? '5G',
  };
  const meson = await mesonNeeded(ws.srcDir);
  if (meson) {
    const m = await ensureBackportsMeson(aptEnv(cache, o.env, o.signal), path.join(cache, 'tools'), events.log);
    env['PYTHONPATH'] = m.pythonPath;
    await ws.log(`meson ${m.version} from bookworm-backports (needs >= ${meson}): PYTHONPATH=${m.pythonPath}`);
  }
  return env;
}

/** configure out of tree, then ninja with its [N/M] lines as progress. */
async function compile(configure: string[], env: NodeJS.ProcessEnv, ws: Workspace, o: BuildOptions, events: BuildEvents): Promise<void> {
  await mkdir(ws.buildDir, { recursive: true });
  events.log(`migdown: configure ${configure.join(' ')}`);
  const conf = await run(path.join(ws.srcDir, 'configure'), configure, { cwd: ws.buildDir, signal: o.signal, timeout: CONFIGURE_TIMEOUT_MS, env });
  await ws.log(`$ configure ${configure.join(' ')}\n${conf.all}`);
  if (conf.exitCode !== 0) await ws.fail('configure', conf.all);

  const jobs = o.jobs ?? Math.max(1, os.availableParallelism());
  const [file, args] = withDeathSignal(['ninja', '-j', String(jobs), BINARY]);
  const ninja: ResultPromise = execa(file, args, {
    cwd: ws.buildDir,
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
  await ws.log(`$ ninja -j ${jobs} ${BINARY}\n${String(result.all ?? '')}`);
  if (result.exitCode !== 0 || !existsSync(path.join(ws.buildDir, BINARY))) await ws.fail(result.timedOut ? 'ninja timed out' : 'compile', String(result.all ?? ''));
}

/** Everything into a sibling directory, then one rename: a reader sees all or nothing. */
async function publish(ws: Workspace, record: BuildRecord, outDir: string, failedDir: string): Promise<void> {
  const binary = path.join(outDir, BINARY);
  const staging = path.join(ws.work, 'out');
  await mkdir(staging);
  await copyFile(path.join(ws.buildDir, BINARY), path.join(staging, BINARY));
  await copyFile(ws.logFile, path.join(staging, 'build.log'));
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
}

export async function buildQemu(spec: BuildSpec, o: BuildOptions, events: BuildEvents): Promise<BuildResult> {
  const started = Date.now();
  const cache = cacheRoot(o.env);
  const missing = await missingBuildDeps(spec.source.kind === 'debian');
  if (missing.length) throw new UsageError(`missing build dependencies; install them with: ${aptInstallLine(missing)}`);

  const { source, steps, configure, host, key } = await keyedBuild(spec, cache, o, events);
  const outDir = path.join(cache, 'builds', key);
  const binary = path.join(outDir, BINARY);
  const recordFile = path.join(outDir, 'build.json');
  if (existsSync(binary) && existsSync(recordFile)) {
    const record = JSON.parse(await readFile(recordFile, 'utf8')) as BuildRecord;
    return { binary, key, cached: true, seconds: (Date.now() - started) / 1000, dir: outDir, record };
  }

  const specText = formatBuildSpec(spec);
  const ws = await makeWorkspace(cache, key, specText);
  try {
    events.log(`migdown: building ${BINARY} from ${source.describe}${steps.length ? ` with ${steps.map((s) => `${s.mode} ${path.basename(s.file)}`).join(', ')}` : ''} (key ${key.slice(0, 12)})`);
    await ws.log(`spec: ${specText}\nsource: ${source.describe}\nkey: ${key}\nconfigure: ${configure.join(' ')}\nhost: ${host}\n`);
    await source.materialize(ws.srcDir);
    await applyPatches(steps, source, ws, o.signal);
    await compile(configure, await compileEnv(cache, ws, o, events), ws, o, events);
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
    await publish(ws, record, outDir, path.join(cache, 'failed', key));
    return { binary, key, cached: false, seconds, dir: outDir, record };
  } finally {
    await rm(ws.work, { recursive: true, force: true }).catch(() => undefined);
  }
}
