// Finding, reading and validating scenario files. Every problem is one UsageError naming the
// file, the field path and what was expected.

import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { visible } from '../util/visible.js';
import { ScenarioSchema, type Scenario } from './schema.js';

/** scenarios/ of the package (dist/scenario/load.js and src/scenario/load.ts are two below the root). */
export const SCENARIO_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url));

export function listScenarioFiles(dir = SCENARIO_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/** A name (`seed-2015`) means a shipped scenario; anything with a slash or extension is a path. */
export function resolveScenarioPath(nameOrPath: string, dir = SCENARIO_DIR): string {
  if (nameOrPath.includes('/') || /\.(ya?ml|json)$/.test(nameOrPath)) return nameOrPath;
  for (const ext of ['.yaml', '.yml']) {
    const p = path.join(dir, nameOrPath + ext);
    if (existsSync(p)) return p;
  }
  const known = listScenarioFiles(dir).map((f) => path.basename(f).replace(/\.ya?ml$/, ''));
  throw new UsageError(`--scenario: no scenario named "${nameOrPath}" (shipped: ${known.join(', ') || 'none'})`);
}

/** The keys an object schema accepts at a path, for "expected one of" messages. */
function allowedKeysAt(schema: z.ZodType, keys: PropertyKey[]): string[] {
  let s: z.ZodType | undefined = schema;
  const unwrap = (t: z.ZodType): z.ZodType => {
    let cur = t;
    for (let i = 0; i < 10; i++) {
      const def = (cur as unknown as { def: { type: string; innerType?: z.ZodType; in?: z.ZodType; element?: z.ZodType } }).def;
      if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable') && def.innerType) cur = def.innerType;
      else if (def.type === 'pipe' && def.in) cur = def.in;
      else break;
    }
    return cur;
  };
  for (const k of keys) {
    if (!s) return [];
    s = unwrap(s);
    const def = (s as unknown as { def: { type: string; element?: z.ZodType; valueType?: z.ZodType } }).def;
    if (def.type === 'array') s = typeof k === 'number' ? def.element : undefined;
    else if (def.type === 'record') s = def.valueType;
    else if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(k)];
    else return [];
  }
  if (!s) return [];
  s = unwrap(s);
  return s instanceof z.ZodObject ? Object.keys(s.shape as object) : [];
}

function describeIssue(issue: z.core.$ZodIssue): string {
  // keys come from the file: shown escaped, never raw to the terminal
  const at = issue.path.length ? visible(issue.path.map(String).join('.')) : '(top level)';
  if (issue.code === 'invalid_key') return `${at}: ${issue.issues[0]?.message ?? issue.message}`;
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeysAt(ScenarioSchema, issue.path);
    return `${at}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` +
      (allowed.length ? ` (expected one of: ${allowed.join(', ')})` : '');
  }
  return `${at}: ${issue.message}`;
}

export function parseScenario(text: string, file: string): Scenario {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const where = e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : 'somewhere';
    const what = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new UsageError(`${file}: not valid YAML at ${where}: ${what}`);
  }
  const result = ScenarioSchema.safeParse(doc.toJS());
  if (!result.success) {
    const issues = result.error.issues.map(describeIssue);
    throw new UsageError(`${file}: ${issues[0]}${issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : ''}`);
  }
  return result.data;
}

export async function loadScenario(nameOrPath: string): Promise<{ scenario: Scenario; file: string }> {
  const file = resolveScenarioPath(nameOrPath);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--scenario: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return { scenario: parseScenario(text, file), file };
}

/** `${VAR}` in a variant's qemu field comes from the environment. */
export function expandEnv(value: string, env: NodeJS.ProcessEnv, file: string): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = env[name];
    if (v === undefined || v === '') throw new UsageError(`${file}: variant qemu needs the environment variable ${name}, which is not set`);
    return v;
  });
}
