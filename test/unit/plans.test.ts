// Every command's options become one typed plan before anything runs: pure functions of the
// command line (and the host facts they are checked against), tested here without QEMU or KVM,
// on the commands' real option tables.

import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { UsageError } from '../../src/errors.js';
import type { CommandContext } from '../../src/commands/context.js';
import { planBuild, type RawBuildOptions } from '../../src/commands/build.js';
import { compareCommand } from '../../src/commands/compare.js';
import { planCompare, type CompareInputs, type RawCompareOptions } from '../../src/commands/compare-plan.js';
import { planDoctor } from '../../src/commands/doctor.js';
import { givenOnCli } from '../../src/commands/experiment-plan.js';
import { planParse } from '../../src/commands/parse.js';
import { planReport, reportCommand, type RawReportOptions } from '../../src/commands/report.js';
import { planReproduce } from '../../src/commands/reproduce.js';
import { planRun, runCommand, type RawRunOptions } from '../../src/commands/run.js';
import { planVm, type VmFacts } from '../../src/commands/vm-plan.js';
import type { Scenario } from '../../src/scenario/schema.js';

const GiB = 1024 ** 3;
const FACTS: VmFacts = { hostCpus: 4, hostMemBytes: 16 * GiB, kvm: { usable: true, reason: '/dev/kvm is usable' } };
const NO_KVM: VmFacts = { ...FACTS, kvm: { usable: false, reason: '/dev/kvm does not exist (no KVM in this kernel or machine)' } };

const ctx = { chalk: new Chalk({ level: 0 }), chalkErr: new Chalk({ level: 0 }), env: { MIGDOWN_QEMU: '/opt/q/qemu-system-x86_64' } } as unknown as CommandContext;

/** The options of `make(ctx)` for these arguments, as commander hands them to the action. */
function parsed<T>(make: (c: CommandContext, set: (p: Promise<number>) => void) => Command, args: string[]): { cmd: Command; opts: T } {
  const cmd = make(ctx, () => undefined).action(() => undefined);
  cmd.exitOverride();
  cmd.parse(args, { from: 'user' });
  return { cmd, opts: cmd.opts() as T };
}

function runPlanOf(args: string[], facts = FACTS) {
  const { cmd, opts } = parsed<RawRunOptions>(runCommand, args);
  return planRun(opts, { given: givenOnCli(cmd), facts });
}

function comparePlanOf(args: string[], more: Partial<CompareInputs> = {}) {
  const { cmd, opts } = parsed<RawCompareOptions>(compareCommand, args);
  return planCompare(opts, {
    given: givenOnCli(cmd),
    facts: FACTS,
    cmd,
    typed: structuredClone(opts) as unknown as Record<string, unknown>,
    outFile: 'out.jsonl',
    randomSeed: 1234,
    defaultQemu: 'qemu-default',
    ...more,
  });
}

const usage = (message: string) => new UsageError(message);

