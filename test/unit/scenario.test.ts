import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { expandSweep } from '../../src/trial/sweep.js';
import { addVmOptions } from '../../src/commands/vm-options.js';
import { equivalentCommand } from '../../src/commands/scenarios.js';
import { applyScenario, scenarioOptionValues } from '../../src/scenario/apply.js';
import { listScenarioFiles, parseScenario, SCENARIO_DIR } from '../../src/scenario/load.js';
import { scenarioJsonSchema } from '../../src/scenario/write-schema.js';

describe('shipped scenarios', () => {
  const files = listScenarioFiles();
  it('include the seed, a smoke test, sweeps and the feature scenarios', () => {
    const names = files.map((f) => path.basename(f, '.yaml'));
    for (const n of ['seed-2015', 'smoke', 'ram-sweep', 'dirty-rate-sweep', 'multifd', 'postcopy', 'auto-converge', 'dirty-ring']) {
      expect(names).toContain(n);
    }
  });

  it.each(listScenarioFiles().map((f) => [path.basename(f), f]))('%s validates and its name matches its file', (_, file) => {
    const s = parseScenario(readFileSync(file, 'utf8'), file);
    expect(`${s.name}.yaml`).toBe(path.basename(file));
  });

  it("gives the seed's published figures", () => {
    const file = path.join(SCENARIO_DIR, 'seed-2015.yaml');
    const s = parseScenario(readFileSync(file, 'utf8'), file);
    expect(s.reference?.[0]?.values).toEqual({ 'without this patch': 35, 'with this patch': 4 });
    expect(s.vm).toMatchObject({ ram: '8G', smp: 4 });
    expect(s.migration).toMatchObject({ speed: '0', downtime: '0.01' });
  });

  it('the committed JSON Schema is the one the code generates (npm run schema)', () => {
    expect(readFileSync(path.join(SCENARIO_DIR, 'scenario.schema.json'), 'utf8')).toBe(scenarioJsonSchema());
  });
});

describe('bad scenario files', () => {
  const bad = (text: string) => () => parseScenario(text, 'x.yaml');
  it('names the file, the path and the expected keys for a typo', () => {
    expect(bad('name: a\ndescription: d\nvm:\n  ramm: 8G\n')).toThrow(
      'x.yaml: vm: unknown key "ramm" (expected one of: ram, smp, machine, accel, dirtyRing, firmware, guest, args)',
    );
    expect(bad('name: a\ndescription: d\nmigration:\n  speeed: 0\n')).toThrow(/^x\.yaml: migration: unknown key "speeed" \(expected one of: speed, downtime,/);
    expect(bad('name: a\ndescription: d\nvariants:\n  - label: x\n    qemu_path: /q\n')).toThrow(
      'x.yaml: variants.0: unknown key "qemu_path" (expected one of: label, qemu, build, args, parameters)',
    );
  });
  it('names the path and the expected type', () => {
    expect(bad('name: a\ndescription: d\ntrials:\n  runs: many\n')).toThrow('x.yaml: trials.runs: Invalid input: expected number, received string');
    expect(bad('description: d\n')).toThrow(/^x\.yaml: name: /);
  });
  it('reports YAML syntax errors with their line', () => {
    expect(bad('name: a\ndescription: d\nvm:\n  ram: [1\n')).toThrow(/^x\.yaml: not valid YAML at line \d+, column \d+: /);
  });
});

describe('precedence: flags given on the command line override the file', () => {
  function parse(argv: string[]) {
    const cmd = addVmOptions(new Command('run').exitOverride()).option('--qemu <p>', '', 'qemu-system-x86_64');
    cmd.parse(argv, { from: 'user' });
    return { cmd, opts: cmd.opts() };
  }
  const scenario = parseScenario(
    'name: s\ndescription: d\nvm:\n  ram: 2G\n  smp: 2\n  args: [-cpu, host]\nmigration:\n  downtime: "0.3"\ntrials:\n  runs: 7\n',
    's.yaml',
  );

  it('takes the file where no flag was given', () => {
    const { cmd, opts } = parse([]);
    applyScenario(cmd, opts, scenarioOptionValues(scenario, 'run', 's.yaml', {}));
    expect(opts).toMatchObject({ ram: '2G', smp: '2', downtime: '0.3', runs: '7', qemuArg: ['-cpu', 'host'] });
  });

  it('keeps the flags', () => {
    const { cmd, opts } = parse(['--ram', '4G', '--runs', '3', '--qemu-arg=-name', '--qemu-arg=x']);
    applyScenario(cmd, opts, scenarioOptionValues(scenario, 'run', 's.yaml', {}));
    expect(opts).toMatchObject({ ram: '4G', smp: '2', downtime: '0.3', runs: '3', qemuArg: ['-cpu', 'host', '-name', 'x'] });
  });

  it('expands ${VAR} in a variant qemu, and says which variable is missing', () => {
    const two = parseScenario('name: s\ndescription: d\nvariants:\n  - {label: a, qemu: "${QA}"}\n  - {label: b, qemu: /q/b}\n', 's.yaml');
    expect(scenarioOptionValues(two, 'compare', 's.yaml', { QA: '/q/a' })).toMatchObject({ qemuA: '/q/a', qemuB: '/q/b', labelA: 'a' });
    expect(() => scenarioOptionValues(two, 'compare', 's.yaml', {})).toThrow('s.yaml: variant qemu needs the environment variable QA, which is not set');
  });

  it('gives three or more variants as --variant, in order, with their arguments and parameters', () => {
    const three = parseScenario(
      'name: s\ndescription: d\nvariants:\n  - {label: base, qemu: "${QA}"}\n  - {label: series, qemu: /q/b, args: [-S]}\n' +
        '  - {label: v2, parameters: {downtime-limit: 50}}\n',
      's.yaml',
    );
    expect(scenarioOptionValues(three, 'compare', 's.yaml', { QA: '/q/a' })).toMatchObject({
      variant: ['base=/q/a', 'series=/q/b', 'v2'],
      variantArg: ['series=-S'],
      variantParam: ['v2=downtime-limit=50'],
    });
    expect(() => parseScenario('name: s\ndescription: d\nvariants:\n  - {label: "a=b"}\n', 's.yaml')).toThrow(/without '='/);
  });

  it('turns a sweep into one point per value', () => {
    const sweep = parseScenario('name: s\ndescription: d\nsweep:\n  ram: [1G, 2G]\n  dirtyRate: [0, 64]\n', 's.yaml');
    const values = scenarioOptionValues(sweep, 'run', 's.yaml', {});
    expect(expandSweep(values).map((p) => p.label)).toEqual([
      { ram: '1G', dirtyRate: 0 },
      { ram: '1G', dirtyRate: 64 },
      { ram: '2G', dirtyRate: 0 },
      { ram: '2G', dirtyRate: 64 },
    ]);
    expect(expandSweep({ ram: '8G' })).toEqual([{ label: {}, overrides: {} }]);
  });

  it('shows the equivalent command line', () => {
    expect(equivalentCommand(scenario)).toBe('migdown run --ram 2G --smp 2 --qemu-arg=-cpu --qemu-arg=host --downtime 0.3 --runs 7');
  });
});
