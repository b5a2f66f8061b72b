/**
 * The fault suite runs in two sizes from the same files: short inside `npm test` (CI), long
 * with VG_FAULTS=long (`npm run test:faults`, vitest.faults.config.ts).
 */
export const LONG_FAULTS = process.env.VG_FAULTS === 'long';

/** `short` inside `npm test`, `long` in the long form. */
export const faultSize = <T>(short: T, long: T): T => (LONG_FAULTS ? long : short);
