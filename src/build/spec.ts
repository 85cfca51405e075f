// What a QEMU build is, as data: the spec a user (or a scenario) writes, the configure flags it
// amounts to, the cache key that names its result. Pure functions only; everything that spawns
// apt-get, patch, meson or ninja is in builder.ts and debian.ts.
//
// Spec syntax (after an optional `build:` prefix, which --qemu/--qemu-a/--qemu-b need to tell a
// spec from a binary path):
//   debian:7.2                       Debian's source package of QEMU 7.2 (newest Debian revision)
//   debian:1:7.2+dfsg-7+deb12u18     one exact Debian version
//   /src/qemu                        a QEMU source directory as it is
//   /src/qemu@v8.2.0                 a git checkout at a ref, built from a clean export
// followed by comma-separated modifiers, applied in the order given:
//   ,patch=FILE  ,revert=FILE  ,configure=--enable-foo (repeatable; appended to the defaults)
// e.g. build:debian:7.2,patch=patches/qemu-7.2-stop-dirty-log-in-pause.patch

import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';

export type SourceSpec =
  | { kind: 'debian'; version: string }
  | { kind: 'dir'; path: string; ref?: string };

export interface PatchStep {
  /** apply the patch, or apply it in reverse */
  mode: 'patch' | 'revert';
  file: string;
}

export interface BuildSpec {
  source: SourceSpec;
  steps: PatchStep[];
  /** extra configure arguments after the defaults */
  configure: string[];
}

export const BUILD_PREFIX = 'build:';

