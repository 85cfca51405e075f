#!/usr/bin/env node
// Tiny shim: all logic lives in the built CLI (bundled by scripts/bundle.mjs) so that the bin
// entry never changes.
import { main } from '../dist/bundle/cli.mjs';

main(process.argv).then((code) => {
  process.exitCode = code;
});
