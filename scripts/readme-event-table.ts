/** The event table of docs/county.md, generated from the event catalogue (`npm run schemas` writes it; a test checks it). */
import { EVENT_CATALOGUE, EVENT_TYPES } from '../core/contracts/events/catalogue.js';

/** The page that holds the table (the county reads the events). */
export const EVENT_TABLE_PAGE = 'docs/county.md';
export const TABLE_START = '<!-- event-table: generated from core/contracts/events/ by `npm run schemas` -->';
export const TABLE_END = '<!-- /event-table -->';

export function eventTable(): string {
  const rows = EVENT_TYPES.map((t) => `| \`${t}\` | ${EVENT_CATALOGUE[t].priority} | ${EVENT_CATALOGUE[t].summary} |`);
  return [TABLE_START, '| type | default priority | what |', '|---|---|---|', ...rows, TABLE_END].join('\n');
}

/** The page with its table replaced by the catalogue's (throws if the markers are missing). */
export function withEventTable(page: string): string {
  const start = page.indexOf(TABLE_START);
  const end = page.indexOf(TABLE_END);
  if (start < 0 || end < start)
    throw new Error(`${EVENT_TABLE_PAGE} has no event table markers (${TABLE_START} ... ${TABLE_END})`);
  return page.slice(0, start) + eventTable() + page.slice(end + TABLE_END.length);
}