describe('run plan', () => {
  it('defaults: one point of the seed settings, KVM, the environment QEMU', () => {
    const plan = runPlanOf([]);
    expect(plan.qemu).toEqual({ binary: '/opt/q/qemu-system-x86_64' });
    expect(plan.format).toBe('table');
    expect(plan.gates).toEqual({});
    expect(plan.breakdown).toBe(true);
    expect(plan.remote).toBeUndefined();
    expect(plan.points).toHaveLength(1);
    const vm = plan.points[0]!.vm;
    expect(vm).toMatchObject({ ramBytes: 8 * GiB, smp: 4, speedBytes: 0, downtimeMs: 10, runs: 5, pollMs: 100, accel: 'kvm', params: {}, capabilities: {}, postcopy: false });
    expect(vm.guest).toMatchObject({ kind: 'builtin', touch: 'read', dirtyRateMiBs: 0, heartbeatMs: 1 });
    expect(vm.timeoutMs).toBe((60 + 15 * 8) * 1000);
  });

  it('the gates are parsed once, into numbers', () => {
    expect(runPlanOf(['--max-downtime', '12.5']).gates).toEqual({ maxDowntimeMs: 12.5 });
    expect(() => runPlanOf(['--max-downtime', 'soon'])).toThrow(usage('--max-downtime: "soon" is not a non-negative number'));
  });

  it('a sweep is one point per value, each with its own VM options', () => {
    const plan = runPlanOf(['--ram', '1G,2G', '--param', 'multifd-channels=2,4', '--json', '--no-breakdown']);
    expect(plan.points.map((p) => p.point.label)).toEqual([
      { ram: '1G', 'multifd-channels': '2' },
      { ram: '1G', 'multifd-channels': '4' },
      { ram: '2G', 'multifd-channels': '2' },
      { ram: '2G', 'multifd-channels': '4' },
    ]);
    expect(plan.points.map((p) => [p.vm.ramBytes / GiB, p.vm.params['multifd-channels']])).toEqual([
      [1, '2'],
      [1, '4'],
      [2, '2'],
      [2, '4'],
    ]);
    expect(plan.format).toBe('json');
    expect(plan.breakdown).toBe(false);
  });

  it('a build spec is parsed into the plan, a bad one refused', () => {
    expect(runPlanOf(['--qemu', 'build:debian:7.2']).qemu).toMatchObject({ build: { source: { kind: 'debian', version: '7.2' } } });
    expect(() => runPlanOf(['--qemu', 'build:'])).toThrow(UsageError);
  });

  it('bad VM options: one line naming the option', () => {
    expect(() => runPlanOf(['--ram', 'lots'])).toThrow(usage('--ram: cannot read "lots" as a memory size (examples: 8G, 8192M, 512)'));
    expect(() => runPlanOf(['--ram', '32G'])).toThrow(usage("--ram: 32G is more than this host's memory (16.0 GiB)"));
    expect(() => runPlanOf(['--smp', '8'])).toThrow(usage("--smp: 8 vCPUs is more than this host's 4 CPUs"));
    expect(() => runPlanOf(['--dirty-ring', '3000'])).toThrow(usage('--dirty-ring: 3000 is not a power of two (e.g. 4096, 8192, 65536)'));
    expect(() => runPlanOf(['--capability', 'multifd=maybe'])).toThrow(usage('--capability: multifd=maybe: the value must be on or off'));
    expect(() => runPlanOf(['--heartbeat', '0.05'])).toThrow(usage('--heartbeat: 0.05 is out of range (0.1 to 60000 ms)'));
    expect(() => runPlanOf(['--dirty-rate', '-5'])).toThrow(usage('--dirty-rate: "-5" is negative; a rate is 0 or more MiB/s'));
    expect(() => runPlanOf(['--qemu-arg=-daemonize'])).toThrow(usage("--qemu-arg: -daemonize would take QEMU out of migdown's control (it could outlive migdown); leave it out"));
  });

  it('checks against the host facts it is given', () => {
    expect(() => runPlanOf(['--accel', 'kvm'], NO_KVM)).toThrow(usage('--accel kvm: KVM is not usable: /dev/kvm does not exist (no KVM in this kernel or machine)'));
    expect(runPlanOf([], NO_KVM).points[0]!.vm).toMatchObject({ accel: 'tcg', accelNote: expect.stringMatching(/^KVM not usable/) });
    expect(() => runPlanOf(['--port', '4444'], { ...FACTS, portFree: false })).toThrow(usage('--port: 127.0.0.1:4444 is already in use'));
    expect(runPlanOf(['--port', '4444'], { ...FACTS, portFree: true }).points[0]!.vm.port).toBe(4444);
    expect(() => runPlanOf(['--guest', 'image', '--image', 'x.qcow2', '--boot-wait', '5'], { ...FACTS, imageReadable: false })).toThrow(
      usage('--image: x.qcow2 does not exist or is not readable'),
    );
  });

  it('the smp default above the host CPUs is lowered with a warning, not refused', () => {
    const { cmd, opts } = parsed<RawRunOptions>(runCommand, []);
    const vm = planVm(opts, { ...FACTS, hostCpus: 2 }, { smpExplicit: givenOnCli(cmd)('smp') });
    expect(vm.smp).toBe(2);
    expect(vm.warnings).toEqual(['4 vCPUs asked for, but this host has 2 CPUs: using 2 (pass --smp to choose)']);
  });

  it('--dest-host is parsed and checked before any trial', () => {
    const plan = runPlanOf(['--dest-host', 'root@[fd00::2]:2222', '--migrate-uri', 'tcp:10.0.0.2:4444', '--ssh-option', 'Compression=yes']);
    expect(plan.remote).toMatchObject({
      target: { host: 'fd00::2', user: 'root', port: 2222 },
      ssh: { extraOptions: ['Compression=yes'] },
      qemuPath: 'qemu-system-x86_64',
      migrateUri: 'tcp:10.0.0.2:4444',
    });
    expect(() => runPlanOf(['--dest-host', 'a b'])).toThrow(usage('--dest-host "a b": contains white space (expected [user@]HOST[:port])'));
    expect(() => runPlanOf(['--dest-host', 'h', '--migrate-uri', 'udp:x'])).toThrow(usage('--migrate-uri "udp:x": expected tcp:HOST:PORT (IPv6 in brackets)'));
    // Each trial used to fail with this (and the series stopped after two): now the command does.
    expect(() => runPlanOf(['--dest-host', 'h', '--qemu-arg=-nographic'])).toThrow(usage('-nographic cannot be used on a remote destination (its stdio carries the monitor)'));
    expect(() => runPlanOf(['--dest-host', 'h', '--guest', 'image', '--image', 'x', '--boot-wait', '1'], { ...FACTS, imageReadable: true })).toThrow(
      usage('--guest image cannot be used with --dest-host: the destination would need the image on shared storage'),
    );
  });
});

