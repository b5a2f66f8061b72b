/** README's event table, generated from the event catalogue (`npm run schemas` writes it; a test checks it). */
import { EVENT_CATALOGUE, EVENT_TYPES } from '../agent/contracts/events/catalogue.js';

export const TABLE_START = '<!-- event-table: generated from agent/contracts/events/ by `npm run schemas` -->';
export const TABLE_END = '<!-- /event-table -->';

export function eventTable(): string {
  const rows = EVENT_TYPES.map((t) => `| \`${t}\` | ${EVENT_CATALOGUE[t].priority} | ${EVENT_CATALOGUE[t].summary} |`);
  return [TABLE_START, '| type | default priority | what |', '|---|---|---|', ...rows, TABLE_END].join('\n');
}

/** The README with its table replaced by the catalogue's (throws if the markers are missing). */
export function withEventTable(readme: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start)
    throw new Error(`README.md has no event table markers (${TABLE_START} ... ${TABLE_END})`);
  return readme.slice(0, start) + eventTable() + readme.slice(end + TABLE_END.length);
}
