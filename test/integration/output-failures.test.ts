// Output that cannot be written: refused before any VM starts when it can be seen up front
// (exit 2, one line); a disk that fills up later loses nothing measured: the table is
// printed, the failed file named, and the exit code is "could not measure". Signals are
// honoured even while a file system call hangs.

import { execa } from 'execa';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/errors.js';
import { CLI, migdown, newTag, qemuPids, tagArgs, tmpDir } from './helpers.js';

const COMPARE_FIXTURE = path.join(import.meta.dirname, '..', 'fixtures', 'results', 'compare-small.jsonl');
const NO_QEMU = ['--qemu', '/nonexistent/qemu-system-x86_64', '--runs', '1'];

function oneLine(r: { stderr: string }) {
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
}

describe('unwritable output, seen before anything runs', () => {
  it.each([
    [['--html', '/proc/nope/r.html'], /^migdown: --html \/proc\/nope\/r\.html: cannot write \/proc\/nope: ENOENT$/],
    [['--svg', '/proc/nope'], /^migdown: --svg \/proc\/nope: cannot write \/proc\/nope: ENOENT$/],
    [['--svg', '/proc/self/status'], /^migdown: --svg \/proc\/self\/status: cannot write/],
  ])('run %j: exit 2 before QEMU is even looked at', async (args, message) => {
    const r = await migdown(['run', ...NO_QEMU, ...args]);
    expect(r.exitCode).toBe(2);
    oneLine(r);
    expect(r.stderr.trim()).toMatch(message);
  });

  it('--out on a full disk: exit 2 at the header, no VM started', async () => {
    const tag = newTag();
    const r = await migdown(['run', '--guest', 'none', '--ram', '128M', '--smp', '1', '--runs', '1', '--out', '/dev/full', ...tagArgs(tag)]);
    expect(r.exitCode).toBe(2);
    oneLine(r);
    expect(r.stderr.trim()).toBe('migdown: --out /dev/full: cannot write: ENOSPC');
    expect(qemuPids(tag)).toEqual([]);
  });

  it('--out in procfs: exit 2', async () => {
    const r = await migdown(['run', '--guest', 'none', '--ram', '128M', '--smp', '1', '--runs', '1', '--out', '/proc/migdown.jsonl']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toBe('migdown: --out /proc/migdown.jsonl: cannot write /proc/migdown.jsonl: ENOENT');
  });

  it('report --svg /proc/nope ends at once (recursive mkdir on procfs used to spin forever)', async () => {
    const r = await execa('node', [CLI, 'report', COMPARE_FIXTURE, '--svg', '/proc/nope'], { reject: false, timeout: 20_000, env: { NO_COLOR: '1' } });
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toBe('migdown: --svg /proc/nope: cannot write /proc/nope: ENOENT');
  });

  it('report --html on a full disk: the table is printed, the file named, exit 1', async () => {
    const r = await migdown(['report', COMPARE_FIXTURE, '--html', '/dev/full']);
    expect(r.exitCode).toBe(EXIT.failure);
    expect(r.stdout).toMatch(/without this patch/);
    expect(r.stderr.trim()).toBe('migdown: could not write the HTML report /dev/full: ENOSPC');
  });
});

describe('signals', () => {
  it('SIGTERM ends migdown even while a file system call hangs (a FIFO nobody writes)', async () => {
    const fifo = path.join(tmpDir(), 'results.jsonl');
    await execa('mkfifo', [fifo]);
    const child = execa('node', [CLI, 'report', fifo], { reject: false, timeout: 30_000, forceKillAfterDelay: false });
    await new Promise((r) => setTimeout(r, 1000));
    child.kill('SIGTERM');
    const r = await child;
    expect(r.timedOut).toBe(false);
    expect(r.signal).toBe('SIGTERM');
  });
});

// A tiny tmpfs fills up after the header: the first trial's record does not fit.
const mountPoint = path.join(tmpDir(), 'full');
mkdirSync(mountPoint);
const mounted = (await execa('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'tmpfs', mountPoint], { reject: false })).exitCode === 0;
afterAll(async () => {
  if (mounted) await execa('umount', [mountPoint], { reject: false });
});

describe.skipIf(!mounted)('a disk that fills up during the run (tmpfs of 4 KiB; needs root)', () => {
  it('keeps the measured trial, prints the table, names the file, exits "could not measure"', async () => {
    const tag = newTag();
    const out = path.join(mountPoint, 'r.jsonl');
    const r = await migdown(['run', '--guest', 'none', '--ram', '128M', '--smp', '1', '--runs', '3', '-q', '--out', out, ...tagArgs(tag)]);
    expect(r.exitCode, r.all).toBe(EXIT.couldNotMeasure);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.stdout).toMatch(/│\s+1 │ completed/);
    expect(r.stderr.trim()).toBe(`migdown: could not write the results file ${out}: ENOSPC; stopped after 1 trials, printed above`);
    expect(readFileSync(out, 'utf8')).toMatch(/^\{"kind":"header"/);
    expect(qemuPids(tag)).toEqual([]);
  });
});
