#!/usr/bin/env node
// Benchmark of the built-in guest (issue 3), not a test: it measures and prints; the targets
// are judged by a person reading docs/benchmarks.md.
//   1. time from QEMU start to READY per GiB with --touch read (target <= 1 s/GiB under KVM)
//   2. wall time per trial at 1, 2, 4 and 8 GiB
//   3. measured (calc_dirty_rate) against requested dirty rate, 16 to 1024 MiB/s (target +-25 %)
// Usage: node bench/guest.mjs [--runs N] [--sizes 1G,2G,4G,8G] [--rates 16,64,256,1024]
// Needs a built dist/ (npm run build). Each point runs `migdown run --json` and reads its trials.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const runs = Number(arg('--runs', '3'));
const sizes = arg('--sizes', '1G,2G,4G,8G').split(',');
const rates = arg('--rates', '16,64,256,1024').split(',').map(Number);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'migdown-bench-'));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function migdown(args) {
  const out = execFileSync('node', [path.join(root, 'bin/migdown.js'), 'run', '--json', '-q', '--smp', '1', '--out', path.join(tmp, 'r.jsonl'), ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return JSON.parse(out);
}

const lines = [];
const say = (l) => {
  lines.push(l);
  console.log(l);
};

say('All figures are medians over the trials of a point.');
say(`host: ${os.cpus()[0]?.model}, ${os.cpus().length} CPUs; ${new Date().toISOString()}; ${runs} trials per point`);
say('');
say('| RAM | accel | start to READY (ms) | per GiB (s) | of which touching (ms) | touching per GiB (s) | wall per trial (s) | QEMU downtime (ms) | guest-observed (ms) |');
say('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const size of sizes) {
  const doc = migdown(['--ram', size, '--runs', String(runs), '--touch', 'read']);
  const ok = doc.trials.filter((t) => t.status === 'completed');
  const gib = doc.header.config.ramBytes / 1024 ** 3;
  const ready = median(ok.map((t) => t.guest.readyAfterMs));
  const touch = median(ok.map((t) => t.guest.touchMs));
  say(
    `| ${size} | ${doc.header.accel} | ${ready} | ${(ready / 1000 / gib).toFixed(2)} | ${touch} | ${(touch / 1000 / gib).toFixed(3)} | ` +
      `${(median(ok.map((t) => t.wallMs)) / 1000).toFixed(2)} | ` +
      `${median(ok.map((t) => t.info.downtimeMs))} | ${median(ok.map((t) => t.guest.observedDowntimeMs)).toFixed(1)} |`,
  );
}
say('');
say('| requested MiB/s | measured MiB/s (each trial) | median error |');
say('| ---: | --- | ---: |');
for (const rate of rates) {
  // A working set of at least one second of dirtying, and a 4G guest to hold 1 GiB of it.
  const doc = migdown(['--ram', '4G', '--runs', String(runs), '--dirty-rate', String(rate), '--working-set', String(Math.max(64, rate)), '--timeout', '60']);
  const measured = doc.trials.map((t) => t.guest?.measuredDirtyRateMiBs).filter((x) => typeof x === 'number');
  const err = measured.length ? (((median(measured) - rate) / rate) * 100).toFixed(1) : 'n/a';
  say(`| ${rate} | ${measured.join(', ') || 'not measured'} | ${err}% |`);
}
rmSync(tmp, { recursive: true, force: true });
