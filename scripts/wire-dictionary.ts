/**
 * Makes a preset deflate dictionary for compact batches (docs/county.md, "MQTT contract"):
 * `node dist/scripts/wire-dictionary.js config/wire/deflate-dictN.txt`. It made
 * `config/wire/deflate-dict1.txt` once; that file is frozen (core/contracts/wire-dictionary.ts
 * pins its sha256), because a county decodes with the very bytes the gateway compressed with.
 * A catalogue that has grown since makes a new file under a new name (`deflate-dict2`), never
 * a new dict1. The script refuses to overwrite a file.
 *
 * What goes in: deflate finds a match up to 32 KiB back, and a nearer match costs fewer bits,
 * so the text runs from the rarest to the most common:
 * 1. every catalogued type with its default priority and a skeleton of its data (keys, and
 *    values typed as the schema says: "" 0 false null);
 * 2. the field names rtl_433 writes for the radio sensors a village hears (merbanan/rtl_433
 *    docs/DATA_FORMAT.md), as a serial receiver's profile passes them through;
 * 3. a compact batch's own skeleton, a health event's group and a reading's group last.
 * No sample values of a particular village (no model names, no readings): the bench and the
 * plan measure it on data it has not seen.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { EVENT_CATALOGUE, EVENT_TYPES } from '../core/contracts/events/catalogue.js';
import { isMain } from './release/is-main.js';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  entries?: Record<string, string>;
  values?: unknown[];
  in?: z.ZodType;
}
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** A value of the schema's shape: its keys, and the simplest value of each leaf's type. */
export function skeleton(schema: z.ZodType): unknown {
  const d = defOf(schema);
  switch (d.type) {
    case 'object':
      return Object.fromEntries(Object.entries(d.shape ?? {}).map(([k, v]) => [k, skeleton(v)]));
    case 'optional':
    case 'default':
    case 'readonly':
    case 'catch':
      return skeleton(d.innerType!);
    case 'nullable':
      return null;
    case 'pipe':
      return skeleton(d.in!);
    case 'array':
      return [skeleton(d.element!)];
    case 'record': {
      const keys = defOf(d.keyType!);
      return keys.type === 'enum'
        ? Object.fromEntries(Object.values(keys.entries!).map((k) => [k, skeleton(d.valueType!)]))
        : {};
    }
    case 'union':
      return skeleton(d.options![0]!);
    case 'enum':
      return Object.values(d.entries!)[0] ?? '';
    case 'literal':
      return d.values![0] ?? null;
    case 'number':
    case 'int':
    case 'bigint':
      return 0;
    case 'boolean':
      return false;
    case 'string':
      return '';
    default:
      return null;
  }
}

/**
 * Records as rtl_433 writes them (docs/DATA_FORMAT.md: its common field names, in its order),
 * with the receiver's own `line` appended by the serial driver (drivers/serial/event-mapper.ts):
 * a weather sensor, one with a checksum, a contact or remote. Keys and types only.
 */
const RTL_433_RECORDS = [
  { model: '', id: 0, channel: 0, battery_ok: 1, temperature_C: 0, humidity: 0, line: '' },
  { model: '', id: 0, channel: 0, battery_ok: 1, temperature_C: 0, humidity: 0, mic: 'CRC', line: '' },
  {
    model: '',
    id: 0,
    channel: 0,
    battery_ok: 1,
    pressure_hPa: 0,
    wind_avg_km_h: 0,
    wind_dir_deg: 0,
    rain_mm: 0,
    line: '',
  },
  { model: '', id: 0, cmd: 0, state: '', code: '', line: '', role: '' },
];

const group = (type: string, priority: string) =>
  `{"bootId":"","deviceId":"","type":"${type}","priority":"${priority}","clockSynced":true,"events":[[1,`;

export function buildDictionary(): string {
  const rare = EVENT_TYPES.filter((t) => t !== 'gateway.health').map((t) => {
    const spec = EVENT_CATALOGUE[t];
    return `${group(t, spec.priority)}0,0,"",${JSON.stringify(skeleton(spec.data))}]]}`;
  });
  const radio = RTL_433_RECORDS.map((r) => JSON.stringify(r)).join('');
  const health = EVENT_CATALOGUE['gateway.health'];
  return [
    ...rare,
    radio,
    `]]},${group('gateway.health', health.priority)}0,0,"",${JSON.stringify(skeleton(health.data))}]]}`,
    `],"raw":[{"id":"","seq":0,"bootId":"","gatewayId":"","deviceId":"","type":"","priority":"","ts":"","monoMs":0,"clockSynced":true,"data":{}}]}`,
    `{"v":2,"gatewayId":"","groups":[${group('sensor.reading', 'normal')}`,
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node dist/scripts/wire-dictionary.js config/wire/deflate-dictN.txt');
  if (existsSync(file)) throw new Error(`${file} exists: a shipped dictionary never changes; name a new one`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, buildDictionary());
  console.log(`wrote ${file} (${Buffer.byteLength(buildDictionary())} bytes)`);
}
