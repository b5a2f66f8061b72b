/**
 * The config's own input types (what a YAML file may say, before zod's defaults), for the config
 * fragments tests build: a device, bus or rule typed with these fails typecheck on a typo instead
 * of at the agent's start.
 */
import type { z } from 'zod';
import type { busSchema, deviceSchema } from '../../config/schema/devices.js';
import type { GatewayConfigInput } from '../../config/schema/gateway-config.js';
import type { ruleSchema } from '../../config/schema/rules.js';

export type DeviceInput = z.input<typeof deviceSchema>;
export type BusInput = z.input<typeof busSchema>;
export type RuleInput = z.input<typeof ruleSchema>;
export type AlarmsInput = NonNullable<GatewayConfigInput['alarms']>;
export type HelpLedInput = NonNullable<AlarmsInput['helpLed']>;
export type NodeRedInput = NonNullable<GatewayConfigInput['nodeRed']>;
/** One device's entry of a given driver ('modbus', 'serial', 'modem', 'synthetic'). */
export type DeviceOf<D extends DeviceInput['driver']> = Extract<DeviceInput, { driver: D }>;
/** A bus entry without its id (a test that names the bus itself), for either bus type. */
export type BusParts = BusInput extends infer B ? (B extends unknown ? Omit<B, 'id'> : never) : never;
