/**
 * The secrets in a config (raw, as the county sends or reads it): where they are, so that
 * config.get shows refs but never a value, and config.apply refuses a value sent in the clear.
 * A push names only secrets the gateway already holds ({file} or {env}): a config travels
 * through the county's broker, its logs and its database, and a secret in it would too.
 */
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every secret slot present in a raw config: the object holding it, its key, and its path. */
function secretSlots(raw: unknown): { at: Obj; key: string; path: string }[] {
  const slots: { at: Obj; key: string; path: string }[] = [];
  if (!isObj(raw)) return slots;
  const add = (at: unknown, key: string, path: string) => {
    if (isObj(at) && at[key] !== undefined) slots.push({ at, key, path });
  };
  const mqtt = raw.mqtt;
  add(mqtt, 'password', 'mqtt.password');
  if (isObj(mqtt)) add(mqtt.tls, 'keyPassphrase', 'mqtt.tls.keyPassphrase');
  const nodeRed = raw.nodeRed;
  add(nodeRed, 'credentialSecret', 'nodeRed.credentialSecret');
  if (isObj(nodeRed) && Array.isArray(nodeRed.users))
    nodeRed.users.forEach((u, i) => add(u, 'password', `nodeRed.users[${i}].password`));
  if (Array.isArray(raw.devices)) raw.devices.forEach((d, i) => add(d, 'password', `devices[${i}].password`));
  return slots;
}

/** Paths of secrets given as values (a string) rather than refs. */
export const inlineSecretPaths = (raw: unknown): string[] =>
  secretSlots(raw)
    .filter((s) => !isObj(s.at[s.key]))
    .map((s) => s.path);

/** A deep copy with every inline secret replaced by "<redacted>" (refs stay: they say where, not what). */
export function redactSecrets<T>(config: T): T {
  const copy = structuredClone(config);
  for (const s of secretSlots(copy)) if (!isObj(s.at[s.key])) s.at[s.key] = '<redacted>';
  return copy;
}
