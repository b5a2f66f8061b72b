/** The JSON Schemas generated from our zod schemas, keyed by their path in the repo. */
import { z } from 'zod';
import { eventSchema } from '../agent/contracts/event.js';
import { gatewayConfigSchema } from './schema/gateway-config.js';
import { profileSchema } from './schema/profile.js';

const render = (schema: z.ZodType, id: string, title: string) =>
  `${JSON.stringify({ $id: id, title, ...z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) }, null, 2)}\n`;

export function schemaFiles(): Record<string, string> {
  return {
    'config/schemas/gateway-config.schema.json': render(gatewayConfigSchema, 'urn:village-gateway:schema:gateway-config:1', 'village-gateway config'),
    'config/schemas/profile.schema.json': render(profileSchema, 'urn:village-gateway:schema:profile:1', 'village-gateway device profile'),
    'config/schemas/event.schema.json': render(eventSchema, 'urn:village-gateway:schema:event:1', 'village-gateway event envelope'),
  };
}
