// What a QEMU binary says about itself, remembered between commands: its SHA-256 and the output
// of the probes every run and compare starts with (`--version`, `-trace help`, `-L help`).
// Hashing an 18 MB binary costs 40-130 ms of start-up on a small machine and the probes another
// 70-85 ms; all of it is fixed by the binary. The file's identity (device, inode, size,
// modification and change times, in ns) says when it must be asked again: any write, copy over
// or rename onto the path changes at least one of them, and ctime cannot be set back.
// The cache is the user's own (XDG cache directory, mode 0600); an unreadable or foreign entry
// is ignored and rewritten. Only a probe that succeeded is remembered.

import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * One small file per binary, named by a hash of its path: a command reads only its own QEMU's
 * entry. (One file for all of them grew to 2 MB with the binaries tests copy around, and
 * reading and parsing it was the slowest step of a command's start.)
 */
function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'migdown', 'probes');
}

function entryFile(file: string): string {
  return path.join(cacheDir(), `${createHash('sha256').update(file).digest('hex').slice(0, 32)}.json`);
}

/** The binaries remembered at most; on a new entry, the least recently written beyond it go. */
const MAX_ENTRIES = 64;

interface Entry {
  /** the binary's path, so that a file named by the same hash prefix is not taken for it */
  path: string;
  id: string;
  sha256?: string;
  /** probe output by probe (its arguments, joined) */
  outputs?: Record<string, string>;
}

async function identity(file: string): Promise<string> {
  const s = await stat(file, { bigint: true });
  return [s.dev, s.ino, s.size, s.mtimeNs, s.ctimeNs].join(':');
}

async function readEntry(file: string): Promise<Entry | undefined> {
  try {
    const parsed = JSON.parse(await readFile(entryFile(file), 'utf8')) as Partial<Entry> | null;
    return parsed && typeof parsed === 'object' && parsed.path === file && typeof parsed.id === 'string' ? (parsed as Entry) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Each binary's entry as this process first read it: a command asks four times at start-up
 * (the hash and three probes, at once), and one read serves them all.
 */
const loaded = new Map<string, Promise<Entry | undefined>>();
function knownEntry(file: string): Promise<Entry | undefined> {
  const where = entryFile(file);
  let entry = loaded.get(where);
  if (!entry) loaded.set(where, (entry = readEntry(file)));
  return entry;
}

/** The entry of this very file (same identity), or undefined. */
async function lookup(file: string): Promise<{ id: string; hit?: Entry }> {
  const [id, entry] = await Promise.all([identity(file), knownEntry(file)]);
  return { id, ...(entry?.id === id && { hit: entry }) };
}

/** This process's writes, one after another: the probes run at once and each rewrites the entry. */
let writes: Promise<void> = Promise.resolve();

/** Merge `update` into the file's entry, if the file is still the one that was asked (`id`). */
function remember(file: string, id: string, update: (entry: Entry) => Entry): Promise<void> {
  writes = writes.then(() => write(file, id, update));
  return writes;
}

async function write(file: string, id: string, update: (entry: Entry) => Entry): Promise<void> {
  if ((await identity(file).catch(() => '')) !== id) return;
  const where = entryFile(file);
  try {
    await mkdir(path.dirname(where), { recursive: true, mode: 0o700 });
    const old = await readEntry(file);
    const isNew = !old;
    const entry = update(old?.id === id ? old : { path: file, id });
    const tmp = `${where}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    await rename(tmp, where);
    loaded.set(where, Promise.resolve(entry));
    if (isNew) await prune(path.dirname(where));
  } catch {
    // a read-only home: ask again next time
  }
}

/** Keep the newest MAX_ENTRIES entries; drop the one-file cache of migdown before 0.2. */
async function prune(dir: string): Promise<void> {
  await unlink(path.join(path.dirname(dir), 'qemu-sha256.json')).catch(() => undefined);
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json'));
  if (names.length <= MAX_ENTRIES) return;
  const dated = await Promise.all(names.map(async (n) => ({ n, t: (await stat(path.join(dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
  dated.sort((a, b) => b.t - a.t);
  await Promise.all(dated.slice(MAX_ENTRIES).map(({ n }) => unlink(path.join(dir, n)).catch(() => undefined)));
}

/** `hash(file)`, unless the cache has it for this very file. Never fails for the cache's sake. */
export async function cachedSha256(file: string, hash: (file: string) => Promise<string>): Promise<string> {
  const { id, hit } = await lookup(file);
  if (hit?.sha256 && /^[0-9a-f]{64}$/.test(hit.sha256)) return hit.sha256;
  const sha256 = await hash(file);
  await remember(file, id, (e) => ({ ...e, sha256 }));
  return sha256;
}

/** What one probe printed, and whether it succeeded (only then is it remembered). */
export interface ProbeOutput {
  text: string;
  ok: boolean;
}

/** The output of `file args…` as `run` reports it, unless the cache has it for this very file. */
export async function cachedProbeOutput(file: string, args: readonly string[], run: () => Promise<ProbeOutput>): Promise<ProbeOutput> {
  const key = JSON.stringify(args);
  const { id, hit } = await lookup(file).catch(() => ({ id: '', hit: undefined }));
  const cached = hit?.outputs?.[key];
  if (typeof cached === 'string') return { text: cached, ok: true };
  const output = await run();
  if (output.ok && id) await remember(file, id, (e) => ({ ...e, outputs: { ...e.outputs, [key]: output.text } }));
  return output;
}
