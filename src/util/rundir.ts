// Private run directories (mode 0700, under the OS temp dir) hold a trial's monitor and serial
// sockets and trace logs. A migdown killed with SIGKILL cannot remove its own, so each records
// its owner's pid and the next migdown removes directories whose owner is gone.

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const PREFIX = 'migdown-';
const OWNER = 'owner.pid';

export async function makeRunDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), PREFIX));
  await writeFile(path.join(dir, OWNER), `${process.pid}\n`);
  return dir;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove run directories left by migdown processes that no longer exist. Never throws. */
export async function removeStaleRunDirs(tmp = os.tmpdir()): Promise<number> {
  let removed = 0;
  try {
    for (const name of await readdir(tmp)) {
      if (!name.startsWith(PREFIX)) continue;
      const dir = path.join(tmp, name);
      const pid = Number((await readFile(path.join(dir, OWNER), 'utf8').catch(() => '')).trim());
      if (!Number.isInteger(pid) || pid <= 0 || alive(pid)) continue;
      await rm(dir, { recursive: true, force: true });
      removed++;
    }
  } catch {
    // housekeeping only
  }
  return removed;
}
