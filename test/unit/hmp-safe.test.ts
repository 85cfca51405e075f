// Nothing that reaches a QEMU monitor can carry bytes its line editor would act on: the
// patterns (src/qemu/hmp-safe.ts), --param / --capability parsing, scenario files (the error
// names the field), and the HMP client itself, which refuses such a line outright.

import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseParams } from '../../src/commands/vm-options.js';
import { HmpClient, HmpRefusedError } from '../../src/qemu/hmp-client.js';
import { hmpLineProblem, hmpNameProblem, hmpValueProblem } from '../../src/qemu/hmp-safe.js';
import { parseScenario } from '../../src/scenario/load.js';

const DEL40 = '\x7f'.repeat(40);
const INJECTION = `4${DEL40}migrate -d exec:touch\${IFS}/tmp/pwned`;

describe('what may go to a monitor', () => {
  it('names: lowercase letters, digits and dashes', () => {
    for (const ok of ['downtime-limit', 'multifd-channels', 'x-vcpu-dirty-limit-period', 'postcopy-ram']) expect(hmpNameProblem(ok)).toBeUndefined();
    for (const bad of ['', 'Multifd', 'a b', 'a\x7f', '-a', 'a_b', 'a;b', 'é']) expect(hmpNameProblem(bad), bad).toBeDefined();
  });
  it('values: numbers, sizes, words, ids; no control bytes, white space, quotes or backslash', () => {
    for (const ok of ['300', '1.5G', 'zstd', 'on', '-1', 'tls0', 'a,b', 'x=y']) expect(hmpValueProblem(ok), ok).toBeUndefined();
    for (const bad of ['', INJECTION, '4\x08', '4\x1b[2K', '1 2', '"x"', "'x'", 'a\\b', 'a\tb', 'a\nb', 'a\rb', '\u00e9', 'x'.repeat(257)]) {
      expect(hmpValueProblem(bad), JSON.stringify(bad)).toBeDefined();
    }
  });
  it('the message shows control bytes escaped, never raw', () => {
    const why = hmpValueProblem(INJECTION)!;
    expect(why).toContain('\\x7f');
    expect(why).not.toMatch(/[\x00-\x1f\x7f]/);
  });
  it('a whole line: printable ASCII only', () => {
    expect(hmpLineProblem('migrate_set_parameter downtime-limit 300')).toBeUndefined();
    expect(hmpLineProblem(`migrate_set_parameter downtime-limit ${INJECTION}`)).toMatch(/^refusing to send/);
    expect(hmpLineProblem('info migrate\nquit')).toBeDefined();
  });
});

describe('--param, --capability, --a-param: checked when the command line is read (exit 2)', () => {
  it('refuses the DEL injection, naming the option and the parameter', () => {
    expect(() => parseParams('--param', [`downtime-limit=${INJECTION}`])).toThrow(/^--param: downtime-limit: the value "4\\x7f.*contains "\\x7f"/);
    expect(() => parseParams('--a-param', ['x=1 2'])).toThrow(/^--a-param: x: .*a space/);
    expect(() => parseParams('--capability', ['multifd\x08=on'])).toThrow(/^--capability: "multifd\\x08" is not a migration parameter/);
    expect(parseParams('--param', ['downtime-limit=300', 'multifd-compression=zstd'])).toEqual({ 'downtime-limit': '300', 'multifd-compression': 'zstd' });
  });
});

describe('scenario files: the error names the file and the field', () => {
  const yaml = (migration: string) => `name: evil\ndescription: x\nmigration:\n${migration}`;
  it('a parameter value with DEL bytes', () => {
    expect(() => parseScenario(yaml(`  parameters:\n    downtime-limit: "4\\x7f\\x7fmigrate -d exec:id"\n`), 'scenario.yaml')).toThrow(
      /^scenario\.yaml: migration\.parameters\.downtime-limit: the value "4\\x7f\\x7fmigrate -d exec:id" contains "\\x7f"/,
    );
  });
  it('a capability or parameter name that is not one', () => {
    expect(() => parseScenario(yaml(`  capabilities:\n    "multifd\\b": true\n`), 's.yaml')).toThrow(/^s\.yaml: migration\.capabilities\.multifd\\x08: not a migration parameter or capability name/);
    expect(() => parseScenario(`name: e\ndescription: x\nvariants:\n  - label: a\n    parameters:\n      "a b": 1\n`, 's.yaml')).toThrow(/^s\.yaml: variants\.0\.parameters\.a b: not a migration/);
  });
  it('labels and descriptions, which terminals show, carry no control characters', () => {
    expect(() => parseScenario(`name: e\ndescription: x\nvariants:\n  - label: "a\\e[2J"\n`, 's.yaml')).toThrow(/^s\.yaml: variants\.0\.label: control characters are not allowed/);
    expect(() => parseScenario(`name: e\ndescription: "x\\x07"\n`, 's.yaml')).toThrow(/^s\.yaml: description: control characters/);
  });
  it('ordinary values still load', () => {
    const s = parseScenario(yaml(`  parameters:\n    downtime-limit: 300\n    multifd-channels: 4\n  capabilities:\n    multifd: true\n`), 's.yaml');
    expect(s.migration.parameters).toEqual({ 'downtime-limit': '300', 'multifd-channels': '4' });
  });
});

describe('HmpClient: the last line of defence', () => {
  it('refuses to send a line with control bytes; nothing reaches the socket', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hmp-safe-'));
    const sock = path.join(dir, 'mon');
    let received = '';
    const server = net.createServer((c) => {
      c.on('data', (d) => (received += d.toString('latin1')));
      c.write('QEMU 7.2.22 monitor - type \'help\' for more information\r\n(qemu) ');
    });
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      const mon = await HmpClient.connect(sock, { connectTimeoutMs: 2000 });
      await expect(mon.command(`migrate_set_parameter downtime-limit ${INJECTION}`)).rejects.toBeInstanceOf(HmpRefusedError);
      await new Promise((r) => setTimeout(r, 50));
      expect(received).toBe('');
      mon.close();
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
