// migdown build on real sources: QEMU 7.2 from Debian's source package, plain and with the
// shipped "without this patch" change, each migrating, and the patched one stopping dirty
// logging inside the pause (the seed's difference), read from QEMU's own trace on the source.
//
// The builds land in the user's cache ($XDG_CACHE_HOME/migdown): the first run on a machine
// compiles (about 15 minutes on two cores, the second build mostly from ccache), every later
// run finds both binaries at once. Bad input is checked without compiling anything.

import { execa } from 'execa';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTraceLog, dirtyBitmaskOf, kvmSlotUpdateOf, type TraceEvent } from '../../src/trace/trace-log.js';
import { kvmUsable, migdown, ROOT, tagArgs, tmpDir, useQemuTags } from './helpers.js';

const PATCH_72 = path.join(ROOT, 'patches', 'qemu-7.2-stop-dirty-log-in-pause.patch');
const BUILD_TIMEOUT = 90 * 60_000;

interface BuildJson {
  binary: string;
  cached: boolean;
  seconds: number;
  key: string;
  qemuVersion: string;
  steps: Array<{ sha256: string }>;
}

async function build(args: string[]): Promise<BuildJson> {
  const r = await migdown(['build', ...args, '--json'], { env: { CI: '1' } });
  expect(r.exitCode, r.all).toBe(0);
  return JSON.parse(r.stdout) as BuildJson;
}

