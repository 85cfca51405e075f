// Debian's QEMU source packages and tools, through apt with a private configuration: its own
// sources list (deb-src lines), lists and cache directories under migdown's cache, so the
// system's apt configuration and state are never touched. Also fetches a newer meson (QEMU 10.0
// asks for >= 1.5; bookworm has 1.0) from bookworm-backports, unpacked privately.

import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { matchDebianVersions } from './spec.js';

const MIRROR_DEFAULT = 'http://deb.debian.org/debian';
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
/** Lists older than this are refreshed before choosing a version. */
const LISTS_MAX_AGE_MS = 24 * 3600 * 1000;
const APT_TIMEOUT_MS = 10 * 60 * 1000;

export interface AptEnv {
  dir: string;
  mirror: string;
  securityMirror: string;
  signal?: AbortSignal;
}

export function aptEnv(cacheDir: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): AptEnv {
  const mirror = env['MIGDOWN_DEBIAN_MIRROR'] ?? MIRROR_DEFAULT;
  return { dir: path.join(cacheDir, 'apt'), mirror, securityMirror: env['MIGDOWN_DEBIAN_SECURITY_MIRROR'] ?? mirror.replace(/\/debian\/?$/, '/debian-security'), ...(signal && { signal }) };
}

/** bookworm (7.2), its backports (10.0), trixie (10.0): the suites with QEMU sources worth building. */
function sourcesList(a: AptEnv): string {
  const signed = existsSync(KEYRING) ? ` [signed-by=${KEYRING}]` : '';
  const lines: string[] = [];
  for (const suite of ['bookworm', 'bookworm-updates', 'bookworm-backports', 'trixie', 'trixie-updates']) lines.push(`deb-src${signed} ${a.mirror} ${suite} main`);
  for (const suite of ['bookworm-security', 'trixie-security']) lines.push(`deb-src${signed} ${a.securityMirror} ${suite} main`);
  // Binary index of backports only, for meson.
  lines.push(`deb${signed} ${a.mirror} bookworm-backports main`);
  return `${lines.join('\n')}\n`;
}

function aptOptions(a: AptEnv): string[] {
  return [
    '-o', `Dir::Etc::SourceList=${path.join(a.dir, 'sources.list')}`,
    '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${path.join(a.dir, 'lists')}`,
    '-o', `Dir::Cache=${path.join(a.dir, 'cache')}`,
    // Files go into migdown's own directories; the unprivileged _apt user may not reach them.
    '-o', 'APT::Sandbox::User=root',
    '-o', 'Acquire::Retries=2',
  ];
}

async function apt(a: AptEnv, program: 'apt-get' | 'apt-cache', args: string[], cwd?: string) {
  return execa(program, [...aptOptions(a), ...args], {
    reject: false,
    all: true,
    timeout: APT_TIMEOUT_MS,
    ...(a.signal && { cancelSignal: a.signal }),
    ...(cwd && { cwd }),
    env: { DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' },
    stdin: 'ignore',
  });
}

/** Write the private sources list and run apt-get update when it changed or the lists are old. */
export async function ensureLists(a: AptEnv, log: (line: string) => void): Promise<void> {
  await mkdir(path.join(a.dir, 'lists', 'partial'), { recursive: true });
  await mkdir(path.join(a.dir, 'cache', 'archives', 'partial'), { recursive: true });
  const file = path.join(a.dir, 'sources.list');
  const want = sourcesList(a);
  const have = await readFile(file, 'utf8').catch(() => '');
  const stamp = path.join(a.dir, 'updated');
  const age = await stat(stamp).then((s) => Date.now() - s.mtimeMs, () => Infinity);
  if (have === want && age < LISTS_MAX_AGE_MS) return;
  await writeFile(file, want);
  log(`migdown: apt-get update (private lists in ${a.dir})`);
  const r = await apt(a, 'apt-get', ['update']);
  if (r.exitCode !== 0) throw new UsageError(`apt-get update failed: ${lastLine(r.all)}`);
  await writeFile(stamp, `${new Date().toISOString()}\n`);
}

function lastLine(text: string | undefined): string {
  const lines = (text ?? '').split('\n').map((l) => l.trim()).filter((l) => /^(E|W|Err):/.test(l));
  return lines.at(-1) ?? (text ?? '').trim().split('\n').at(-1) ?? 'no output';
}

/** All Debian versions of the qemu source package in the private lists. */
async function qemuSourceVersions(a: AptEnv): Promise<string[]> {
  const r = await apt(a, 'apt-cache', ['showsrc', 'qemu']);
  if (r.exitCode !== 0) return [];
  return [...r.stdout.matchAll(/^Version: (\S+)$/gm)].map((m) => m[1]!);
}

async function compareDebianVersions(x: string, y: string): Promise<number> {
  if (x === y) return 0;
  const r = await execa('dpkg', ['--compare-versions', x, 'gt', y], { reject: false });
  return r.exitCode === 0 ? 1 : -1;
}

/** Sort with an async comparator (insertion sort: there are a handful of versions). */
async function sortVersions(versions: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const v of versions) {
    let i = 0;
    while (i < out.length && (await compareDebianVersions(out[i]!, v)) > 0) i++;
    out.splice(i, 0, v);
  }
  return out;
}

