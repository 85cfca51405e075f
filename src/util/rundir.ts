// Private run directories (mode 0700) hold a trial's monitor and serial sockets and trace
// logs, under $XDG_RUNTIME_DIR when the session has one (per user, never shared), else the
// OS temp dir. A migdown killed with SIGKILL cannot remove its own, so each records who made
// it, and the next migdown removes directories whose maker is gone.
//
// The temp dir is shared, and migdown often runs as root, so the sweep judges only what it
// can judge for sure and removes nothing else:
//   - a directory (lstat: never a symlink) owned by this uid;
//   - made in this boot of this host (/proc/sys/kernel/random/boot_id): a pid from another
//     boot, or from another host sharing the directory, means nothing here;
//   - made in this PID namespace (the inode of /proc/self/ns/pid): a live migdown in a
//     container has a pid this process cannot see;
//   - whose maker is gone: no process with that pid, or one that started at another time
//     (field 22 of /proc/PID/stat), i.e. the pid was reused.
// Removal is GNU rm's (`rm -rf --one-file-system`): it walks with openat() relative to each
// opened directory, never follows a symlink and does not cross into another file system, so a
// link planted inside cannot be raced into deleting anything outside.

import { execa } from 'execa';
import { constants } from 'node:fs';
import { lstat, mkdtemp, open, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const PREFIX = 'migdown-';
const OWNER = 'owner.json';

/** Who made a run directory: enough to tell, later, whether that process still runs. */
export interface RunDirOwner {
  pid: number;
  /** /proc/PID/stat field 22, clock ticks after boot */
  startTime: string;
  bootId: string;
  /** "pid:[4026531836]" */
  pidNamespace: string;
}

async function procText(file: string): Promise<string> {
  return (await readFile(file, 'utf8').catch(() => '')).trim();
}

/** A process's start time (field 22 of /proc/PID/stat), or '' when there is no such process. */
export async function processStartTime(pid: number): Promise<string> {
  const stat = await procText(`/proc/${pid}/stat`);
  // the command name (field 2) is in parentheses and may contain spaces or ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? '';
}

/** This process as a run directory's owner: read once, since none of it changes while it runs. */
let me: Promise<RunDirOwner> | undefined;
export function currentOwner(): Promise<RunDirOwner> {
  return (me ??= readCurrentOwner());
}

async function readCurrentOwner(): Promise<RunDirOwner> {
  const [startTime, bootId, pidNamespace] = await Promise.all([
    processStartTime(process.pid),
    procText('/proc/sys/kernel/random/boot_id'),
    readlink('/proc/self/ns/pid').catch(() => ''),
  ]);
  return { pid: process.pid, startTime, bootId, pidNamespace };
}

/** $XDG_RUNTIME_DIR when it is a real directory of this user, else the OS temp dir. */
export async function runDirBase(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const xdg = env['XDG_RUNTIME_DIR'];
  if (xdg && path.isAbsolute(xdg)) {
    const st = await lstat(xdg).catch(() => undefined);
    if (st?.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o022) === 0) return xdg;
  }
  return os.tmpdir();
}

export async function makeRunDir(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dir = await mkdtemp(path.join(await runDirBase(env), PREFIX)); // mode 0700
  await writeFile(path.join(dir, OWNER), `${JSON.stringify(await currentOwner())}\n`, { mode: 0o600 });
  return dir;
}

async function readOwner(dir: string): Promise<RunDirOwner | undefined> {
  let fh;
  try {
    fh = await open(path.join(dir, OWNER), constants.O_RDONLY | constants.O_NOFOLLOW);
    const o = JSON.parse(await fh.readFile('utf8')) as Partial<RunDirOwner>;
    const ok = Number.isInteger(o.pid) && o.pid! > 0 && [o.startTime, o.bootId, o.pidNamespace].every((s) => typeof s === 'string' && s !== '');
    return ok ? (o as RunDirOwner) : undefined;
  } catch {
    return undefined;
  } finally {
    await fh?.close();
  }
}

/** Whether the sweep may remove a directory made by `owner`: same boot and PID namespace as `me`, and its process gone. */
export async function ownerIsGone(owner: RunDirOwner, me: RunDirOwner): Promise<boolean> {
  if (owner.bootId !== me.bootId || owner.pidNamespace !== me.pidNamespace) return false;
  if (owner.pid === me.pid) return owner.startTime !== me.startTime;
  const now = await processStartTime(owner.pid);
  return now !== owner.startTime; // '' when no such process
}

/** Whether `dir` is a run directory of this uid whose maker is gone. Never throws. */
async function isStale(dir: string, uid: number, me: RunDirOwner): Promise<boolean> {
  const st = await lstat(dir).catch(() => undefined);
  if (!st?.isDirectory() || st.uid !== uid) return false;
  const owner = await readOwner(dir);
  return owner !== undefined && (await ownerIsGone(owner, me));
}

/**
 * Remove run directories left by migdown processes that no longer exist. Never throws. The
 * directories are judged all at once: one after another, a shared /tmp with a few dozen took
 * 10 ms of every command's start.
 */
export async function removeStaleRunDirs(bases?: string[]): Promise<number> {
  const uid = process.getuid?.();
  try {
    const me = await currentOwner();
    if (!me.bootId || !me.pidNamespace || !me.startTime || uid === undefined) return 0; // no /proc: judge nothing
    const dirs: string[] = [];
    for (const base of new Set(bases ?? [await runDirBase(), os.tmpdir()])) {
      for (const name of await readdir(base).catch(() => [] as string[])) if (name.startsWith(PREFIX)) dirs.push(path.join(base, name));
    }
    const stale = (await Promise.all(dirs.map(async (dir) => ((await isStale(dir, uid, me)) ? dir : undefined)))).filter((d) => d !== undefined);
    let removed = 0;
    for (const dir of stale) {
      const r = await execa('rm', ['-rf', '--one-file-system', '--', dir], { reject: false, stdin: 'ignore' });
      if (r.exitCode === 0) removed++;
    }
    return removed;
  } catch {
    // housekeeping only
    return 0;
  }
}
