// `migdown parse [FILE]`: an `info migrate` transcript in, the typed record out as JSON.

import { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { EXIT, UsageError } from '../errors.js';
import { parseInfoMigrate } from '../qemu/info-migrate.js';
import { infoMigrateFromTranscript } from '../qemu/transcript.js';
import type { CommandContext } from './context.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('latin1');
}

/** Where `parse` reads its transcript from. */
export type ParsePlan = { from: 'stdin' } | { from: 'file'; file: string };

/** The plan of `parse` (pure): a file, or stdin when it is not a terminal nobody types into. */
export function planParse(file: string | undefined, stdinIsTty: boolean): ParsePlan {
  if (file !== undefined && file !== '-') return { from: 'file', file };
  if (stdinIsTty) throw new UsageError('parse: give a file or pipe a transcript into stdin');
  return { from: 'stdin' };
}

async function readTranscript(plan: ParsePlan): Promise<string> {
  if (plan.from === 'stdin') return readStdin();
  try {
    return await readFile(plan.file, 'latin1');
  } catch (err) {
    throw new UsageError(`parse: cannot read ${plan.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export function parseCommand(ctx: CommandContext, setResult: (p: Promise<number>) => void): Command {
  return new Command('parse')
    .description('read an `info migrate` transcript (file or stdin, echo noise allowed) and print it as JSON')
    .argument('[file]', 'transcript file; stdin when absent or "-"')
    .action((file: string | undefined) =>
      setResult(
        (async () => {
          const text = await readTranscript(planParse(file, Boolean(process.stdin.isTTY)));
          const info = parseInfoMigrate(infoMigrateFromTranscript(text));
          ctx.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
          return EXIT.ok;
        })(),
      ),
    );
}
