import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedProbeOutput, cachedSha256 } from '../../src/qemu/hash-cache.js';

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

  const entryOf = (file: string) => path.join(dir, 'cache', 'migdown', 'probes', `${createHash('sha256').update(file).digest('hex').slice(0, 32)}.json`);

  it('ignores an entry that is not JSON, or is another binary\'s', async () => {
    const file = path.join(dir, 'other');
    await writeFile(file, 'x');
    await mkdir(path.dirname(entryOf(file)), { recursive: true });
    await writeFile(entryOf(file), '[not json');
    expect(await cachedSha256(file, async () => 'a'.repeat(64))).toBe('a'.repeat(64));
    const third = path.join(dir, 'third');
    await writeFile(third, 'y');
    const { id } = JSON.parse(readFileSync(entryOf(file), 'utf8')) as { id: string };
    await writeFile(entryOf(third), JSON.stringify({ path: file, id, sha256: 'c'.repeat(64) }));
    expect(await cachedSha256(third, async () => 'b'.repeat(64))).toBe('b'.repeat(64));
  });

  it('keeps one small file per binary, at most 64 of them, and removes the old one-file cache', async () => {
    await writeFile(path.join(dir, 'cache', 'migdown', 'qemu-sha256.json'), '{}');
    for (let i = 0; i < 70; i++) {
      const file = path.join(dir, `bin${i}`);
      await writeFile(file, String(i));
      await cachedSha256(file, async () => 'd'.repeat(64));
    }
    const names = await readdir(path.join(dir, 'cache', 'migdown', 'probes'));
    expect(names.filter((n) => n.endsWith('.json')).length).toBe(64);
    expect(names.some((n) => n.endsWith('.tmp'))).toBe(false);
    expect(existsSync(path.join(dir, 'cache', 'migdown', 'qemu-sha256.json'))).toBe(false);
    expect(existsSync(entryOf(path.join(dir, 'bin69')))).toBe(true);
  });
});

describe('cachedProbeOutput', () => {
  let dir: string;
  const saved = process.env.XDG_CACHE_HOME;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'migdown-probe-cache-'));
    process.env.XDG_CACHE_HOME = path.join(dir, 'cache');
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
    await rm(dir, { recursive: true, force: true });
  });

  it('asks once per version of the binary and per arguments, keeps the hash beside, and never remembers a failure', async () => {
    const file = path.join(dir, 'qemu');
    await writeFile(file, 'one');
    const asked: string[] = [];
    const probe = (args: string[], ok = true) =>
      cachedProbeOutput(file, args, async () => {
        asked.push(args.join(' '));
        return { text: `${args.join(' ')} of ${readFileSync(file, 'utf8')}`, ok };
      });
    // Three probes at once, as a command starts them, and the hash: none is lost to the others.
    const [v, t, l, sha] = await Promise.all([probe(['--version']), probe(['-trace', 'help']), probe(['-L', 'help']), cachedSha256(file, async () => 'a'.repeat(64))]);
    expect([v.text, t.text, l.text, sha]).toEqual(['--version of one', '-trace help of one', '-L help of one', 'a'.repeat(64)]);
    expect(await probe(['--version'])).toEqual({ text: '--version of one', ok: true });
    expect(await probe(['-trace', 'help'])).toEqual({ text: '-trace help of one', ok: true });
    expect(asked).toHaveLength(3);
    expect(await cachedSha256(file, async () => 'b'.repeat(64))).toBe('a'.repeat(64));

    await writeFile(file, 'two');
    expect((await probe(['--version'])).text).toBe('--version of two');
    expect(asked).toHaveLength(4);

    const failing = path.join(dir, 'broken');
    await writeFile(failing, 'x');
    let runs = 0;
    const fails = () => cachedProbeOutput(failing, ['--version'], async () => (runs++, { text: 'oops', ok: false }));
    expect(await fails()).toEqual({ text: 'oops', ok: false });
    await fails();
    expect(runs).toBe(2);
  });
});
