/** The JSON Schemas generated from our zod schemas, keyed by their path in the repo. */
import { z } from 'zod';
import { eventSchema } from '../agent/contracts/event.js';
import { gatewayConfigSchema } from './schema/gateway-config.js';

const render = (schema: z.ZodType, id: string, title: string) =>
  `${JSON.stringify({ $id: id, title, ...z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) }, null, 2)}\n`;

export function schemaFiles(): Record<string, string> {
  return {
    'config/schemas/gateway-config.schema.json': render(gatewayConfigSchema, 'https://village-gateway.dev/schemas/gateway-config.schema.json', 'village-gateway config'),
    'config/schemas/event.schema.json': render(eventSchema, 'https://village-gateway.dev/schemas/event.schema.json', 'village-gateway event envelope'),
  };
}
