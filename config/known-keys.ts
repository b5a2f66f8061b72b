/**
 * The keys a config (or profile) object may have at a path, read from its JSON Schema (made from
 * the zod schema, so it cannot drift): what an "unknown key" is compared with for "did you
 * mean". Where the schema is a union (a device's `driver`, a bus's `type`), the branches whose
 * constants the file's own values match are the ones read.
 */
import { z } from 'zod';
import { gatewayConfigSchema } from './schema/gateway-config.js';
import { profileSchema } from './schema/profile.js';

type Json = Record<string, unknown>;

const jsonSchemas = new Map<z.ZodType, Json>();
const jsonSchema = (schema: z.ZodType): Json => {
  let j = jsonSchemas.get(schema);
  if (!j) jsonSchemas.set(schema, (j = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json));
  return j;
};

/** Known keys of the config object at `path` (e.g. ['devices', 0]) given the file's own values. */
export const configKeysAt = (raw: unknown, path: readonly PropertyKey[]): string[] =>
  keysAt(gatewayConfigSchema, raw, path);

/** The same for a device profile file. */
export const profileKeysAt = (raw: unknown, path: readonly PropertyKey[]): string[] => keysAt(profileSchema, raw, path);

function keysAt(schema: z.ZodType, raw: unknown, path: readonly PropertyKey[]): string[] {
  let nodes = branches(jsonSchema(schema));
  let value = raw;
  for (const seg of path) {
    nodes = matching(nodes, value).flatMap((n) => branches(child(n, seg)));
    value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[seg] : undefined;
  }
  const keys = new Set<string>();
  for (const n of matching(nodes, value)) for (const k of Object.keys((n.properties as Json) ?? {})) keys.add(k);
  return [...keys];
}

/** A schema node's alternatives (oneOf/anyOf/allOf flattened), the node itself otherwise. */
function branches(node: unknown): Json[] {
  if (!node || typeof node !== 'object') return [];
  const n = node as Json;
  const alts = [n.oneOf, n.anyOf, n.allOf].filter(Array.isArray).flat() as unknown[];
  return alts.length > 0 ? alts.flatMap(branches) : [n];
}

function child(node: Json, seg: PropertyKey): unknown {
  if (typeof seg === 'number') return node.items;
  const props = node.properties as Json | undefined;
  if (props && typeof seg === 'string' && seg in props) return props[seg];
  return typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
}

/** The branches whose constant properties (a discriminator) agree with the value; all if none does. */
function matching(nodes: Json[], value: unknown): Json[] {
  if (!value || typeof value !== 'object') return nodes;
  const v = value as Record<string, unknown>;
  const agree = nodes.filter((n) =>
    Object.entries((n.properties as Record<string, Json>) ?? {}).every(
      ([k, p]) => !p || !('const' in p) || !(k in v) || p.const === v[k],
    ),
  );
  return agree.length > 0 ? agree : nodes;
}
