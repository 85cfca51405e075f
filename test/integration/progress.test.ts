// Live progress from the real CLI: under a pseudo-terminal (util-linux `script`) stderr shows
// the live area; piped, it carries plain lines only, without a single escape byte.

import { execa } from 'execa';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, migdown, newTag, noteResultsFile, qemuPids, tagArgs, tmpDir } from './helpers.js';

const tags: string[] = [];
function tag(): string {
  const t = newTag();
  tags.push(t);
  return t;
}

afterEach(() => {
  const left = tags.flatMap((t) => qemuPids(t));
  tags.length = 0;
  for (const pid of left) process.kill(pid, 'SIGKILL');
  expect(left, 'QEMU processes left behind').toEqual([]);
});

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
// eslint-disable-next-line no-control-regex
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

/** Run the CLI with stdin/stdout/stderr on a fresh pseudo-terminal; returns everything it wrote there. */
async function underPty(args: string[]) {
  noteResultsFile(args);
  const command = ['node', CLI, ...args].map(shellQuote).join(' ');
  // -q quiet, -f flush on every write, -e return the child's exit code, -c run this command.
  // The pty is left unsized (0x0) when the test runner has no terminal, as in CI.
  return execa('script', ['-qfec', command, '/dev/null'], {
    reject: false,
    stdin: 'ignore',
    // CI would (rightly) switch the live display off; this test wants it on.
    env: { CI: '', TERM: 'xterm-256color', NO_COLOR: '1' },
  });
}

describe('live progress', () => {
  it('draws a live area with the trial and the phase on a terminal', async () => {
    const t = tag();
    const out = path.join(tmpDir(), 'r.jsonl');
    const r = await underPty(['run', '--ram', '256M', '--smp', '1', '--runs', '2', '--out', out, ...tagArgs(t)]);
    expect(r.exitCode, r.stdout).toBe(0);
    const raw = r.stdout;
    // The live area was drawn and redrawn: cursor movement, not just plain lines.
    expect(raw).toMatch(/\x1b\[\d*A/);
    const text = stripAnsi(raw).replaceAll('\r', '');
    expect(text).toContain('trial 1/2');
    expect(text).toContain('migrating');
    // Each finished trial is still a permanent line of its own.
    expect(text).toMatch(/^trial 1\/2: downtime \d/m);
    expect(text).toMatch(/^trial 2\/2: downtime \d/m);
    // The results table follows on a clean line, not glued to a leftover live area.
    expect(text).toMatch(/downtime: median \d+(\.\d+)? ms/);
  });

  it('writes plain lines and no escape bytes to stderr when it is a pipe', async () => {
    const t = tag();
    const out = path.join(tmpDir(), 'r.jsonl');
    // Colour decided by the stream alone (no NO_COLOR/FORCE_COLOR), as for a user piping to a file.
    const r = await migdown(['run', '--ram', '256M', '--smp', '1', '--runs', '2', '--out', out, ...tagArgs(t)], {
      env: { NO_COLOR: '', FORCE_COLOR: '0', TERM: 'xterm-256color' },
    });
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stderr).not.toContain('\x1b');
    const trialLines = r.stderr.split('\n').filter((l) => /^trial \d\/2: /.test(l));
    expect(trialLines).toHaveLength(2);
    expect(r.stderr).not.toContain('migrating');
  });
});
