// QEMU reports 'completed' a moment before it writes the final times; a trial must not take
// the zeros of that moment as the migration's downtime.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseInfoMigrate, timesNotYetWritten } from '../../src/qemu/info-migrate.js';

const fixture = (name: string) => parseInfoMigrate(readFileSync(new URL(`../fixtures/info-migrate/${name}`, import.meta.url), 'utf8'));

describe('a completed migration whose times are not written yet', () => {
  it('is recognised in the real 7.2 reply that said 0 ms for everything', () => {
    const info = fixture('qemu-7.2-completed-times-pending.txt');
    expect(info.status).toBe('completed');
    expect(timesNotYetWritten(info)).toBe(true);
  });

  it('is not confused with a finished record, or with a migration still running', () => {
    expect(timesNotYetWritten(fixture('qemu-7.2-completed.txt'))).toBe(false);
    expect(timesNotYetWritten(fixture('qemu-7.2-active.txt'))).toBe(false);
  });
});
