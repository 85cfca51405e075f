// Bundles the compiled CLI (dist/cli.js and everything it imports, node_modules included) into
// dist/bundle/: a few chunks, one per lazily loaded command group, instead of ~250 ES modules.
// Node resolves and links each module file apart, and for migdown's graph that was ~100 ms of
// every command's start-up (docs/benchmarks.md, "Start-up"). Runs as part of `npm run build`.
//
// dist/bundle/ sits two levels below the package root like dist/<layer>/*.js, so the paths
// the code builds from import.meta.url (scenarios/, guest/, package.json) resolve alike.

import { rm } from 'node:fs/promises';
import { build } from 'rolldown';

const OUT = 'dist/bundle';
await rm(OUT, { recursive: true, force: true });
await build({
  input: { cli: 'dist/cli.js' },
  platform: 'node',
  logLevel: 'warn',
  output: { dir: OUT, format: 'esm', entryFileNames: '[name].mjs', chunkFileNames: '[name]-[hash].mjs' },
});
