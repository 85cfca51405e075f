// Sweeps of any option: the cartesian product, the list syntax with its escape, scenarios'
// sweep lists, and one row per point in every format.

import { describe, expect, it } from 'vitest';
import { Chalk } from 'chalk';
import { expandSweep } from '../../src/trial/sweep.js';
import { escapeListValue, splitList } from '../../src/util/list.js';
import { parseScenario } from '../../src/scenario/load.js';
import { scenarioOptionValues } from '../../src/scenario/apply.js';
import type { RunHeader, TrialRecord } from '../../src/trial/types.js';
import { renderResults } from '../../src/render/results.js';
import { MAIL_WIDTH } from '../../src/render/text-table.js';
import { analyze } from '../../src/stats/analysis.js';

describe('the list syntax', () => {
  it('splits at commas, keeps escaped ones, and round-trips', () => {
    expect(splitList('1G, 2G,,4G')).toEqual(['1G', '2G', '4G']);
    expect(splitList('a\\,b,c\\\\,d')).toEqual(['a,b', 'c\\', 'd']);
    for (const v of ['plain', 'with,comma', 'back\\slash', 'both\\,']) expect(splitList(escapeListValue(v))).toEqual([v]);
  });
});

describe('expandSweep', () => {
  it('combines every listed option as a cartesian product, first option outermost', () => {
    const points = expandSweep({ ram: '256M', downtime: '0.01,0.3', smp: '1,2', param: ['multifd-channels=2,4', 'max-bandwidth=1G'], capability: ['multifd=on'] });
    expect(points.map((p) => p.label)).toEqual([
      { downtime: '0.01', smp: 1, 'multifd-channels': '2' },
      { downtime: '0.01', smp: 1, 'multifd-channels': '4' },
      { downtime: '0.01', smp: 2, 'multifd-channels': '2' },
      { downtime: '0.01', smp: 2, 'multifd-channels': '4' },
      { downtime: '0.3', smp: 1, 'multifd-channels': '2' },
      { downtime: '0.3', smp: 1, 'multifd-channels': '4' },
      { downtime: '0.3', smp: 2, 'multifd-channels': '2' },
      { downtime: '0.3', smp: 2, 'multifd-channels': '4' },
    ]);
    expect(points[3]!.overrides).toEqual({ downtime: '0.01', smp: '2', param: ['multifd-channels=4', 'max-bandwidth=1G'], capability: ['multifd=on'] });
  });
  it('sweeps capabilities and speed, and leaves single values alone (escapes resolved)', () => {
    const points = expandSweep({ speed: '0,100M', capability: ['auto-converge=on,off'], param: ['tls-authz=a\\,b'] });
    expect(points.map((p) => p.label)).toEqual([
      { speed: '0', 'auto-converge': 'on' },
      { speed: '0', 'auto-converge': 'off' },
      { speed: '100M', 'auto-converge': 'on' },
      { speed: '100M', 'auto-converge': 'off' },
    ]);
    expect(points[1]!.overrides).toMatchObject({ capability: ['auto-converge=off'], param: ['tls-authz=a,b'] });
    expect(expandSweep({ ram: '8G', param: ['downtime-limit=300'] })).toEqual([{ label: {}, overrides: { param: ['downtime-limit=300'] } }]);
  });
  it('takes a scenario sweep of any option', () => {
    const s = parseScenario(
      'name: s\ndescription: d\nmigration:\n  parameters: {tls-authz: "x,y"}\nsweep:\n  downtime: [0.01, 300ms]\n  smp: [1, 2]\n' +
        '  parameters: {multifd-channels: [2, 4]}\n  capabilities: {multifd: [true, false]}\n',
      's.yaml',
    );
    const values = scenarioOptionValues(s, 'run', 's.yaml', {});
    expect(values).toMatchObject({ downtime: '0.01,300ms', smp: '1,2', param: ['tls-authz=x\\,y', 'multifd-channels=2,4'], capability: ['multifd=on,off'] });
    expect(expandSweep(values as Record<string, unknown>)).toHaveLength(16);
  });
});

const chalk = new Chalk({ level: 0 });
const RUN = 'sweep-run';
const qemu = { path: '/usr/bin/qemu-system-x86_64', version: '7.2.22', versionLine: 'QEMU emulator version 7.2.22' };

describe('a 2 x 2 sweep of a compare', () => {
  const points = [
    { downtime: '0.01', 'multifd-channels': '2' },
    { downtime: '0.01', 'multifd-channels': '4' },
    { downtime: '0.3', 'multifd-channels': '2' },
    { downtime: '0.3', 'multifd-channels': '4' },
  ];
  const header: RunHeader = {
    kind: 'header',
    runId: RUN,
    command: 'compare',
    migdownVersion: '0.2.0',
    createdAt: '2026-12-03T14:00:00.000Z',
    host: { hostname: 'h', cpuModel: 'cpu', kernel: '6.1', memBytes: 2 ** 34, cpus: 2 },
    accel: 'kvm',
    config: { ram: '256M', ramBytes: 2 ** 28, smp: 1, seed: 3, sweep: points },
    variants: ['A', 'B', 'C'].map((label) => ({ label, qemu, extraArgs: [], params: {} })),
  };
  const trials: TrialRecord[] = points.flatMap((point, pi) =>
    ['A', 'B', 'C'].flatMap((variant, vi) =>
      [0, 1, 2].map((i) => ({
        kind: 'trial' as const,
        runId: RUN,
        variant,
        index: i + 1,
        point,
        warmup: false,
        status: 'completed' as const,
        accel: 'kvm' as const,
        startedAt: header.createdAt,
        wallMs: 1,
        info: { downtimeMs: 10 + pi * 5 + vi * 20 + i, totalTimeMs: 500 } as TrialRecord['info'],
        monitor: [],
        sourceArgv: [],
        destinationArgv: [],
        qemu,
      })),
    ),
  );
  it('gives one row per point in every format, and the mail stays within 72 columns', () => {
    const keys = ['downtime=0.01, multifd-channels=2', 'downtime=0.01, multifd-channels=4', 'downtime=0.3, multifd-channels=2', 'downtime=0.3, multifd-channels=4'];
    const table = renderResults('table', header, analyze(header, trials), chalk, { columns: 300 });
    for (const k of keys) expect(table.split('\n').filter((l) => l.includes(k))).toHaveLength(1);
    expect(table).toMatch(/p \(Holm\)/);
    const mail = renderResults('mail', header, analyze(header, trials), chalk);
    for (const l of mail.split('\n')) expect(l.length).toBeLessThanOrEqual(MAIL_WIDTH);
    const md = renderResults('markdown', header, analyze(header, trials), chalk);
    for (const k of keys) expect(md.split('\n').filter((l) => l.startsWith(`| ${k} |`))).toHaveLength(1);
    const csv = renderResults('csv', header, analyze(header, trials), chalk).split('\r\n');
    expect(csv[0]!.split(',').slice(0, 3)).toEqual(['point', 'downtime', 'multifd-channels']);
    const json = JSON.parse(renderResults('json', header, analyze(header, trials), chalk));
    expect(json.points.map((p: { point: unknown }) => p.point)).toEqual(points);
  });
});
