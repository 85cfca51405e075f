// Pure pieces of issue 12's hardening: feature detection, refused QEMU arguments, numbers
// that are no measurement, the results writer on a full disk and after a cut line.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ResultsWriter } from '../../src/trial/results-file.js';
import { parseResults } from '../../src/trial/results-read.js';
import { detachingArgument } from '../../src/commands/option-checks.js';
import { missingWorkloadOptions } from '../../src/commands/resume-checks.js';
import { UsageError } from '../../src/errors.js';
import { parseInfoMigrate } from '../../src/qemu/info-migrate.js';
import { helpListsPdeathsig } from '../../src/qemu/process.js';
import { deviceTimeOf, parseTraceLine } from '../../src/trace/trace-log.js';
import { compileLinearRegex } from '../../src/util/linear-regex.js';

// util-linux 2.32.1 (CentOS 8, Debian buster has 2.33) and 2.38.1 (Debian 12), abridged.
const SETPRIV_2_32 = `Usage:
 setpriv [options] <program> [<argument>...]

Run a program with different privilege settings.

Options:
 -d, --dump               show current state (and do not exec)
 --nnp, --no-new-privs    disallow granting new privileges
 --ambient-caps <caps,...>  set ambient capabilities
 --reuid <ruid>           set real uid
 --reset-env              clear and reset the environment
`;
const SETPRIV_2_38 = `${SETPRIV_2_32} --pdeathsig keep|clear|<signame>\n                           set or clear parent death signal\n`;

describe('setpriv feature detection', () => {
  it('finds --pdeathsig only where the help lists it', () => {
    expect(helpListsPdeathsig(SETPRIV_2_38)).toBe(true);
    expect(helpListsPdeathsig(SETPRIV_2_32)).toBe(false);
    expect(helpListsPdeathsig('')).toBe(false);
  });
});

describe('QEMU arguments that detach QEMU', () => {
  it.each([
    [['-daemonize'], '-daemonize'],
    [['--daemonize'], '-daemonize'],
    [['-name', 'x', '-runas', 'nobody'], '-runas'],
    [['-run-with', 'user=nobody'], '-run-with user='],
    [['-run-with=chroot=/srv,user=1000:1000'], '-run-with user='],
    [['-run-with', 'chroot=/srv'], undefined],
    [['-run-with', 'async-teardown=on'], undefined],
    [['-chroot', '/srv', '-name', 'daemonize'], undefined],
  ])('%j -> %s', (args, bad) => expect(detachingArgument(args)).toBe(bad));
});

describe('numbers that are no measurement', () => {
  it('info migrate: a negative or overflowing figure is not read (it stays in unknown)', () => {
    const info = parseInfoMigrate('Migration status: completed\ntotal time: 1e999 ms\ndowntime: -5 ms\nsetup: 3 ms\n');
    expect(info.setupMs).toBe(3);
    expect(info.totalTimeMs).toBeUndefined();
    expect(info.downtimeMs).toBeUndefined();
    expect(info.unknown).toEqual(['total time: 1e999 ms', 'downtime: -5 ms']);
  });

  it('trace: a negative device time or an overflowing timestamp is not an event', () => {
    const ev = parseTraceLine('1@1.000001:vmstate_downtime_save type=non-iterable idstr=apic instance_id=0 downtime=-40')!;
    expect(deviceTimeOf(ev)).toBeUndefined();
    expect(parseTraceLine(`1@${'9'.repeat(400)}.000001:vmstate_downtime_checkpoint src-downtime-start`)).toBeUndefined();
  });

  it('trace arguments are read the same as before, in one pass', () => {
    const ev = parseTraceLine('1@1.5:kvm_set_user_memory AddrSpace#0 Slot#3 flags=0x1 gpa=0x0 size=0x100000 ua=0x7f ret=0 x,y=1 =z=2')!;
    expect(ev.args).toEqual({ flags: '0x1', gpa: '0x0', size: '0x100000', ua: '0x7f', ret: '0', y: '1', z: '2' });
  });
});

describe('results writer', () => {
  const dir = () => mkdtempSync(path.join(os.tmpdir(), 'migdown-unit-'));

  it('a full disk: the header write is a UsageError, a later write reports false and its errno', () => {
    const w = new ResultsWriter('/dev/full');
    expect(() => w.start({ kind: 'header' } as never)).toThrow(UsageError);
    expect(w.failure).toBe('ENOSPC');
    expect(w.append({ kind: 'trial' } as never)).toBe(false);
  });

  it('an unwritable place is a UsageError naming --out', () => {
    expect(() => new ResultsWriter('/proc/nope/r.jsonl')).toThrow(/^--out \/proc\/nope\/r\.jsonl: cannot write \/proc\/nope: ENOENT$/);
  });

  it('after a cut last line the next record starts on a line of its own', () => {
    const file = path.join(dir(), 'r.jsonl');
    writeFileSync(file, '{"kind":"header","runId":"x"}\n{"kind":"trial","runId":"x","vari');
    new ResultsWriter(file).append({ kind: 'trial', runId: 'y' } as never);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines[2]).toBe('{"kind":"trial","runId":"y"}');
    expect(parseResults(readFileSync(file, 'utf8')).cutLastLine).toBe(false);
  });
});

describe('resume', () => {
  it('names the workload options a recorded compare lacks', () => {
    expect(missingWorkloadOptions({ ram: '1G', smp: '1', speed: '0', downtime: '0.01', runs: '3', poll: '100', accel: 'auto', qemuArg: [], param: [], capability: [] })).toEqual([
      '--guest',
      '--touch',
      '--dirty-rate',
      '--heartbeat',
    ]);
  });
});

describe('--ready-pattern', () => {
  it('compiles for linear-time matching; what needs backtracking is refused', () => {
    // A backtracking engine would not finish this in the lifetime of the machine.
    const re = compileLinearRegex('(a+)+$', 'm');
    expect(re.test(`${'a'.repeat(50_000)}b`)).toBe(false);
    expect(() => compileLinearRegex('(a)\\1')).toThrow(/cannot be matched in linear time/);
    expect(() => compileLinearRegex('(')).toThrow(/Unterminated group/);
  });
});
