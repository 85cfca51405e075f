// Shared by the integration tests: run the built CLI and find the QEMUs a test started.
// Each test tags its QEMUs with `-name <tag>` so that leftover processes can be found
// precisely even when other QEMUs run on the machine.

import { execa } from 'execa';
import { afterAll, afterEach, expect } from 'vitest';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resultsSchemaErrors } from '../results-validator.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = path.join(ROOT, 'bin', 'migdown.js');

export const kvmUsable = (() => {
  try {
    closeSync(openSync('/dev/kvm', 'r+'));
    return true;
  } catch {
    return false;
  }
})();

export function newTag(): string {
  return `migdown-test-${randomUUID().slice(0, 8)}`;
}

export function tmpDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'migdown-test-'));
}

/** Arguments that tag both QEMUs with -name TAG. */
export function tagArgs(tag: string): string[] {
  return ['--qemu-arg=-name', `--qemu-arg=${tag}`];
}

/**
 * Results files the tests' migdown commands wrote (--out, --resume), checked after each file:
 * from the size each had when first named, so a file a test crafted (bad on purpose) and then
 * resumed is judged only by what migdown appended.
 */
const resultsFiles = new Map<string, number>();

/** Remember the results file of a migdown command line, for the schema check below. */
export function noteResultsFile(args: string[]): void {
  args.forEach((a, i) => {
    const m = /^--(out|resume)(?:=(.+))?$/.exec(a);
    const f = m && (m[2] ?? args[i + 1]);
    if (!f) return;
    const size = existsSync(f) && statSync(f).isFile() ? statSync(f).size : 0;
    // A resumed file may have been edited by the test since (cut, crafted): judge what comes now.
    if (m[1] === 'resume' || !resultsFiles.has(f)) resultsFiles.set(f, Math.max(size, resultsFiles.get(f) ?? 0));
  });
}

/** Every results file the suite's migdown runs wrote must pass the shipped JSON Schema. */
afterAll(() => {
  const bad = [...resultsFiles]
    // Only regular files: a test may name /dev/full, whose reads never end.
    .filter(([f]) => existsSync(f) && statSync(f).isFile())
    .flatMap(([f, from]) => resultsSchemaErrors(readFileSync(f).subarray(from).toString('utf8')).map((e) => `${f} (from byte ${from}) ${e}`));
  resultsFiles.clear();
  expect(bad, 'results files that do not match schemas/results.schema.json').toEqual([]);
});

export function migdown(args: string[], opts: { env?: Record<string, string> } = {}) {
  noteResultsFile(args);
  return execa('node', [CLI, ...args], {
    reject: false,
    all: true,
    env: { NO_COLOR: '1', ...opts.env },
    stdin: 'ignore',
  });
}

/** PIDs of QEMU processes whose command line carries the tag. */
export function qemuPids(tag: string, extra?: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue; // zombies are gone already
      if (!cmdline.some((a) => a.includes('qemu-system'))) continue;
      if (!cmdline.includes(tag)) continue;
      if (extra && !cmdline.includes(extra)) continue;
      pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

export async function waitFor<T>(probe: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function readJsonl(file: string): Array<Record<string, unknown>> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * A tag maker for one test file: every QEMU a test tags must be gone after it. Leftovers are
 * killed (so the next test runs clean) and fail the test that left them.
 */
export function useQemuTags(): () => string {
  const tags: string[] = [];
  afterEach(() => {
    const left = tags.flatMap((t) => qemuPids(t));
    tags.length = 0;
    for (const pid of left) process.kill(pid, 'SIGKILL');
    expect(left, 'QEMU processes left behind').toEqual([]);
  });
  return () => {
    const t = newTag();
    tags.push(t);
    return t;
  };
}
