/**
 * serial.decode: lines per second through our serial path with a regex profile (bounded
 * framing, UTF-8 check, regex decode, event mapping), against readline.raw: the bare
 * @serialport/parser-readline splitting the same bytes. Goal ratio >= 0.5.
 */
import { ReadlineParser } from '@serialport/parser-readline';
import { requireProfile } from '../../config/load-profile.js';
import { deviceSchema, type SerialDeviceConfig } from '../../config/schema/devices.js';
import { EventMapper } from '../../drivers/serial/event-mapper.js';
import { LineFramer } from '../../drivers/serial/line-framer.js';
import { recordDecoder } from '../../drivers/serial/record-decoder.js';
import { medianOf, result, type BenchResult } from './result.js';

const LINES = 300_000;
const CHUNK = 64; // a serial port hands over small reads

function corpus(): Buffer[] {
  const text = Array.from(
    { length: LINES },
    (_, i) =>
      `20;${(i % 256).toString(16).toUpperCase().padStart(2, '0')};EV1527;ID=${(0x295fd59 + (i % 50)).toString(16).toUpperCase()};SWITCH=${i % 4};CMD=${i % 2 ? 'ON' : 'OFF'};\r\n`,
  ).join('');
  const all = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let off = 0; off < all.length; off += CHUNK) chunks.push(all.subarray(off, off + CHUNK));
  return chunks;
}

function ours(chunks: Buffer[]): number {
  const profile = requireProfile('rflink-ev1527-line', 'serial');
  const sensors = Object.fromEntries(
    Array.from({ length: 50 }, (_, i) => [(0x295fd59 + i).toString(16).toUpperCase(), { id: `s${i}`, role: 'door' }]),
  );
  const device = deviceSchema.parse({
    id: 'rx',
    driver: 'serial',
    path: '/dev/null',
    profile: profile.id,
    sensors,
  }) as SerialDeviceConfig;
  const framing = profile.framing.kind === 'line' ? profile.framing : null;
  const framer = new LineFramer(framing!.delimiter, framing!.maxLength);
  const decode = recordDecoder(profile.decode);
  const mapper = new EventMapper(profile, device);
  let events = 0;
  const t0 = performance.now();
  for (const c of chunks)
    framer.push(c, (line) => {
      const f = decode(line);
      if (f && mapper.map(f, 0)) events += 1;
    });
  const rate = LINES / ((performance.now() - t0) / 1000);
  if (events !== LINES) throw new Error(`decoded ${events} of ${LINES}`);
  return rate;
}

function raw(chunks: Buffer[]): number {
  const parser = new ReadlineParser({ delimiter: '\r\n' });
  let lines = 0;
  parser.on('data', () => (lines += 1));
  const t0 = performance.now();
  for (const c of chunks) parser.write(c);
  const rate = LINES / ((performance.now() - t0) / 1000);
  if (lines !== LINES) throw new Error(`readline split ${lines} of ${LINES}`);
  return rate;
}

export async function serialDecodeBenchmarks(): Promise<BenchResult[]> {
  const chunks = corpus();
  const base = await medianOf(3, () => raw(chunks));
  const value = await medianOf(3, () => ours(chunks));
  return [
    result('readline.raw', base, 'lines/s', undefined, { note: `bare parser-readline, ${CHUNK}-byte reads` }),
    result(
      'serial.decode',
      value,
      'lines/s',
      { name: 'readline.raw', value: base },
      { goal: 'ratio >= 0.5', note: 'framing + UTF-8 check + regex profile + event mapping' },
    ),
  ];
}
