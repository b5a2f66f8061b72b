/**
 * Writes the JSON Schemas under config/schemas/ from the zod schemas, and docs/county.md's event table (a test fails
 * when either is stale).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EVENT_DATA_SCHEMAS, schemaFiles } from '../config/json-schemas.js';
import { EVENT_TABLE_PAGE, withEventTable } from './readme-event-table.js';

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
writeFileSync(path(EVENT_TABLE_PAGE), withEventTable(readFileSync(path(EVENT_TABLE_PAGE), 'utf8')));
console.log(`wrote the event table in ${EVENT_TABLE_PAGE}`);
