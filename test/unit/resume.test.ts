// compare --resume takes nothing to run from the file: pure checks of the option comparison
// and the command lines shown (src/commands/resume.ts), on compare's real option table.

import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { compareCommand } from '../../src/commands/compare.js';
import { reproduceCommand } from '../../src/commands/reproduce.js';
import type { CommandContext } from '../../src/commands/context.js';
import { continueCommandLine, recordedCommandLine, resumeDifferences } from '../../src/commands/resume.js';

function parsed(args: string[]) {
  const ctx = { chalk: new Chalk({ level: 0 }), chalkErr: new Chalk({ level: 0 }), env: {} } as unknown as CommandContext;
  const cmd = compareCommand(ctx, () => undefined).action(() => undefined);
  cmd.parse(args, { from: 'user' });
  return { cmd, opts: cmd.opts() as Record<string, unknown> };
}

describe('compare --resume', () => {
  it('the same flags: no difference; presentation and gates may change', () => {
    const first = parsed(['--ram', '256M', '--runs', '4', '--qemu-arg=-name', '--qemu-arg=t1', '--html', 'a.html']);
    const recorded = { ...first.opts, seed: '7', out: undefined };
    const now = parsed(['--ram', '256M', '--runs', '4', '--qemu-arg=-name', '--qemu-arg=t1', '--format', 'json', '--svg', 'd', '--max-downtime', '5']);
    expect(resumeDifferences(now.cmd, JSON.parse(JSON.stringify(recorded)), now.opts)).toEqual([]);
  });

  it('every recorded option that is not given now is a difference, dangerous ones included', () => {
    const now = parsed([]);
    const recorded = { ...now.opts, destHost: 'x.invalid', sshOption: ["ProxyCommand=sh -c 'id > /tmp/F'"], qemuB: '/evil', bArg: ['-daemonize'], hacker: 1 };
    const diff = resumeDifferences(now.cmd, recorded, now.opts);
    expect(diff).toHaveLength(5);
    expect(diff).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^--qemu-b \(recorded "\/evil", now "/),
        '--b-arg (recorded ["-daemonize"], now [])',
        '--dest-host (recorded "x.invalid", now null)',
        '--ssh-option (recorded ["ProxyCommand=sh -c \'id > /tmp/F\'"], now [])',
        'an option migdown does not have (hacker)',
      ]),
    );
  });

  it('an option the file does not mention had its default; --no-breakdown is compared too', () => {
    const now = parsed(['--no-breakdown']);
    expect(resumeDifferences(now.cmd, { ram: '8G' }, now.opts)).toEqual(['--no-breakdown (recorded true, now false)']);
    expect(resumeDifferences(now.cmd, { breakdown: false }, now.opts)).toEqual([]);
  });

  it('the recorded command line is quoted for a shell and escaped for a terminal', () => {
    const { cmd } = parsed([]);
    const line = recordedCommandLine(cmd, 'r.jsonl', { ram: '1G', destHost: 'h\x1b[2J', postcopy: true, breakdown: false, sshOption: ['A=b c'], html: '/x' });
    expect(line).toBe("migdown compare --resume r.jsonl --ram=1G --postcopy --no-breakdown '--dest-host=h\\x1b[2J' '--ssh-option=A=b c'");
  });

  it('the continue line repeats what the user typed, not the defaults or --out', () => {
    const { cmd, opts } = parsed(['--ram', '256M', '--out', 'o.jsonl', '--a-param', 'downtime-limit=300', '--runs', '10']);
    expect(continueCommandLine(cmd, 'o.jsonl', opts)).toBe('migdown compare --resume o.jsonl --a-param=downtime-limit=300 --ram=256M');
  });

  it('after reproduce, the continue line is reproduce again, with its scenario and --source', () => {
    const ctx = { chalk: new Chalk({ level: 0 }), chalkErr: new Chalk({ level: 0 }), env: {} } as unknown as CommandContext;
    const cmd = reproduceCommand(ctx, () => undefined).action(() => undefined);
    cmd.parse(['seed-2015', '--source', 'debian:10.0', '--runs', '3'], { from: 'user' });
    expect(continueCommandLine(cmd, 'r.jsonl', cmd.opts())).toBe('migdown reproduce seed-2015 --resume r.jsonl --runs=3 --source=debian:10.0');
  });
});
