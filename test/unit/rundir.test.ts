// Run directories and the stale-directory sweep (src/util/rundir.ts), on the real file system
// and /proc: the sweep removes only this uid's directories, from this boot and this PID
// namespace, whose maker is gone, and never follows a symlink.

import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { currentOwner, makeRunDir, processStartTime, removeStaleRunDirs, runDirBase, type RunDirOwner } from '../../src/util/rundir.js';

const made: string[] = [];
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'rundir-test-'));
  made.push(d);
  return d;
}
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function plant(base: string, name: string, owner: Partial<RunDirOwner> | string): string {
  const dir = path.join(base, name);
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(path.join(dir, typeof owner === 'string' ? 'owner.pid' : 'owner.json'), typeof owner === 'string' ? owner : JSON.stringify(owner));
  return dir;
}

const DEAD = 2 ** 22 + 1; // above pid_max's ceiling: no such process

describe('run directories', () => {
  it('go under $XDG_RUNTIME_DIR when it is a private directory of this user, else the temp dir', async () => {
    const xdg = tmp();
    chmodSync(xdg, 0o700);
    expect(await runDirBase({ XDG_RUNTIME_DIR: xdg })).toBe(xdg);
    const dir = await makeRunDir({ XDG_RUNTIME_DIR: xdg });
    expect(path.dirname(dir)).toBe(xdg);
    const owner = JSON.parse(readFileSync(path.join(dir, 'owner.json'), 'utf8')) as RunDirOwner;
    expect(owner.pid).toBe(process.pid);
    expect(owner.bootId).toBe(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    expect(owner.pidNamespace).toMatch(/^pid:\[\d+\]$/);
    expect(owner.startTime).toMatch(/^\d+$/);
    chmodSync(xdg, 0o777);
    expect(await runDirBase({ XDG_RUNTIME_DIR: xdg })).toBe(os.tmpdir());
    expect(await runDirBase({ XDG_RUNTIME_DIR: 'relative/dir' })).toBe(os.tmpdir());
    expect(await runDirBase({})).toBe(os.tmpdir());
  });

  it('the start time tells a live process from a reused pid', async () => {
    expect(await processStartTime(process.pid)).toBe((await currentOwner()).startTime);
    expect(await processStartTime(DEAD)).toBe('');
  });
});

describe('the stale run-directory sweep', () => {
  it("removes this uid's directories from this boot and namespace whose maker is gone, keeps everything else", async () => {
    const base = tmp();
    const me = await currentOwner();
    const stale = plant(base, 'migdown-stale', { ...me, pid: DEAD });
    const reused = plant(base, 'migdown-reused', { ...me, startTime: '1' }); // our pid, another process's start
    const live = plant(base, 'migdown-live', me);
    const otherBoot = plant(base, 'migdown-otherboot', { ...me, pid: DEAD, bootId: '00000000-0000-0000-0000-000000000000' });
    const otherNs = plant(base, 'migdown-otherns', { ...me, pid: DEAD, pidNamespace: 'pid:[1]' }); // a live run in a container
    const oldFormat = plant(base, 'migdown-old', `${DEAD}\n`);
    const notOurs = plant(base, 'other-stale', { ...me, pid: DEAD });
    expect(await removeStaleRunDirs([base])).toBe(2);
    expect([stale, reused].map(existsSync)).toEqual([false, false]);
    expect([live, otherBoot, otherNs, oldFormat, notOurs].map(existsSync)).toEqual([true, true, true, true, true]);
  });

  it.skipIf(process.getuid?.() !== 0)("as root: another user's directory is left alone", async () => {
    const base = tmp();
    const theirs = plant(base, 'migdown-theirs', { ...(await currentOwner()), pid: DEAD });
    chownSync(theirs, 65534, 65534);
    expect(await removeStaleRunDirs([base])).toBe(0);
    expect(existsSync(theirs)).toBe(true);
  });

  it('never follows a symlink: neither one named migdown-* nor one inside a stale directory', async () => {
    const base = tmp();
    const me = await currentOwner();
    const outside = path.join(tmp(), 'precious');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'data'), 'keep me');
    // a link named like a run directory, pointing at a directory that looks stale
    const target = plant(tmp(), 'migdown-target', { ...me, pid: DEAD });
    symlinkSync(target, path.join(base, 'migdown-link'));
    // a stale directory with a link to the outside inside it
    const stale = plant(base, 'migdown-stale', { ...me, pid: DEAD });
    symlinkSync(outside, path.join(stale, 'sockets'));
    // an owner file that is a link is not read
    const linkedOwner = path.join(base, 'migdown-linkedowner');
    mkdirSync(linkedOwner);
    symlinkSync(path.join(stale, 'owner.json'), path.join(linkedOwner, 'owner.json'));
    expect(await removeStaleRunDirs([base])).toBe(1);
    expect(existsSync(stale)).toBe(false);
    expect(readFileSync(path.join(outside, 'data'), 'utf8')).toBe('keep me');
    expect(existsSync(path.join(target, 'owner.json'))).toBe(true);
    expect(existsSync(path.join(base, 'migdown-link'))).toBe(true);
    expect(existsSync(linkedOwner)).toBe(true);
  });
});