/** `7.2`, `10.0`, `10.0.2`: an upstream release; or a full Debian version `1:7.2+dfsg-7+deb12u18`. */
const UPSTREAM_VERSION = /^\d{1,3}\.\d{1,3}(\.\d{1,3})?$/;
const DEBIAN_VERSION = /^(\d{1,3}:)?\d{1,3}\.\d{1,3}(\.\d{1,3})?\+[a-z]{1,8}(-[0-9A-Za-z.+~]{1,40})?$/;
/** git refs as git check-ref-format allows them, minus everything that could be an option or a range. */
const GIT_REF = /^(?!-)(?!.*\.\.)(?!.*@\{)[A-Za-z0-9._/^~+-]{1,200}$/;
/** a configure argument: an option, never a shell word */
const CONFIGURE_ARG = /^--?[A-Za-z0-9][A-Za-z0-9_.-]*(=[A-Za-z0-9_.,:/+=@%-]*)?$/;

export function isBuildSpec(text: string): boolean {
  return text.startsWith(BUILD_PREFIX);
}

function bad(spec: string, why: string): never {
  throw new UsageError(`build spec "${spec}": ${why}`);
}

export function parseBuildSpec(text: string, what = 'build spec'): BuildSpec {
  const body = isBuildSpec(text) ? text.slice(BUILD_PREFIX.length) : text;
  if (!body) bad(text, `empty (${what})`);
  const [head, ...mods] = body.split(',');
  let source: SourceSpec;
  if (head!.startsWith('debian:')) {
    const version = head!.slice('debian:'.length);
    if (!UPSTREAM_VERSION.test(version) && !DEBIAN_VERSION.test(version)) {
      bad(text, `"${version}" is not a QEMU version like 7.2 or 10.0, nor a Debian version like 1:7.2+dfsg-7+deb12u18`);
    }
    source = { kind: 'debian', version };
  } else {
    if (!head) bad(text, 'no source: give debian:VERSION or a QEMU source directory');
    const at = head.lastIndexOf('@');
    const dir = at > 0 ? head.slice(0, at) : head;
    const ref = at > 0 ? head.slice(at + 1) : undefined;
    if (ref !== undefined && !GIT_REF.test(ref)) bad(text, `"${ref}" is not a git ref`);
    source = { kind: 'dir', path: dir, ...(ref !== undefined && { ref }) };
  }
  const steps: PatchStep[] = [];
  const configure: string[] = [];
  for (const mod of mods) {
    const eq = mod.indexOf('=');
    const key = eq > 0 ? mod.slice(0, eq) : mod;
    const value = eq > 0 ? mod.slice(eq + 1) : '';
    if (!value) bad(text, `"${mod}" needs a value (patch=FILE, revert=FILE or configure=--FLAG)`);
    if (key === 'patch' || key === 'revert') steps.push({ mode: key, file: value });
    else if (key === 'configure') configure.push(checkConfigureArg(value));
    else bad(text, `unknown modifier "${key}" (expected patch=, revert= or configure=)`);
  }
  return { source, steps, configure };
}

export function checkConfigureArg(arg: string): string {
  if (!CONFIGURE_ARG.test(arg)) throw new UsageError(`configure argument "${arg}" is not an option like --enable-foo or --disable-bar=baz`);
  return arg;
}

export function formatBuildSpec(spec: BuildSpec): string {
  for (const s of spec.steps) if (s.file.includes(',')) throw new UsageError(`${s.mode} ${s.file}: a build spec cannot name a file with a comma in it`);
  if (spec.source.kind === 'dir' && spec.source.path.includes(',')) throw new UsageError(`${spec.source.path}: a build spec cannot name a directory with a comma in it`);
  const head = spec.source.kind === 'debian' ? `debian:${spec.source.version}` : `${spec.source.path}${spec.source.ref ? `@${spec.source.ref}` : ''}`;
  return [BUILD_PREFIX + head, ...spec.steps.map((s) => `${s.mode}=${s.file}`), ...spec.configure.map((c) => `configure=${c}`)].join(',');
}

/**
 * The defaults: one target, no optional features, only what migdown needs. KVM (the seed's
 * subject) and TCG (so the same binaries, and the tests that use them, run where /dev/kvm is not
 * usable; costs about a fifth more compile time); the `log` trace backend (the pause breakdown and
 * the dirty-log check); no docs, no blobs (Debian's tarballs have none; firmware comes from the
 * installed qemu-system-data, found through the same data and firmware paths as Debian's QEMU).
 * Chardev sockets, multiboot and SeaBIOS/qboot are always built for x86_64-softmmu.
 */
export const DEFAULT_CONFIGURE = [
  '--target-list=x86_64-softmmu',
  '--without-default-features',
  '--enable-kvm',
  '--enable-tcg',
  '--enable-trace-backends=log',
  '--disable-docs',
  '--disable-werror',
  '-Dinstall_blobs=false',
  '--prefix=/usr',
  '--firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu',
] as const;

/**
 * The configure arguments for one source: the defaults (unless replaced), the spec's extras,
 * and `--disable-download` where configure has it (no network for subprojects or wheels).
 */
export function configureArgs(spec: BuildSpec, sourceHas: { disableDownload: boolean }, defaults: readonly string[] = DEFAULT_CONFIGURE): string[] {
  return [...defaults, ...(sourceHas.disableDownload ? ['--disable-download'] : []), ...spec.configure];
}

export interface CacheKeyInput {
  /** git tree id, or sha256 of the Debian source package's files, or of a directory's files */
  sourceId: string;
  steps: Array<{ mode: PatchStep['mode']; sha256: string }>;
  configure: string[];
  /** what decides whether a binary runs here: arch, compiler, distribution */
  host: string;
}

/** Content address of a build: same inputs, same key, same binary. */
export function cacheKey(input: CacheKeyInput): string {
  const canonical = JSON.stringify({
    v: 1,
    source: input.sourceId,
    steps: input.steps.map((s) => `${s.mode}:${s.sha256}`),
    configure: input.configure,
    host: input.host,
  });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

/** A ninja status line: `[123/1440] Compiling C object ...`. */
export function parseNinjaProgress(line: string): { done: number; total: number } | undefined {
  const m = /^\[(\d+)\/(\d+)\]/.exec(line);
  if (!m) return undefined;
  const done = Number(m[1]);
  const total = Number(m[2]);
  return total > 0 && done <= total ? { done, total } : undefined;
}

/** The 10 % step a fraction has reached (0..10), for one line per step where there is no terminal. */
export function tenthOf(done: number, total: number): number {
  return total > 0 ? Math.floor((done / total) * 10) : 0;
}

/** Remaining time from the rate so far; undefined until there is a rate to speak of. */
export function etaSeconds(done: number, total: number, elapsedS: number): number | undefined {
  if (done < 5 || elapsedS < 2 || done >= total) return undefined;
  return ((total - done) * elapsedS) / done;
}

/** The lines of a failed build's log worth showing: the compiler's errors with a little context. */
export function lastErrorLines(log: string, max = 12): string[] {
  const lines = log.split('\n').map((l) => l.trimEnd());
  const isError = (l: string) => /(^|\s|:)(fatal )?error:|^FAILED:|^ERROR:|undefined reference|No such file or directory|Error \d+$/.test(l);
  const idx = lines.reduce<number[]>((acc, l, i) => (isError(l) ? [...acc, i] : acc), []);
  if (!idx.length) return lines.filter(Boolean).slice(-max);
  // From the first FAILED/error line among the last ones, a few lines after each.
  const picked = new Set<number>();
  for (const i of idx.slice(-max)) for (let j = i; j <= Math.min(i + 2, lines.length - 1); j++) picked.add(j);
  return [...picked].sort((a, b) => a - b).map((i) => lines[i]!).filter(Boolean).slice(-max);
}

/**
 * Debian versions of QEMU whose upstream part is the requested release, newest first:
 * `7.2` matches 1:7.2+dfsg-7+deb12u18, `10.0` matches 1:10.0.13+ds-0+deb13u1 and 1:10.0.2+ds-...
 */
export function matchDebianVersions(requested: string, available: string[], compare: (a: string, b: string) => number): string[] {
  const upstreamOf = (v: string) => v.replace(/^\d+:/, '').replace(/\+.*$/, '').replace(/-.*$/, '');
  const matches = available.filter((v) => {
    if (!UPSTREAM_VERSION.test(requested)) return v === requested;
    const up = upstreamOf(v);
    return up === requested || up.startsWith(`${requested}.`);
  });
  return [...new Set(matches)].sort((a, b) => compare(b, a));
}

/** `7.2.22` or `10.0.13` from a QEMU VERSION file, as major.minor (7.2, 10.0): for {version} in patch paths. */
export function majorMinor(version: string): string | undefined {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  return m ? `${m[1]}.${m[2]}` : undefined;
}

/** Build dependencies: the program or pkg-config module, and the Debian package that provides it. */
export const BUILD_DEPS: ReadonlyArray<{ check: { program: string } | { pkgconfig: string } | { pymodule: string }; pkg: string }> = [
  { check: { program: 'gcc' }, pkg: 'build-essential' },
  { check: { program: 'make' }, pkg: 'build-essential' },
  { check: { program: 'ninja' }, pkg: 'ninja-build' },
  { check: { program: 'meson' }, pkg: 'meson' },
  { check: { program: 'pkg-config' }, pkg: 'pkg-config' },
  { check: { program: 'flex' }, pkg: 'flex' },
  { check: { program: 'bison' }, pkg: 'bison' },
  { check: { program: 'python3' }, pkg: 'python3' },
  { check: { pymodule: 'venv' }, pkg: 'python3-venv' },
  { check: { pymodule: 'ensurepip' }, pkg: 'python3-venv' },
  { check: { pkgconfig: 'glib-2.0' }, pkg: 'libglib2.0-dev' },
  { check: { pkgconfig: 'pixman-1' }, pkg: 'libpixman-1-dev' },
  { check: { pkgconfig: 'zlib' }, pkg: 'zlib1g-dev' },
];

/** Packages only a Debian source needs (apt-get source unpacks with dpkg-source). */
export const DEBIAN_SOURCE_DEPS: ReadonlyArray<{ check: { program: string }; pkg: string }> = [{ check: { program: 'dpkg-source' }, pkg: 'dpkg-dev' }];

/** The one line that installs what is missing. */
export function aptInstallLine(pkgs: string[]): string {
  return `apt-get install -y ${[...new Set(pkgs)].sort().join(' ')}`;
}
