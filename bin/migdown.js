#!/usr/bin/env node
// Tiny shim: all logic lives in the built CLI so that the bin entry never changes.
import { main } from '../dist/cli.js';

main(process.argv).then((code) => {
  process.exitCode = code;
});
