import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedSha256 } from '../../src/qemu/hash-cache.js';

describe('cachedSha256', () => {
  let dir: string;
  const saved = process.env.XDG_CACHE_HOME;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'migdown-hash-'));
    process.env.XDG_CACHE_HOME = path.join(dir, 'cache');
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
    await rm(dir, { recursive: true, force: true });
  });

  it('hashes once per version of the file, and again after any change', async () => {
    const file = path.join(dir, 'qemu');
    await writeFile(file, 'one');
    let calls = 0;
    const hash = async (f: string) => {
      calls++;
      return createHash('sha256').update(readFileSync(f)).digest('hex');
    };
    const first = await cachedSha256(file, hash);
    expect(await cachedSha256(file, hash)).toBe(first);
    expect(calls).toBe(1);
    await writeFile(file, 'two');
    const second = await cachedSha256(file, hash);
    expect(second).not.toBe(first);
    expect(second).toBe(createHash('sha256').update('two').digest('hex'));
    expect(calls).toBe(2);
  });

  it('ignores a cache file that is not its own', async () => {
    const file = path.join(dir, 'other');
    await writeFile(file, 'x');
    await writeFile(path.join(dir, 'cache', 'migdown', 'qemu-sha256.json'), '[not json');
    expect(await cachedSha256(file, async () => 'a'.repeat(64))).toBe('a'.repeat(64));
  });
});
