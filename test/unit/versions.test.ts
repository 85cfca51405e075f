// Real monitor output of every QEMU we could run here (test/fixtures/versions/*, captured by
// capture-monitor.py): the parser and the dialect must handle each one as it is.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chooseDialect } from '../../src/qemu/dialect.js';
import { extractReply, replyComplete } from '../../src/qemu/hmp-framing.js';
import { parseInfoMigrate, parseInfoStatus } from '../../src/qemu/info-migrate.js';

const root = new URL('../fixtures/versions/', import.meta.url);
const versions = readdirSync(root).filter((d) => /^\d+\.\d+\.\d+$/.test(d));
const text = (v: string, name: string) => readFileSync(new URL(`${v}/${name}.txt`, root), 'utf8');
const has = (v: string, name: string) => existsSync(new URL(`${v}/${name}.txt`, root));

describe.each(versions)('QEMU %s', (v) => {
  it('completed: status, downtime and total time, nothing unknown', () => {
    const info = parseInfoMigrate(text(v, 'info-migrate-completed'));
    expect(info.status).toBe('completed');
    expect(info.downtimeMs).toBeGreaterThanOrEqual(0);
    expect(info.totalTimeMs).toBeGreaterThan(0);
    expect(info.transferredRamBytes).toBeGreaterThan(0);
    expect(info.unknown).toEqual([]);
  });

  it('active: expected downtime and remaining RAM', () => {
    const info = parseInfoMigrate(text(v, 'info-migrate-active'));
    expect(info.status).toBe('active');
    expect(info.expectedDowntimeMs).toBeGreaterThanOrEqual(0);
    expect(info.remainingRamBytes).toBeGreaterThan(0);
    expect(info.unknown).toEqual([]);
  });

  it("failed: QEMU's reason", () => {
    const info = parseInfoMigrate(text(v, 'info-migrate-failed'));
    expect(info.status).toBe('failed');
    expect(info.failureReason).toMatch(/Broken pipe|Connection reset by peer/);
  });

  it('before any migration: no status', () => {
    expect(parseInfoMigrate(text(v, 'info-migrate')).status).toBeUndefined();
  });

  it.runIf(has(v, 'dest-info-status-completed'))('destination running after it', () => {
    expect(parseInfoStatus(text(v, 'dest-info-status-completed'))).toMatchObject({ status: 'running', running: true });
  });

  it('the help listing picks the commands this version has', () => {
    const versionLine = `QEMU emulator version ${v}`;
    const d = chooseDialect(versionLine, text(v, 'help'));
    const major = Number(v.split('.')[0]);
    // 5.2 still lists migrate_set_speed: migdown then types the seed's commands.
    expect(d.parameterStyle).toBe(major < 6 ? 'legacy' : 'parameters');
    expect(text(v, 'help')).toContain(d.setSpeed(0).split(' ')[0]!);
  });

  it('the raw bytes frame like the cleaned text', () => {
    const raw = readFileSync(new URL(`${v}/info-migrate-completed.raw`, root), 'latin1');
    // Each capture is one reply as the client receives it: echo, output, next prompt.
    expect(replyComplete(raw)).toBe(true);
    expect(parseInfoMigrate(extractReply(raw))).toEqual(parseInfoMigrate(text(v, 'info-migrate-completed')));
  });
});