describe('compare plan', () => {
  it('defaults: two variants of the default QEMU, one warm-up, the random seed', () => {
    const plan = comparePlanOf([]);
    expect(plan.variants.map((v) => [v.label, v.source])).toEqual([
      ['without this patch', { binary: '/opt/q/qemu-system-x86_64' }],
      ['with this patch', { binary: '/opt/q/qemu-system-x86_64' }],
    ]);
    expect(plan).toMatchObject({ warmup: 1, order: 'alternate', seed: 1234, confidence: 0.95, gates: {}, outFile: 'out.jsonl' });
    expect(plan.points[0]!.vm.runs).toBe(10);
    expect(plan.recordedOptions).toMatchObject({ seed: '1234', out: undefined, resume: undefined, scenario: undefined, ram: '8G' });
    expect(plan.continueWith).toBe('migdown compare --resume out.jsonl');
  });

  it('--seed, --order, --warmup, --confidence and the gates, parsed', () => {
    const plan = comparePlanOf(['--seed', '7', '--order', 'shuffle', '--warmup', '0', '--confidence', '0.99', '--fail-if-regression', '5', '--runs', '4']);
    expect(plan).toMatchObject({ seed: 7, order: 'shuffle', warmup: 0, confidence: 0.99, gates: { regressionPct: 5 } });
    expect(plan.continueWith).toBe('migdown compare --resume out.jsonl --warmup=0 --order=shuffle --seed=7 --confidence=0.99 --runs=4 --fail-if-regression=5');
  });

  it('bad compare options: one line each', () => {
    expect(() => comparePlanOf(['--runs', '2'])).toThrow(usage('--runs: 2 is too few to compare; the rank test needs at least 3 per variant'));
    expect(() => comparePlanOf(['--warmup', 'x'])).toThrow(usage('--warmup: "x" is not a whole number'));
    expect(() => comparePlanOf(['--confidence', '0.3'])).toThrow(usage('--confidence: "0.3" is not a level between 0.5 and 1 (e.g. 0.95)'));
    expect(() => comparePlanOf(['--seed', '-1'])).toThrow(usage('--seed: "-1" is not a whole number'));
    expect(() => comparePlanOf(['--variant', 'a', '--variant', 'b', '--qemu-a', 'q'])).toThrow(usage('--variant names every variant; drop --qemu-a (the two-variant form)'));
    expect(() => comparePlanOf(['--label-b', 'without this patch'])).toThrow(usage('--label-a and --label-b are both "without this patch"; the table needs two names'));
    expect(() => comparePlanOf(['--b-arg=-runas', '--b-arg=nobody'])).toThrow(usage("--b-arg: -runas would take QEMU out of migdown's control (it could outlive migdown); leave it out"));
    expect(() => comparePlanOf(['--qemu-b', 'build:debian:7.2,bogus=1'])).toThrow(UsageError);
  });

  it('N variants, each with its own arguments, checked for a remote destination too', () => {
    const plan = comparePlanOf(['--variant', 'old=/a/q', '--variant', 'new', '--variant-arg', 'new=-S']);
    expect(plan.variants.map((v) => [v.label, v.source, v.extraArgs])).toEqual([
      ['old', { binary: '/a/q' }, []],
      ['new', { binary: 'qemu-default' }, ['-S']],
    ]);
    expect(() => comparePlanOf(['--dest-host', 'h', '--variant', 'a', '--variant', 'b', '--variant-arg', 'b=-serial', '--variant-arg', 'b=stdio'])).toThrow(
      usage('-serial stdio cannot be used on a remote destination (its stdio carries the monitor)'),
    );
  });
});

