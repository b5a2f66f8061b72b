/**
 * What the rest of the agent imports about events: the envelope (envelope.ts) and what a
 * producer supplies, typed by the catalogue (events/catalogue.ts). The catalogue imports the
 * envelope, not this file, so the two do not import each other.
 */
export * from './envelope.js';
export type { EventInput } from './events/catalogue.js';
