// Writes schemas/results.schema.json from the zod record schemas (npm run schema): one JSON
// Schema for each line of a results file (a header or a trial). A unit test keeps the
// committed file in step with the code.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ResultLineSchema } from './record-schema.js';
import { RESULTS_SCHEMA_VERSION } from './results-file.js';

export const RESULTS_SCHEMA_FILE = fileURLToPath(new URL('../../schemas/results.schema.json', import.meta.url));

export function resultsJsonSchema(): string {
  const schema = z.toJSONSchema(ResultLineSchema, { io: 'output', target: 'draft-2020-12' });
  return `${JSON.stringify(
    {
      ...schema,
      title: `migdown results line (schemaVersion ${RESULTS_SCHEMA_VERSION})`,
      description:
        'Each line of a migdown results file (JSON Lines) is one of these: a header (kind "header") that starts a run, ' +
        'then one trial (kind "trial") per migration, tied to its header by runId. Unknown fields may appear and are to be ignored.',
    },
    null,
    2,
  )}\n`;
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  writeFileSync(RESULTS_SCHEMA_FILE, resultsJsonSchema());
}
