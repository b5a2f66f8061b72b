/**
 * "Did you mean" for a misspelled key or id: the nearest known name within a few edits, case
 * ignored (a technician types `pollMS` for `pollMs`, `keepAlive` for `keepaliveSec`).
 */

/** The known name closest to `name`, if one is close enough to be what was meant. */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
  const want = name.toLowerCase();
  let best: { name: string; cost: number } | undefined;
  for (const c of candidates) {
    if (c === name) continue;
    const cost = closeness(want, c.toLowerCase());
    if (cost !== null && (!best || cost < best.cost)) best = { name: c, cost };
  }
  return best?.name;
}

/** ` (did you mean "x"?)`, or nothing when no known name is near. */
export const didYouMean = (name: string, candidates: Iterable<string>): string => {
  const n = nearest(name, candidates);
  return n === undefined ? '' : ` (did you mean "${n}"?)`;
};

/** Edits from a to b when they are near enough (a prefix with a short tail counts too), else null. */
function closeness(a: string, b: string): number | null {
  const longest = Math.max(a.length, b.length);
  // Short names differ by one character on purpose (b1, b2): only a change of case is a typo there.
  const allowed = longest <= 3 ? 0 : longest <= 5 ? 1 : longest <= 8 ? 2 : 3;
  if ((a.startsWith(b) || b.startsWith(a)) && Math.abs(a.length - b.length) <= 4 && Math.min(a.length, b.length) >= 4)
    return Math.abs(a.length - b.length);
  const d = editDistance(a, b, allowed);
  return d <= allowed ? d : null;
}

/** Levenshtein distance, giving up (returning limit + 1) once it must exceed `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      row.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin > limit) return limit + 1;
    prev = row;
  }
  return prev[b.length]!;
}
