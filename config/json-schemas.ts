/** The JSON Schemas generated from our zod schemas, keyed by their path in the repo. */
import { z } from 'zod';
import { eventSchema } from '../core/contracts/event.js';
import { EVENT_CATALOGUE, EVENT_TYPES } from '../core/contracts/events/catalogue.js';
import { chunkHeaderLine } from '../core/contracts/media-chunk.js';
import { compactBatchSchema, jsonBatchSchema } from '../core/contracts/wire-format.js';
import { gatewayConfigSchema } from './schema/gateway-config.js';
import { profileSchema } from './schema/profile.js';

const toJson = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
const text = (schema: object) => `${JSON.stringify(schema, null, 2)}\n`;
const render = (schema: z.ZodType, id: string, title: string) => text({ $id: id, title, ...toJson(schema) });

/** Where each catalogued type's payload schema is written (one file per type). */
export const EVENT_DATA_SCHEMAS = 'config/schemas/events';
const dataId = (type: string) => `urn:village-gateway:schema:event-data:${type}:1`;

/**
 * The envelope, with `data` held to the catalogue for every catalogued type (`if type is X
 * then data is X's schema`, by the payload schema's `$id`: a validator loads the files under
 * config/schemas/events/ beside this one). Any other type is a profile event: an object.
 */
function envelope(): string {
  const allOf = EVENT_TYPES.map((type) => ({
    if: { properties: { type: { const: type } }, required: ['type'] },
    then: { properties: { data: { $ref: dataId(type) } } },
  }));
  return text({
    $id: 'urn:village-gateway:schema:event:1',
    title: 'village-gateway event envelope',
    ...toJson(eventSchema),
    allOf,
  });
}

export function schemaFiles(): Record<string, string> {
  const files: Record<string, string> = {
    'config/schemas/gateway-config.schema.json': render(
      gatewayConfigSchema,
      'urn:village-gateway:schema:gateway-config:1',
      'village-gateway config',
    ),
    'config/schemas/profile.schema.json': render(
      profileSchema,
      'urn:village-gateway:schema:profile:1',
      'village-gateway device profile',
    ),
    'config/schemas/event.schema.json': envelope(),
    // The payload forms on the wire (docs/county.md, "MQTT contract"); each envelope inside is event.schema.json's.
    'config/schemas/batch-v1.schema.json': render(
      jsonBatchSchema,
      'urn:village-gateway:schema:batch:1',
      'village-gateway JSON event batch (v1, on <prefix>/events)',
    ),
    'config/schemas/batch-v2.schema.json': render(
      compactBatchSchema,
      'urn:village-gateway:schema:batch:2',
      'village-gateway compact event batch (v2, on <prefix>/events/batch: after the header byte, decompressed)',
    ),
    // A picture chunk's first line (docs/county.md, "Pictures"); the raw bytes follow the newline.
    'config/schemas/media-chunk-v1.schema.json': render(
      chunkHeaderLine,
      'urn:village-gateway:schema:media-chunk:1',
      'village-gateway picture chunk header (the JSON line before the bytes, on <prefix>/media/<pictureId>)',
    ),
  };
  for (const type of EVENT_TYPES) {
    const spec = EVENT_CATALOGUE[type];
    files[`${EVENT_DATA_SCHEMAS}/${type}.schema.json`] = text({
      $id: dataId(type),
      title: `${type} data`,
      description: `${spec.summary} (default priority: ${spec.priority})`,
      ...toJson(spec.data),
    });
  }
  return files;
}
