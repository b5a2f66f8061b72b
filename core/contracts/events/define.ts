/**
 * What a catalogue entry says about one event type: its default priority, the zod schema of
 * its `data`, and one line for docs/county.md's table. Shared payload parts live here too.
 */
import { z } from 'zod';
import type { Priority } from '../envelope.js';

export interface EventSpec<S extends z.ZodType = z.ZodType> {
  /** What a producer sends unless it has a reason to raise or lower it. */
  priority: Priority;
  data: S;
  /** Who emits it and what it means, for docs/county.md's event table. */
  summary: string;
}

export const spec = <S extends z.ZodType>(priority: Priority, data: S, summary: string): EventSpec<S> => ({
  priority,
  data,
  summary,
});

/** A value a radio receiver's decoder produces (record-decoder.ts `Fields`). */
export const fieldValue = z.union([z.string(), z.number(), z.boolean()]);

/**
 * A record a serial receiver decoded, mapped by its profile (drivers/serial/event-mapper.ts):
 * the decoder's fields as they came (their names are the profile's, so they are open), the
 * receiver's device id as `line`, and the sensor's role where the device config names one.
 */
export const receivedData = z
  .object({
    line: z.string().describe('The serial receiver (device id) that decoded the record'),
    role: z.string().optional().describe("The sensor's role in the device config"),
  })
  .catchall(fieldValue)
  .describe('A decoded radio record: the profile decoder fields, plus line and role');

/** What a wired input (an input role on a Modbus device, drivers/input-roles.ts) says about itself. */
export const wiredInput = {
  device: z.string().optional().describe('The Modbus device the input is on'),
  unitId: z.int().optional().describe('Its Modbus unit id'),
  input: z.string().describe("The profile's input name"),
  active: z.boolean().describe('The input is active (polarity applied)'),
  initial: z.literal(true).optional().describe('The state found at start, not a change'),
};