export interface DebianSource {
  version: string;
  dsc: string;
  /** sha256 of the .dsc, which itself lists the sha256 of every file of the package */
  sha256: string;
}

/**
 * Download the newest Debian source package of QEMU `requested` (7.2, 10.0, or an exact
 * Debian version) that the mirror actually serves, into the cache. Nothing is unpacked here.
 */
export async function fetchDebianSource(a: AptEnv, requested: string, log: (line: string) => void): Promise<DebianSource> {
  await ensureLists(a, log);
  const all = await sortVersions(await qemuSourceVersions(a));
  // matchDebianVersions sorts by its comparator; `all` is already newest first, keep that order.
  const order = new Map(all.map((v, i) => [v, i]));
  const candidates = matchDebianVersions(requested, all, (x, y) => (order.get(y)! - order.get(x)!));
  if (!candidates.length) {
    const known = [...new Set(all.map((v) => v.replace(/^\d+:/, '').replace(/[+-].*$/, '')))].join(', ');
    throw new UsageError(`debian:${requested}: no such QEMU source package in Debian (known: ${known || 'none; check the mirror'})`);
  }
  const failures: string[] = [];
  for (const version of candidates) {
    const dir = path.join(a.dir, '..', 'sources', 'debian', version.replace(/[^A-Za-z0-9.+~-]/g, '_'));
    const dsc = await findDsc(dir);
    if (dsc) return { version, dsc, sha256: await sha256File(dsc) };
    await mkdir(dir, { recursive: true });
    log(`migdown: fetching Debian source qemu ${version}`);
    const r = await apt(a, 'apt-get', ['source', '--download-only', `qemu=${version}`], dir);
    const got = r.exitCode === 0 ? await findDsc(dir) : undefined;
    if (got) return { version, dsc: got, sha256: await sha256File(got) };
    failures.push(`${version}: ${lastLine(r.all)}`);
    await rm(dir, { recursive: true, force: true });
  }
  throw new UsageError(`debian:${requested}: could not download the source package (${failures.join('; ')})`);
}

async function findDsc(dir: string): Promise<string | undefined> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const dsc = names.find((n) => n.endsWith('.dsc'));
  // The .dsc is written last by apt only after every file checked out; a partial download has none.
  return dsc && names.some((n) => /\.orig\.tar\./.test(n)) ? path.join(dir, dsc) : undefined;
}

export async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

/** Unpack a downloaded source package (with Debian's patches applied) into `dest`. */
export async function unpackDebianSource(src: DebianSource, dest: string, signal?: AbortSignal): Promise<void> {
  const r = await execa('dpkg-source', ['--no-check', '-x', src.dsc, dest], {
    reject: false,
    all: true,
    timeout: APT_TIMEOUT_MS,
    ...(signal && { cancelSignal: signal }),
    stdin: 'ignore',
  });
  if (r.exitCode !== 0) throw new UsageError(`dpkg-source -x ${path.basename(src.dsc)} failed: ${lastLine(r.all)}`);
}

/**
 * A meson of at least `minimum`, for sources whose configure refuses the system's: Debian's
 * bookworm-backports package, unpacked under the cache. Returns the directory to put on
 * PYTHONPATH (QEMU's configure makes a venv with system site packages, which then finds it).
 */
export async function ensureBackportsMeson(a: AptEnv, toolsDir: string, log: (line: string) => void): Promise<{ pythonPath: string; version: string }> {
  await ensureLists(a, log);
  const policy = await apt(a, 'apt-cache', ['show', 'meson/bookworm-backports']);
  const version = /^Version: (\S+)$/m.exec(policy.stdout ?? '')?.[1];
  if (!version) throw new UsageError('this QEMU needs a newer meson than the system has, and bookworm-backports has none');
  const dir = path.join(toolsDir, `meson-${version.replace(/[^A-Za-z0-9.+~-]/g, '_')}`);
  const pythonPath = path.join(dir, 'root', 'usr', 'lib', 'python3', 'dist-packages');
  if (existsSync(path.join(pythonPath, 'mesonbuild'))) return { pythonPath, version };
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  log(`migdown: fetching meson ${version} from bookworm-backports (private, under ${toolsDir})`);
  const dl = await apt(a, 'apt-get', ['download', `meson=${version}`], dir);
  const deb = (await readdir(dir)).find((n) => n.endsWith('.deb'));
  if (dl.exitCode !== 0 || !deb) throw new UsageError(`could not download meson ${version}: ${lastLine(dl.all)}`);
  const x = await execa('dpkg-deb', ['-x', path.join(dir, deb), path.join(dir, 'root')], { reject: false, all: true });
  if (x.exitCode !== 0) throw new UsageError(`could not unpack meson ${version}: ${lastLine(x.all)}`);
  return { pythonPath, version };
}
