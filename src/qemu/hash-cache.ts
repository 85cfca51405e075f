// The SHA-256 of a QEMU binary, remembered between commands. Hashing an 18 MB binary costs every
// run and compare 40-130 ms of start-up on a small machine; the file's identity (device, inode,
// size, modification and change times, in ns) says when it must be hashed again: any write, copy
// over or rename onto the path changes at least one of them, and ctime cannot be set back.
// The cache is the user's own (XDG cache directory, mode 0600); an unreadable or foreign one is
// ignored and rewritten.

import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

function cacheFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'migdown', 'qemu-sha256.json');
}

type Entries = Record<string, { id: string; sha256: string }>;

async function identity(file: string): Promise<string> {
  const s = await stat(file, { bigint: true });
  return [s.dev, s.ino, s.size, s.mtimeNs, s.ctimeNs].join(':');
}

async function readEntries(file: string): Promise<Entries> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Entries) : {};
  } catch {
    return {};
  }
}

/** `hash(file)`, unless the cache has it for this very file. Never fails for the cache's sake. */
export async function cachedSha256(file: string, hash: (file: string) => Promise<string>): Promise<string> {
  const where = cacheFile();
  const [id, entries] = await Promise.all([identity(file), readEntries(where)]);
  const hit = entries[file];
  if (hit && hit.id === id && /^[0-9a-f]{64}$/.test(hit.sha256)) return hit.sha256;
  const sha256 = await hash(file);
  // The file may have changed while it was read: remember the hash only if it did not.
  if ((await identity(file).catch(() => '')) === id) {
    try {
      await mkdir(path.dirname(where), { recursive: true, mode: 0o700 });
      const tmp = `${where}.${process.pid}.tmp`;
      await writeFile(tmp, `${JSON.stringify({ ...(await readEntries(where)), [file]: { id, sha256 } })}\n`, { mode: 0o600 });
      await rename(tmp, where);
    } catch {
      // a read-only home: hash again next time
    }
  }
  return sha256;
}
