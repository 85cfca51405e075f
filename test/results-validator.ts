// Checks results files against the shipped JSON Schema (schemas/results.schema.json) with an
// independent validator (ajv), so the schema CI would use is tested, not only the zod source.

import { Ajv2020 } from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SCHEMA = JSON.parse(readFileSync(fileURLToPath(new URL('../schemas/results.schema.json', import.meta.url)), 'utf8')) as {
  oneOf: Array<{ properties: { kind: { const: string } } }>;
};
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(SCHEMA);

/** One message per invalid line ("line 3: /info/downtimeMs must be number"); empty when valid. */
export function resultsSchemaErrors(text: string): string[] {
  const errors: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      errors.push(`line ${i + 1}: not JSON`);
      return;
    }
    if (!validate(value)) {
      // Only the errors of the branch the line's kind selects: the other branch fails trivially.
      const kind = (value as { kind?: unknown } | null)?.kind;
      const branch = SCHEMA.oneOf.findIndex((b) => b.properties.kind.const === kind);
      const all = validate.errors ?? [];
      const mine = all.filter((e) => e.schemaPath.startsWith(`#/oneOf/${branch}/`));
      const what = (mine.length ? mine : all).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
      errors.push(`line ${i + 1}: ${[...new Set(what)].slice(0, 5).join('; ')}`);
    }
  });
  return errors;
}
