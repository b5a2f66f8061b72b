/** Writes the JSON Schemas under config/schemas/ from the zod schemas (a test fails when they are stale). */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { schemaFiles } from '../config/json-schemas.js';

const root = new URL('../../', import.meta.url);
for (const [rel, text] of Object.entries(schemaFiles())) {
  writeFileSync(fileURLToPath(new URL(rel, root)), text);
  console.log(`wrote ${rel}`);
}
