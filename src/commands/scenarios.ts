// `migdown scenarios`: the shipped scenario files, one line each; `show NAME|FILE` prints one
// validated, with defaults filled in and the equivalent command line.

import { Command } from 'commander';
import path from 'node:path';
import { stringify } from 'yaml';
import { EXIT } from '../errors.js';
import { listScenarioFiles, loadScenario } from '../scenario/load.js';
import { scenarioOptionValues } from '../scenario/apply.js';
import type { Scenario } from '../scenario/schema.js';
import type { CommandContext } from './context.js';

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The command line that runs the scenario, flag for flag (env references left as they are). */
export function equivalentCommand(s: Scenario, file = 'scenario'): string {
  const command = (s.variants?.length ?? 1) > 1 ? 'compare' : 'run';
  // file: build paths in the scenario are relative to it.
  const values = scenarioOptionValues(s, command, file, new Proxy({}, { get: (_, name) => `\${${String(name)}}` }));
  const args: string[] = [`migdown ${command}`];
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    const flag = `--${kebab(key)}`;
    if (value === true) args.push(flag);
    else if (Array.isArray(value)) for (const v of value) args.push(`${flag}=${JSON.stringify(v).replace(/^"(.*)"$/, '$1')}`);
    else args.push(`${flag} ${/\s/.test(String(value)) ? JSON.stringify(value) : value}`);
  }
  return args.join(' ');
}

function referenceSummary(s: Scenario): string {
  const r = s.reference?.[0];
  if (!r) return '';
  return Object.entries(r.values)
    .map(([, v]) => `${v}ms`)
    .join(' -> ');
}

export function scenariosCommand(ctx: CommandContext, setResult: (p: Promise<number>) => void): Command {
  const cmd = new Command('scenarios').description('list the shipped scenarios; `scenarios show NAME` prints one resolved');
  cmd.action(() =>
    setResult(
      (async () => {
        const rows: string[][] = [];
        for (const file of listScenarioFiles()) {
          const { scenario } = await loadScenario(file);
          rows.push([scenario.name, scenario.description, referenceSummary(scenario)]);
        }
        const w = Math.max(...rows.map((r) => r[0]!.length));
        for (const [name, description, ref] of rows) {
          ctx.stdout.write(`${ctx.chalk.bold(name!.padEnd(w))}  ${description}${ref ? ctx.chalk.cyan(`  [published: ${ref}]`) : ''}\n`);
        }
        return EXIT.ok;
      })(),
    ),
  );
  cmd
    .command('show')
    .description('validate a scenario and print it with defaults filled in, and the command line it amounts to')
    .argument('<name|file>')
    .action((nameOrFile: string) =>
      setResult(
        (async () => {
          const { scenario, file } = await loadScenario(nameOrFile);
          ctx.stdout.write(`# ${path.relative(process.cwd(), file) || file}\n${stringify(scenario)}\n# equivalent command line:\n# ${equivalentCommand(scenario, file)}\n`);
          return EXIT.ok;
        })(),
      ),
    );
  return cmd;
}
