// Bad option values and combinations: one line, exit 2, before any VM starts. No QEMU can start
// here (--qemu names no binary), so a check that is missing shows up as the wrong message.

import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migdown, tmpDir } from './helpers.js';

const NO_QEMU = ['--qemu', '/nonexistent/qemu-system-x86_64', '--runs', '1'];
const IMAGE = ['--guest', 'image', '--image', path.join(import.meta.dirname, '..', '..', 'README.md')];

async function rejects(args: string[], message: RegExp) {
  const r = await migdown(args);
  expect(r.exitCode, r.all).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/nonexistent/);
}

describe('run rejects before any VM starts', () => {
  it.each([
    [['--heartbeat', '0'], /--heartbeat: 0 is out of range/],
    [['--heartbeat', '99999999999'], /--heartbeat: 99999999999 is out of range/],
    [['--smp', String(os.availableParallelism() + 1)], /--smp: \d+ vCPUs is more than this host's \d+ CPUs/],
    [['--smp', '300'], /--smp: 300 is more than QEMU's pc machine takes \(255\)/],
    [['--downtime', '2001'], /--downtime: "2001" is above 2000 s/],
    [['--speed', '99999999999999999999T'], /--speed: .* is too large/],
    [['--speed', '16E'], /--speed: cannot read/],
    [['--dirty-ring', '3000'], /--dirty-ring: 3000 is not a power of two/],
    [[...IMAGE, '--boot-wait', '9999999999'], /--boot-wait: 9999999999 s is longer than a timer can wait/],
    [['--ram', '17iB'], /--ram: cannot read "17iB"/],
    [['--migrate-uri', 'tcp:10.0.0.2:4444'], /--migrate-uri only means something with --dest-host/],
    [['--dest-qemu', '/usr/bin/qemu-system-x86_64'], /--dest-qemu only means something with --dest-host/],
    [['--ssh-option', 'Port=2222'], /--ssh-option only means something with --dest-host/],
    [['--dest-host', 'dst.invalid', '--migrate-uri', 'tcp:[::1\n]:4444'], /--migrate-uri .*control characters/],
    [['--json', '--format', 'csv'], /--json and --format csv ask for two outputs/],
    [[...IMAGE, '--ready-pattern', '(a)\\1'], /--ready-pattern: cannot be matched in linear time/],
    [[...IMAGE, '--ready-pattern', 'login(?=:)'], /--ready-pattern: cannot be matched in linear time/],
  ])('%j', async (args, message) => rejects(['run', ...NO_QEMU, ...args], message));

  it('takes a pattern a backtracking engine would choke on, and runs it in linear time', async () => {
    // (a+)+$ is the classic catastrophic pattern; the linear engine accepts it, so the error is the missing QEMU.
    const r = await migdown(['run', ...NO_QEMU, ...IMAGE, '--ram', '1G', '--ready-pattern', '(a+)+$']);
    expect(r.stderr.trim()).toMatch(/--qemu: .*nonexistent/);
  });

  it('compare checks the same', async () => rejects(['compare', '--qemu-a', '/nonexistent/a', '--qemu-b', '/nonexistent/b', '--heartbeat', '0'], /--heartbeat: 0/));

  // --dest-host is part of the plan too: checked before any QEMU is probed or ssh is run, where
  // an argument the remote side refuses used to fail every trial instead of the command.
  it.each([
    [['--dest-host', 'a@'], /--dest-host "a@": empty host/],
    [['--dest-host', 'dst.invalid', '--migrate-uri', 'udp:x'], /--migrate-uri "udp:x": expected tcp:HOST:PORT/],
    [['--dest-host', 'dst.invalid', '--qemu-arg=-nographic'], /^migdown: -nographic cannot be used on a remote destination \(its stdio carries the monitor\)$/m],
  ])('--dest-host %j', async (args, message) => rejects(['run', ...NO_QEMU, ...args], message));

  it('compare checks each variant\'s arguments for a remote destination', async () =>
    rejects(
      ['compare', '--qemu-a', '/nonexistent/a', '--qemu-b', '/nonexistent/b', '--dest-host', 'dst.invalid', '--b-arg=-serial', '--b-arg=stdio'],
      /-serial stdio cannot be used on a remote destination/,
    ));
});

describe('scenario files', () => {
  const write = (name: string, text: string) => {
    const file = path.join(tmpDir(), `${name}.yaml`);
    writeFileSync(file, text);
    return file;
  };

  it('scenarios show names the field of a bad value, not a flag', async () => {
    const file = write('bad', 'name: bad\ndescription: d\nvm:\n  ram: 8Q\n');
    const r = await migdown(['scenarios', 'show', file]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toBe(`migdown: ${file}: vm.ram: cannot read "8Q" as a memory size (examples: 8G, 8192M, 512)`);
  });

  it.each([
    ['migration.downtime', 'migration:\n  downtime: 3000\n', /migration\.downtime: "3000" is above 2000 s/],
    ['vm.dirtyRing', 'vm:\n  dirtyRing: 3000\n', /vm\.dirtyRing: must be a power of two/],
    ['sweep.ram', 'sweep:\n  ram: [1G, 2X]\n', /sweep\.ram\.1: cannot read "2X"/],
    ['vm.guest.heartbeat', 'vm:\n  guest:\n    heartbeat: 0\n', /vm\.guest\.heartbeat: /],
  ])('%s', async (_, body, message) => {
    const r = await migdown(['scenarios', 'show', write('bad', `name: bad\ndescription: d\n${body}`)]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  const aliasBomb = () => {
    let text = 'name: bomb\ndescription: d\na0: &a0 [x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 9; i++) text += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]\n`;
    return text;
  };
  it.each([
    ['an alias bomb', aliasBomb(), /expands more than 50 aliases/],
    ['an unresolved alias', 'name: u\ndescription: *nope\n', /Unresolved alias/],
    ['deep flow nesting', `name: d\ndescription: d\nvm: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`, /nested too deeply|nested more than 32 levels/],
    ['a file of 100 KiB', `name: big\ndescription: d\n# ${'x'.repeat(100 * 1024)}\n`, /is too large for a scenario file \(at most 64 KiB\)/],
    ['control characters', 'name: c\ndescription: d\x08\x7f\x7f\n', /not valid YAML at line 2, column 15: control character U\+0008/],
    ['deep block nesting', `name: d\ndescription: d\nvm:\n${Array.from({ length: 40 }, (_, i) => `${' '.repeat(i + 2)}k${i}:\n`).join('')}`, /nested more than 32 levels/],
  ])('%s: one line, exit 2', async (_, text, message) => {
    const file = write('evil', text);
    for (const args of [['scenarios', 'show', file], ['run', ...NO_QEMU, '--scenario', file]]) {
      const r = await migdown(args);
      expect(r.exitCode, r.all).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});
