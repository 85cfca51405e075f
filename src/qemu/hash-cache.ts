// What a QEMU binary says about itself, remembered between commands: its SHA-256 and the output
// of the probes every run and compare starts with (`--version`, `-trace help`, `-L help`).
// Hashing an 18 MB binary costs 40-130 ms of start-up on a small machine and the probes another
// 70-85 ms; all of it is fixed by the binary. The file's identity (device, inode, size,
// modification and change times, in ns) says when it must be asked again: any write, copy over
// or rename onto the path changes at least one of them, and ctime cannot be set back.
// The cache is the user's own (XDG cache directory, mode 0600); an unreadable or foreign one is
// ignored and rewritten. Only a probe that succeeded is remembered.

import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

function cacheFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'migdown', 'qemu-sha256.json');
}

interface Entry {
  id: string;
  sha256?: string;
  /** probe output by probe (its arguments, joined) */
  outputs?: Record<string, string>;
}
type Entries = Record<string, Entry>;

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

/**
 * The cache as this process first read it: a command asks it four times at start-up (the hash
 * and three probes, at once), and one read serves them all. Writes below read the file afresh.
 */
let loaded: { where: string; entries: Promise<Entries> } | undefined;
function knownEntries(where: string): Promise<Entries> {
  if (loaded?.where !== where) loaded = { where, entries: readEntries(where) };
  return loaded.entries;
}

/** The entry of this very file (same identity), or undefined. */
async function lookup(file: string): Promise<{ id: string; hit?: Entry }> {
  const [id, entries] = await Promise.all([identity(file), knownEntries(cacheFile())]);
  const hit = entries[file];
  return { id, ...(hit && typeof hit === 'object' && hit.id === id && { hit }) };
}

/** This process's writes, one after another: the probes run at once and each rewrites the file. */
let writes: Promise<void> = Promise.resolve();

/** Merge `update` into the file's entry, if the file is still the one that was asked (`id`). */
function remember(file: string, id: string, update: (entry: Entry) => Entry): Promise<void> {
  writes = writes.then(() => write(file, id, update));
  return writes;
}

async function write(file: string, id: string, update: (entry: Entry) => Entry): Promise<void> {
  if ((await identity(file).catch(() => '')) !== id) return;
  const where = cacheFile();
  try {
    await mkdir(path.dirname(where), { recursive: true, mode: 0o700 });
    const entries = await readEntries(where);
    const old = entries[file];
    const entry = update(old && typeof old === 'object' && old.id === id ? old : { id });
    const tmp = `${where}.${process.pid}.tmp`;
    const updated = { ...entries, [file]: entry };
    await writeFile(tmp, `${JSON.stringify(updated)}\n`, { mode: 0o600 });
    await rename(tmp, where);
    loaded = { where, entries: Promise.resolve(updated) };
  } catch {
    // a read-only home: ask again next time
  }
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
