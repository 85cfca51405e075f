// Snapshot tests of the built CLI: the help texts are the interface users read, so a change
// to any of them shows up in review.

import { describe, expect, it } from 'vitest';
import { migdown } from './helpers.js';

describe('built CLI help', () => {
  it.each([[[]], [['run']], [['compare']], [['report']], [['parse']], [['scenarios']]])('migdown %j --help', async (args) => {
    const r = await migdown([...(args as string[]), '--help'], { env: { COLUMNS: '100' } });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    await expect(r.stdout).toMatchFileSnapshot(`__snapshots__/help-${(args as string[]).join('-') || 'migdown'}.txt`);
  });

  it('prints its version', async () => {
    const r = await migdown(['--version']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
