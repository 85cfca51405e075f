// Writes scenarios/scenario.schema.json from the zod schema (npm run schema), so editors can
// check scenario files; a unit test keeps the committed file in step with the code.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SCENARIO_DIR } from './load.js';
import { ScenarioSchema } from './schema.js';

export function scenarioJsonSchema(): string {
  const schema = z.toJSONSchema(ScenarioSchema, { io: 'input', target: 'draft-2020-12' });
  return `${JSON.stringify({ ...schema, title: 'migdown scenario' }, null, 2)}\n`;
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  writeFileSync(path.join(SCENARIO_DIR, 'scenario.schema.json'), scenarioJsonSchema());
}
