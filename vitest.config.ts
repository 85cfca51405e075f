import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real QEMU processes; two cores cannot run many at once and
    // parallel VMs would distort each other's timings.
    fileParallelism: false,
    testTimeout: 120_000,
    reporters: ['default', './test/plain-summary-reporter.ts'],
    globalSetup: ['./test/global-setup.ts'],
    hookTimeout: 60_000,
  },
});
