#!/usr/bin/env node
// Benchmark of `migdown build` (issue 11), not a test: wall time of the four cases that decide
// how long a CI run or a `migdown reproduce` takes.
//   cold     empty cache, empty ccache (a fresh machine)
//   warm     the same build again with the build cache emptied but ccache kept
//   patched  the same source with the seed patch (one file plus memory.c recompile)
//   cached   the patched build once more: a cache hit
// Usage: node bench/build.mjs [--source debian:7.2] [--patch patches/qemu-7.2-stop-dirty-log-in-pause.patch]
// Uses a temporary MIGDOWN_CACHE_DIR (the Debian source is downloaded again). Needs dist/.
// Run it under nice on a quiet machine; about 20 minutes on two cores.

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
const source = arg('--source', 'debian:7.2');
const patch = path.resolve(root, arg('--patch', 'patches/qemu-7.2-stop-dirty-log-in-pause.patch'));
const cache = mkdtempSync(path.join(os.tmpdir(), 'migdown-bench-build-'));
const env = { ...process.env, MIGDOWN_CACHE_DIR: cache, CI: '1' };

function build(args) {
  const t0 = Date.now();
  const out = execFileSync('node', [path.join(root, 'bin', 'migdown.js'), 'build', ...args, '--json', '-q'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return { seconds: (Date.now() - t0) / 1000, record: JSON.parse(out) };
}

try {
  const rows = [];
  rows.push(['cold', build([source])]);
  rmSync(path.join(cache, 'builds'), { recursive: true, force: true });
  rows.push(['warm (ccache)', build([source])]);
  rows.push(['patched (ccache)', build([source, '--patch', patch])]);
  rows.push(['cached', build([source, '--patch', patch])]);
  console.log(`| build | wall (s) | cached |\n| --- | ---: | --- |`);
  for (const [name, r] of rows) console.log(`| ${name} | ${r.seconds.toFixed(1)} | ${r.record.cached} |`);
  console.log(`\n${source} = ${rows[0][1].record.source}; ${os.availableParallelism()} CPUs; ${new Date().toISOString()}`);
} finally {
  rmSync(cache, { recursive: true, force: true });
}