describe('migdown build: bad input is one line and exit 2, before anything compiles', () => {
  it('a directory that is not QEMU', async () => {
    const r = await migdown(['build', tmpDir()]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toMatch(/^migdown: \S+: not a QEMU source directory/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a git ref that does not exist', async () => {
    const dir = tmpDir();
    for (const f of ['VERSION', 'configure', 'meson.build', 'migration/ram.c']) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      writeFileSync(path.join(dir, f), '7.2.0\n');
    }
    const git = (...a: string[]) => execa('git', ['-C', dir, '-c', 'user.email=t@t', '-c', 'user.name=t', ...a]);
    await git('init', '-q');
    await git('add', '-A');
    await git('commit', '-qm', 'fake QEMU');
    const r = await migdown(['build', dir, '--ref', 'no-such-branch']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toBe(`migdown: ${dir}: no such git ref "no-such-branch"`);
  });

  it('an unknown Debian version, and a version that is not one', async () => {
    const r = await migdown(['build', 'debian:6.1']);
    expect(r.exitCode, r.all).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^migdown: debian:6\.1: no such QEMU source package in Debian \(known: .*7\.2/);
    const bad = await migdown(['build', 'debian:7.2;id']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^migdown: build spec "debian:7.2;id": "7.2;id" is not a QEMU version/);
  });

  it('a patch that does not apply names the patch and changes nothing', async () => {
    const patch = path.join(tmpDir(), 'wrong.patch');
    writeFileSync(patch, '--- a/migration/ram.c\n+++ b/migration/ram.c\n@@ -1,3 +1,3 @@\n-this line\n+is not\n in QEMU 7.2\n');
    const r = await migdown(['build', 'debian:7.2', '--patch', patch, '-q']);
    expect(r.exitCode, r.all).toBe(2);
    expect(r.stderr.trim()).toMatch(new RegExp(`^migdown: --patch ${patch} does not apply to Debian qemu 1:7\\.2\\S*: .*FAILED`));
  }, 5 * 60_000);
});

describe('a build that fails', () => {
  it('exits 4 with the error lines and its log kept, publishes no binary; --bisect makes it 125', async () => {
    const args = ['build', 'debian:7.2', '--configure=--enable-no-such-feature', '-q'];
    const r = await migdown(args);
    expect(r.exitCode, r.all).toBe(4);
    const log = /log: (\S+build\.log)/.exec(r.stderr)?.[1];
    expect(log && existsSync(log), r.stderr).toBe(true);
    expect(r.stderr).toMatch(/^ {2}ERROR: unknown option --enable-no-such-feature$/m);
    expect(existsSync(path.join(path.dirname(log!), '..', '..', 'builds', path.basename(path.dirname(log!)), 'qemu-system-x86_64'))).toBe(false);
    const skip = await migdown([...args, '--bisect']);
    expect(skip.exitCode).toBe(125);
  }, 5 * 60_000);
});

/** A wrapper that runs the built QEMU with the dirty-log tracepoints into DIR/<pid>.log. */
function tracingWrapper(binary: string, dir: string): string {
  const script = path.join(dir, 'qemu-traced');
  const events = ['global_dirty_changed', 'kvm_set_user_memory', 'vm_state_notify', 'savevm_state_complete_precopy', 'migrate_set_state'];
  writeFileSync(
    script,
    [
      '#!/bin/sh',
      // Only the VMs a trial starts (they have a monitor), not migdown's --version/-trace help probes.
      'case " $* " in *" -monitor "*|*" -mon "*|*" -chardev "*) ;; *) exec "$0.bin" "$@" ;; esac',
      `exec "$0.bin" "$@" -msg timestamp=on -D "${dir}/$$.log" ${events.map((e) => `-trace ${e}`).join(' ')}`,
      '',
    ].join('\n'),
  );
  chmodSync(script, 0o755);
  symlinkSync(binary, `${script}.bin`);
  return script;
}

const stoppedForMigration = (e: TraceEvent) => e.name === 'vm_state_notify' && /^running 0\b.*\(finish-migrate\)/.test(e.argsText);

/** The source's log: the one whose VM stopped for the migration (both sides log "completed"). */
function sourceLog(dir: string): TraceEvent[] {
  const logs = readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => parseTraceLog(readFileSync(path.join(dir, f), 'utf8')).events);
  const src = logs.find((evs) => evs.some(stoppedForMigration));
  expect(src, `a source trace log in ${dir}`).toBeDefined();
  return src!;
}

/** Events inside the pause: from the VM stopping for the migration (finish-migrate) to "completed". */
function pauseEvents(events: TraceEvent[]): TraceEvent[] {
  const start = events.findIndex(stoppedForMigration);
  const end = events.findIndex((e) => e.name === 'migrate_set_state' && /new state completed/.test(e.argsText));
  expect(start, 'the VM stopping in the trace').toBeGreaterThanOrEqual(0);
  expect(end, 'migration completed in the trace').toBeGreaterThan(start);
  return events.slice(start, end + 1);
}

describe('QEMU 7.2 built from Debian source, without and with the seed patch', () => {
  const tag = useQemuTags();
  let plain: BuildJson;
  let patched: BuildJson;

  beforeAll(async () => {
    plain = await build(['debian:7.2']);
    patched = await build(['debian:7.2', '--patch', PATCH_72]);
  }, BUILD_TIMEOUT);

  it('builds two different binaries into the cache; the same build again is a cache hit at once', async () => {
    expect(plain.binary).not.toBe(patched.binary);
    expect(existsSync(plain.binary) && existsSync(patched.binary)).toBe(true);
    expect(plain.qemuVersion).toBe('7.2');
    expect(patched.steps).toHaveLength(1);
    const again = await build(['debian:7.2', '--patch', PATCH_72]);
    expect(again.cached).toBe(true);
    expect(again.binary).toBe(patched.binary);
    expect(again.seconds).toBeLessThan(10);
  });

  it('has what migdown needs: KVM and TCG, the log trace backend with the dirty-log tracepoints', async () => {
    const accel = await execa(plain.binary, ['-accel', 'help']);
    expect(accel.stdout).toMatch(/\bkvm\b/);
    expect(accel.stdout).toMatch(/\btcg\b/);
    const trace = await execa(plain.binary, ['-trace', 'help']);
    for (const e of ['global_dirty_changed', 'kvm_set_user_memory', 'vm_state_notify', 'migrate_set_state']) expect(trace.stdout).toContain(e);
  });

  it.each([
    ['without this patch (patched build)', () => patched, true],
    ['with this patch (plain build)', () => plain, false],
  ] as const)('%s: migrates, and stops dirty logging inside the pause only without the patch', async (_, which, stopsInPause) => {
    const dir = tmpDir();
    const qemu = tracingWrapper(which().binary, dir);
    const r = await migdown(['run', '--qemu', qemu, '--ram', '512M', '--smp', '1', '--runs', '1', '--json', '--no-breakdown', '--out', path.join(dir, 'r.jsonl'), ...tagArgs(tag())]);
    expect(r.exitCode, r.all).toBe(0);
    const doc = JSON.parse(r.stdout) as { trials: Array<{ status: string }> };
    expect(doc.trials[0]!.status).toBe('completed');

    const pause = pauseEvents(sourceLog(dir));
    const stops = pause.filter((e) => {
      const mask = dirtyBitmaskOf(e);
      return mask !== undefined && (mask & 1) === 0;
    });
    expect(stops.length > 0, `global_dirty_changed clearing the migration bit inside the pause: ${stops.map((e) => e.argsText).join('; ')}`).toBe(stopsInPause);
    if (kvmUsable) {
      // Under KVM the stop is KVM_SET_USER_MEMORY_REGION calls dropping KVM_MEM_LOG_DIRTY_PAGES.
      const unlogged = pause.map(kvmSlotUpdateOf).filter((u) => u && u.size > 0 && (u.flags & 1) === 0);
      expect(unlogged.length > 0).toBe(stopsInPause);
    }
  });
});
