import { describe, expect, it } from 'vitest';
import {
  aptInstallLine,
  cacheKey,
  configureArgs,
  DEFAULT_CONFIGURE,
  etaSeconds,
  formatBuildSpec,
  isBuildSpec,
  lastErrorLines,
  majorMinor,
  matchDebianVersions,
  parseBuildSpec,
  parseNinjaProgress,
  tenthOf,
} from '../../src/build/spec.js';
import { patchPathFor } from '../../src/build/toolchain.js';
import { buildProgressBar, buildProgressLine } from '../../src/render/build-progress.js';
import { scenarioBuildSpec } from '../../src/scenario/apply.js';

describe('build specs', () => {
  it('parses Debian versions, directories, refs and modifiers in order', () => {
    expect(parseBuildSpec('build:debian:7.2')).toEqual({ source: { kind: 'debian', version: '7.2' }, steps: [], configure: [] });
    expect(parseBuildSpec('debian:1:7.2+dfsg-7+deb12u18').source).toEqual({ kind: 'debian', version: '1:7.2+dfsg-7+deb12u18' });
    expect(parseBuildSpec('build:/src/qemu@v8.2.0,patch=a.patch,revert=b.patch,patch=c.patch,configure=--enable-slirp')).toEqual({
      source: { kind: 'dir', path: '/src/qemu', ref: 'v8.2.0' },
      steps: [
        { mode: 'patch', file: 'a.patch' },
        { mode: 'revert', file: 'b.patch' },
        { mode: 'patch', file: 'c.patch' },
      ],
      configure: ['--enable-slirp'],
    });
    expect(isBuildSpec('build:debian:7.2')).toBe(true);
    expect(isBuildSpec('/usr/bin/qemu-system-x86_64')).toBe(false);
  });

  it('round-trips through formatBuildSpec', () => {
    const text = 'build:debian:10.0,patch=/p/x.patch,revert=/p/y.patch,configure=--enable-slirp';
    expect(formatBuildSpec(parseBuildSpec(text))).toBe(text);
  });

  it.each([
    ['debian:7.2;rm -rf /', /not a QEMU version/],
    ['debian:latest', /not a QEMU version/],
    ['/src/qemu@--output=x', /not a git ref/],
    ['/src/qemu@a..b', /not a git ref/],
    ['debian:7.2,patch=', /needs a value/],
    ['debian:7.2,frobnicate=1', /unknown modifier "frobnicate"/],
    ['debian:7.2,configure=$(reboot)', /is not an option/],
    ['debian:7.2,configure=--cc=gcc;ls', /is not an option/],
    ['build:', /empty/],
  ])('rejects %s in one line', (text, why) => {
    expect(() => parseBuildSpec(text)).toThrow(why);
  });

  it('refuses a file name with a comma rather than splitting it', () => {
    expect(() => formatBuildSpec({ source: { kind: 'debian', version: '7.2' }, steps: [{ mode: 'patch', file: '/a,b.patch' }], configure: [] })).toThrow(/comma/);
  });

  it('resolves a scenario build against the scenario file, with --source replacing the source', () => {
    const b = { source: 'debian:7.2', patch: ['../patches/qemu-{version}-x.patch'] };
    expect(scenarioBuildSpec(b, '/pkg/scenarios/seed.yaml')).toBe('build:debian:7.2,patch=/pkg/patches/qemu-{version}-x.patch');
    expect(scenarioBuildSpec(b, '/pkg/scenarios/seed.yaml', 'debian:10.0')).toBe('build:debian:10.0,patch=/pkg/patches/qemu-{version}-x.patch');
    expect(scenarioBuildSpec({ source: '../qemu@v9.0.0' }, '/pkg/scenarios/s.yaml')).toBe('build:/pkg/qemu@v9.0.0');
    expect(patchPathFor('/p/qemu-{version}-x.patch', '10.0.13')).toBe('/p/qemu-10.0-x.patch');
    expect(majorMinor('7.2.22\n')).toBe('7.2');
  });
});

