/**
 * RFC 7386 JSON merge patch: what `villages apply-config --patch` applies to each gateway's own
 * config (config.get), so one patch (add a rule, change a threshold) fits a whole group whose
 * configs otherwise differ. `null` removes a key; an array replaces the whole array (the RFC has
 * no way to add one element: send the whole list).
 */
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return structuredClone(patch);
  const out: Obj = isObj(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}
