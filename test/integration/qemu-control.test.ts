// QEMU stays in migdown's hands: arguments that fork it away or drop its parent-death signal
// are refused up front; an old setpriv without --pdeathsig is detected and not used; the same
// start-up failure twice in a row stops the series; doctor reports a QEMU that exits at once.

import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/errors.js';
import { migdown, newTag, qemuPids, readJsonl, tagArgs, tmpDir } from './helpers.js';

function script(name: string, body: string): string {
  const dir = tmpDir();
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** Answers --version like QEMU 7.2, then fails to start as a QEMU without its firmware does. */
const brokenQemu = () =>
  script(
    'qemu-system-x86_64',
    'if [ "$1" = "--version" ]; then echo "QEMU emulator version 7.2.22"; exit 0; fi\necho "qemu-system-x86_64: could not load PC BIOS \'bios-256k.bin\'" >&2\nexit 1',
  );

describe('arguments that take QEMU out of migdown\'s control', () => {
  it.each([
    [['--qemu-arg=-daemonize'], /--qemu-arg: -daemonize would take QEMU out of migdown's control/],
    [['--qemu-arg=--daemonize'], /--qemu-arg: -daemonize would/],
    [['--qemu-arg=-runas', '--qemu-arg=nobody'], /--qemu-arg: -runas would/],
    [['--qemu-arg=-run-with', '--qemu-arg=chroot=/,user=nobody'], /--qemu-arg: -run-with user= would/],
  ])('run %j: exit 2, one line', async (args, message) => {
    const r = await migdown(['run', '--qemu', '/nonexistent/qemu', ...args]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it('compare checks --a-arg and --b-arg too', async () => {
    const r = await migdown(['compare', '--qemu-a', '/nonexistent/a', '--qemu-b', '/nonexistent/b', '--b-arg=-daemonize']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toMatch(/^migdown: --b-arg: -daemonize would/);
  });

  it('a scenario\'s vm.args are checked the same way', async () => {
    const file = path.join(tmpDir(), 'd.yaml');
    writeFileSync(file, 'name: d\ndescription: d\nvm:\n  args: [-daemonize]\n');
    const r = await migdown(['run', '--qemu', '/nonexistent/qemu', '--scenario', file]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toMatch(/-daemonize would take QEMU out/);
  });
});

describe('a setpriv without --pdeathsig (util-linux < 2.33)', () => {
  const oldSetpriv = script(
    'setpriv',
    'case "$1" in --help) echo "Usage: setpriv [options] <program> [<argument>...]"; echo " --reuid <ruid>  set real uid"; exit 0;;\n' +
      '--pdeathsig) echo "setpriv: unrecognized option \'--pdeathsig\'" >&2; exit 1;; esac\n[ "$1" = "--" ] && shift\nexec "$@"',
  );

  it('is detected by its --help and not used: QEMU starts and the migration completes', async () => {
    const tag = newTag();
    const out = path.join(tmpDir(), 'r.jsonl');
    const r = await migdown(['run', '--guest', 'none', '--ram', '128M', '--smp', '1', '--runs', '1', '-q', '--out', out, ...tagArgs(tag)], {
      env: { PATH: `${path.dirname(oldSetpriv)}:${process.env.PATH}` },
    });
    expect(r.exitCode, r.all).toBe(0);
    expect(readJsonl(out).filter((l) => l.kind === 'trial').map((t) => t.status)).toEqual(['completed']);
    expect(qemuPids(tag)).toEqual([]);
  });

  it('doctor says so', async () => {
    const r = await migdown(['doctor', '--qemu', '/nonexistent/qemu'], { env: { PATH: `${path.dirname(oldSetpriv)}:${process.env.PATH}` } });
    expect(r.stdout).toMatch(/note +setpriv: .*setpriv has no --pdeathsig \(util-linux before 2\.33\)/);
  });
});

describe('fail fast', () => {
  it('the same start-up error twice in a row stops the run with one line, exit "could not measure"', async () => {
    const qemu = brokenQemu();
    const out = path.join(tmpDir(), 'r.jsonl');
    const r = await migdown(['run', '--qemu', qemu, '--guest', 'none', '--ram', '128M', '--smp', '1', '--runs', '5', '-q', '--out', out]);
    expect(r.exitCode).toBe(EXIT.couldNotMeasure);
    expect(r.stderr.trim().split('\n')).toEqual([
      `migdown: trials 1 and 2 failed the same way with ${qemu}: source QEMU exited with code 1: qemu-system-x86_64: could not load PC BIOS 'bios-256k.bin'; stopped (both are in the results file)`,
    ]);
    expect(readJsonl(out).filter((l) => l.kind === 'trial')).toHaveLength(2);
  });

  it('a compare with one broken build stops once that build failed twice, though the other works', async () => {
    const tag = newTag();
    const qemu = brokenQemu();
    const out = path.join(tmpDir(), 'c.jsonl');
    const r = await migdown(['compare', '--qemu-b', qemu, '--guest', 'none', '--ram', '128M', '--smp', '1', '--runs', '5', '--warmup', '0', '-q', '--out', out, ...tagArgs(tag)]);
    expect(r.exitCode, r.all).toBe(EXIT.couldNotMeasure);
    expect(r.stderr).toMatch(/trials 2 and 4 failed the same way/);
    expect(readJsonl(out).filter((l) => l.kind === 'trial').map((t) => t.status)).toEqual(['completed', 'error', 'completed', 'error']);
    expect(qemuPids(tag)).toEqual([]);
  });
});

describe('doctor never crashes', () => {
  it('with a QEMU that exits at once: a problem line with its stderr, exit 1', async () => {
    const r = await migdown(['doctor', '--qemu', brokenQemu()]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.stdout).toMatch(/problem QEMU start: QEMU .* did not start: exited with code 1: qemu-system-x86_64: could not load PC BIOS/);
  });
});