describe('report plan', () => {
  const reportPlanOf = (args: string[]) => {
    const { cmd, opts } = parsed<RawReportOptions>(reportCommand, args);
    return planReport(cmd.args[0]!, cmd.args[1], opts);
  };

  it('files, labels, seed, outputs and gates', () => {
    expect(reportPlanOf(['a.jsonl', 'b.jsonl', '--seed', '3', '--label-a', 'old', '--format', 'csv', '--html', 'r.html', '--max-downtime', '40', '-q'])).toEqual({
      file: 'a.jsonl',
      newFile: 'b.jsonl',
      seed: 3,
      labelA: 'old',
      format: 'csv',
      artifacts: { html: 'r.html' },
      quiet: true,
      gates: { maxDowntimeMs: 40 },
    });
  });

  it('the gates first, then the seed', () => {
    expect(() => reportPlanOf(['a.jsonl', '--fail-if-regression', 'ten', '--seed', 'x'])).toThrow(usage('--fail-if-regression: "ten" is not a non-negative number'));
    expect(() => reportPlanOf(['a.jsonl', '--seed', String(2 ** 32)])).toThrow(usage('--seed: 4294967296 is out of range (0 to 4294967295)'));
  });
});

describe('build, doctor, parse and reproduce plans', () => {
  const raw = (o: Partial<RawBuildOptions> = {}): RawBuildOptions => ({ configure: [], defaultConfigure: true, ...o });

  it('build: the source with --ref, the steps in order, --configure and --jobs', () => {
    const plan = planBuild('/src/qemu', raw({ ref: 'v7.2.0', configure: ['--enable-slirp'], jobs: '2' }), [{ mode: 'patch', file: 'p.diff' }]);
    expect(plan).toMatchObject({ jobs: 2, defaultConfigure: true, json: false, quiet: false });
    expect(plan.spec).toMatchObject({ source: { kind: 'dir', path: '/src/qemu', ref: 'v7.2.0' }, steps: [{ mode: 'patch', file: 'p.diff' }], configure: ['--enable-slirp'] });
    expect(() => planBuild('debian:7.2', raw({ ref: 'x' }), [])).toThrow(usage('--ref: only for a QEMU git checkout, not a Debian source'));
    expect(() => planBuild('/q@v1', raw({ ref: 'v2' }), [])).toThrow(usage('--ref v2: the source already names a ref (v1)'));
    expect(() => planBuild('debian:7.2', raw({ jobs: '0' }), [])).toThrow(usage('--jobs: "0" is not a positive whole number'));
    expect(() => planBuild('debian:7.2', raw({ configure: ['rm -rf'] }), [])).toThrow(usage('configure argument "rm -rf" is not an option like --enable-foo or --disable-bar=baz'));
  });

  it('doctor: the QEMU and the KVM device of the environment', () => {
    expect(planDoctor({ qemu: 'q' }, {})).toEqual({ qemu: 'q', kvmDevice: '/dev/kvm' });
    expect(planDoctor({ qemu: 'q' }, { MIGDOWN_KVM_DEVICE: '/tmp/kvm' })).toEqual({ qemu: 'q', kvmDevice: '/tmp/kvm' });
  });

  it('parse: a file, or stdin unless it is a terminal', () => {
    expect(planParse('t.txt', true)).toEqual({ from: 'file', file: 't.txt' });
    expect(planParse('-', false)).toEqual({ from: 'stdin' });
    expect(planParse(undefined, false)).toEqual({ from: 'stdin' });
    expect(() => planParse(undefined, true)).toThrow(usage('parse: give a file or pipe a transcript into stdin'));
  });

  it("reproduce: the scenario's builds and the mail format, unless given", () => {
    const scenario = { name: 's', variants: [{ label: 'a', build: { source: 'debian:7.2' } }, { label: 'b', build: { source: 'debian:7.2' } }] } as unknown as Scenario;
    const spec = (b: { source: string }) => `build:${b.source}`;
    expect(planReproduce('s', scenario, () => false, spec)).toEqual({ scenario: 's', format: 'mail', qemuA: 'build:debian:7.2', qemuB: 'build:debian:7.2' });
    expect(planReproduce('s', scenario, (k) => k === 'format' || k === 'qemuB', spec)).toEqual({ scenario: 's', qemuA: 'build:debian:7.2' });
    const one = { ...scenario, variants: [scenario.variants![0]] } as Scenario;
    expect(() => planReproduce('s', one, () => false, spec)).toThrow(
      usage('reproduce: scenario s does not name a build for both variants; use migdown compare --scenario s with --qemu-a/--qemu-b'),
    );
  });
});
