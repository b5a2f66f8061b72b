/** Writes the JSON Schemas under config/schemas/ from the zod schemas (a test fails when they are stale). */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EVENT_DATA_SCHEMAS, schemaFiles } from '../config/json-schemas.js';

const root = new URL('../../', import.meta.url);
const path = (rel: string) => fileURLToPath(new URL(rel, root));
const files = schemaFiles();
mkdirSync(path(EVENT_DATA_SCHEMAS), { recursive: true });
// A type gone from the catalogue takes its schema with it.
for (const name of readdirSync(path(EVENT_DATA_SCHEMAS))) {
  const rel = `${EVENT_DATA_SCHEMAS}/${name}`;
  if (!(rel in files)) {
    rmSync(path(rel));
    console.log(`removed ${rel}`);
  }
}
for (const [rel, text] of Object.entries(files)) {
  writeFileSync(path(rel), text);
  console.log(`wrote ${rel}`);
}
