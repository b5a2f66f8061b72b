/**
 * What a diagnostics reply may hold: a command's reply travels in one MQTT message, and the
 * county's consumers take commands and replies of at most 64 KB (docs/county.md). The envelope
 * around the list and JSON escaping need room too, so the list itself gets less.
 */
export const REPLY_BUDGET_BYTES = 48 * 1024;

/** The newest items whose JSON fits the budget (oldest first), and how many older ones were left out. */
export function newestWithin<T>(items: T[], budget = REPLY_BUDGET_BYTES): { kept: T[]; omitted: number } {
  const kept: T[] = [];
  let bytes = 0;
  for (let i = items.length - 1; i >= 0; i--) {
    const size = Buffer.byteLength(JSON.stringify(items[i])) + 1;
    if (bytes + size > budget) break;
    bytes += size;
    kept.push(items[i]!);
  }
  return { kept: kept.reverse(), omitted: items.length - kept.length };
}