describe('configure flags and the cache key', () => {
  const spec = parseBuildSpec('debian:10.0,configure=--enable-slirp');
  it('defaults first, --disable-download where configure has it, the spec last', () => {
    const args = configureArgs(spec, { disableDownload: true });
    expect(args.slice(0, DEFAULT_CONFIGURE.length)).toEqual([...DEFAULT_CONFIGURE]);
    expect(args.slice(-2)).toEqual(['--disable-download', '--enable-slirp']);
    expect(DEFAULT_CONFIGURE).toEqual(expect.arrayContaining(['--enable-kvm', '--enable-tcg', '--enable-trace-backends=log', '--target-list=x86_64-softmmu']));
    expect(configureArgs(spec, { disableDownload: false }, [])).toEqual(['--enable-slirp']);
  });

  it('changes with the source, each patch, its mode, the flags and the host; not otherwise', () => {
    const base = { sourceId: 'debian:1:7.2+dfsg-7:abc', steps: [{ mode: 'patch' as const, sha256: 'p1' }], configure: ['--enable-kvm'], host: 'x64 debian 12 gcc 12.2.0' };
    const k = cacheKey(base);
    expect(cacheKey({ ...base })).toBe(k);
    expect(k).toMatch(/^[0-9a-f]{32}$/);
    for (const other of [
      { ...base, sourceId: 'git-tree:123' },
      { ...base, steps: [] },
      { ...base, steps: [{ mode: 'revert' as const, sha256: 'p1' }] },
      { ...base, steps: [{ mode: 'patch' as const, sha256: 'p2' }] },
      { ...base, configure: ['--enable-kvm', '--enable-tcg'] },
      { ...base, host: 'arm64 debian 12 gcc 12.2.0' },
    ]) {
      expect(cacheKey(other)).not.toBe(k);
    }
  });
});

describe('Debian versions', () => {
  const all = ['1:10.0.13+ds-0+deb13u1', '1:10.0.2+ds-2+deb13u1~bpo12+1', '1:7.2+dfsg-7+deb12u18', '1:7.2+dfsg-7+deb12u15'];
  const order = (a: string, b: string) => all.indexOf(b) - all.indexOf(a); // `all` is newest first
  it('matches a release to its Debian versions, newest first', () => {
    expect(matchDebianVersions('7.2', all, order)).toEqual(['1:7.2+dfsg-7+deb12u18', '1:7.2+dfsg-7+deb12u15']);
    expect(matchDebianVersions('10.0', all, order)).toEqual(['1:10.0.13+ds-0+deb13u1', '1:10.0.2+ds-2+deb13u1~bpo12+1']);
    expect(matchDebianVersions('10.0.2', all, order)).toEqual(['1:10.0.2+ds-2+deb13u1~bpo12+1']);
    expect(matchDebianVersions('1:7.2+dfsg-7+deb12u15', all, order)).toEqual(['1:7.2+dfsg-7+deb12u15']);
    expect(matchDebianVersions('7.3', all, order)).toEqual([]);
    expect(matchDebianVersions('1.0', all, order)).toEqual([]);
  });
  it('names the packages to install in one line', () => {
    expect(aptInstallLine(['ninja-build', 'build-essential', 'ninja-build'])).toBe('apt-get install -y build-essential ninja-build');
  });
});

describe('build progress', () => {
  it("reads ninja's [N/M]", () => {
    expect(parseNinjaProgress('[432/1440] Compiling C object libqemuutil.a.p/util_cutils.c.o')).toEqual({ done: 432, total: 1440 });
    expect(parseNinjaProgress('ninja: Entering directory `build')).toBeUndefined();
    expect(parseNinjaProgress('[5/0] x')).toBeUndefined();
  });
  it('steps in tenths and estimates what is left from the rate so far', () => {
    expect(tenthOf(143, 1440)).toBe(0);
    expect(tenthOf(144, 1440)).toBe(1);
    expect(tenthOf(1440, 1440)).toBe(10);
    expect(etaSeconds(360, 1440, 60)).toBe(180);
    expect(etaSeconds(2, 1440, 60)).toBeUndefined();
  });
  it('draws a bar within the width and a plain line per step', () => {
    const bar = buildProgressBar({ done: 720, total: 1440, elapsedMs: 300_000, etaMs: 300_000 }, 80);
    expect(bar).toBe('build [####################...................] 720/1440 50% 5m00s, ~5m00s left');
    expect(bar.length).toBeLessThanOrEqual(80);
    expect(buildProgressLine({ done: 740, total: 1440, elapsedMs: 61_000 })).toBe('migdown: build 50% (740/1440), 1m01s');
  });
});

describe('a failed build', () => {
  it('shows the compiler errors, not the noise before them', () => {
    const log = [
      '[1/3] Compiling C object a.o',
      '[2/3] Compiling C object migration/ram.c.o',
      'FAILED: libqemu-x86_64-softmmu.fa.p/migration_ram.c.o',
      'cc -m64 -mcx16 -Ilibqemu ... -c ../src/migration/ram.c',
      "../src/migration/ram.c:3441:5: error: 'frobnicate' undeclared (first use in this function)",
      ' 3441 |     frobnicate();',
      '      |     ^~~~~~~~~~',
      'ninja: build stopped: subcommand failed.',
    ].join('\n');
    const lines = lastErrorLines(log);
    expect(lines[0]).toMatch(/^FAILED:/);
    expect(lines).toContain("../src/migration/ram.c:3441:5: error: 'frobnicate' undeclared (first use in this function)");
    expect(lines).not.toContain('[1/3] Compiling C object a.o');
  });
});
