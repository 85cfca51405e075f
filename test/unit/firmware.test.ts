import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataDirArgs, findQboot, firmwareArgs, parseDataDirs, resolveFirmware, trialFirmware } from '../../src/qemu/firmware.js';
import { UsageError } from '../../src/errors.js';

const fixture = (version: string) => readFileSync(new URL(`../fixtures/versions/${version}/data-dirs.txt`, import.meta.url), 'utf8');

describe('parseDataDirs (real `qemu -L help` output)', () => {
  it('reads the search path of the apt 7.2 binary', () => {
    expect(parseDataDirs(fixture('7.2.22'))).toEqual(['/usr/bin/../share/qemu', '/usr/bin/../share/seabios', '/usr/bin/../lib/ipxe/qemu']);
  });
  it("puts a wrapper's -L directories first, as QEMU searches them (5.2, 10.0)", () => {
    for (const v of ['5.2.0', '10.0.2']) {
      const dirs = parseDataDirs(fixture(v));
      expect(dirs.length).toBeGreaterThan(3);
      expect(dirs[0]).toMatch(/\/root\/usr\/share\/qemu$/);
      expect(dirs.at(-3)).toBe('/usr/share/qemu');
    }
  });
  it('ignores anything that is not an absolute directory', () => {
    expect(parseDataDirs('qemu: warning: x\n\n  /a/b  \nrelative\n')).toEqual(['/a/b']);
  });
});

describe('dataDirArgs', () => {
  it('keeps only -L DIR pairs of the trial arguments', () => {
    expect(dataDirArgs(['-cpu', 'host', '-L', '/opt/q/share', '-L', 'help', '-L'])).toEqual(['-L', '/opt/q/share']);
  });
});

describe('resolveFirmware', () => {
  let dir: string;
  let withQboot: string;
  let withoutQboot: string;
  let broken: string;
  beforeAll(async () => {
    // Stand-ins for `qemu -L help` only: they print a data directory and exit.
    dir = await mkdtemp(path.join(os.tmpdir(), 'migdown-fw-'));
    await writeFile(path.join(dir, 'qboot.rom'), Buffer.alloc(16));
    const script = async (name: string, body: string) => {
      const p = path.join(dir, name);
      await writeFile(p, `#!/bin/sh\n${body}\n`);
      await chmod(p, 0o755);
      return p;
    };
    withQboot = await script('with', `for a; do [ "$a" = help ] && { echo /nonexistent; echo "${dir}"; exit 0; }; done; exit 1`);
    withoutQboot = await script('without', 'echo /nonexistent; exit 0');
    broken = await script('broken', 'echo "qemu: -L help: unknown" >&2; exit 1');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('finds qboot.rom in the first listed directory that has it', async () => {
    expect(await findQboot(withQboot)).toBe(path.join(dir, 'qboot.rom'));
    expect(await findQboot(withoutQboot)).toBeUndefined();
    expect(await findQboot(broken)).toBeUndefined();
  });

  it('auto: qboot when every binary has it; the same -bios for all', async () => {
    const fw = await resolveFirmware('auto', { guest: 'builtin', binaries: [withQboot, withQboot] });
    expect(fw).toMatchObject({ requested: 'auto', name: 'qboot', bios: 'qboot.rom' });
    expect(firmwareArgs(fw)).toEqual(['-bios', 'qboot.rom']);
    expect(trialFirmware(fw, withQboot)).toEqual({ name: 'qboot', path: path.join(dir, 'qboot.rom') });
    // A variant's own -bios (compare --b-arg) wins, and its record says so.
    expect(firmwareArgs(fw, ['-bios', 'bios-256k.bin'])).toEqual([]);
    expect(trialFirmware(fw, withQboot, ['-bios', 'bios-256k.bin'])).toEqual({ name: 'file', path: 'bios-256k.bin' });
  });

  it('auto: SeaBIOS, with the reason, when one binary lacks qboot, for disk images and remote destinations', async () => {
    const missing = await resolveFirmware('auto', { guest: 'builtin', binaries: [withQboot, withoutQboot] });
    expect(missing.name).toBe('seabios');
    expect(missing.note).toContain(withoutQboot);
    expect(firmwareArgs(missing)).toEqual([]);
    expect((await resolveFirmware('auto', { guest: 'image', binaries: [withQboot] })).name).toBe('seabios');
    expect((await resolveFirmware('auto', { guest: 'builtin', binaries: [withQboot], remote: true })).name).toBe('seabios');
  });

  it('seabios and files as asked; impossible requests are usage errors', async () => {
    expect(await resolveFirmware('seabios', { guest: 'builtin', binaries: [withQboot] })).toEqual({ requested: 'seabios', name: 'seabios' });
    const file = await resolveFirmware(path.join(dir, 'qboot.rom'), { guest: 'image', binaries: [] });
    expect(file).toMatchObject({ name: 'file', bios: path.join(dir, 'qboot.rom') });
    await expect(resolveFirmware('qboot', { guest: 'builtin', binaries: [withoutQboot] })).rejects.toThrow(UsageError);
    await expect(resolveFirmware('qboot', { guest: 'image', binaries: [withQboot] })).rejects.toThrow(/disk image/);
    await expect(resolveFirmware('./no/such.rom', { guest: 'builtin', binaries: [] })).rejects.toThrow(/not auto, seabios, qboot or a readable file/);
  });
});
