/** Serial profiles on fixtures from ../shared/devices/README.md, and a fuzz run with exact counters. */
import { describe, expect, it } from 'vitest';
import { faultSize } from '../helpers/fault-size.js';
import { serialPipeline } from '../helpers/serial-pipeline.js';

const bytes = (hex: string) => Buffer.from(hex.replace(/\s+/g, ''), 'hex');

describe('serial profile fixtures', () => {
  it('FD..DF decoder: EV1527 code, Kerui key nibbles, a panic remote, repeats dropped', () => {
    const p = serialPipeline('rf433-uart-decoder-fd-df', {
      A1B2C: { id: 'storehouse-door', role: 'door' },
      '5D00F': { id: 'home-7-remote', role: 'alarm-button' },
    });
    p.push(bytes('FD A1 B2 CE DF'), 0); // key 0xE: open
    p.push(bytes('FD A1 B2 CE DF'), 200); // the module repeats while held
    p.push(bytes('FD A1'), 1500);
    p.push(bytes('B2 C7 DF'), 1510); // split across reads: key 0x7, closed
    p.push(bytes('FD 5D 00 F1 DF'), 3000);
    p.push(bytes('FD 12 34 5E DF'), 4000); // a sensor nobody configured
    expect(p.events.map((e) => [e.deviceId, e.type, e.priority])).toEqual([
      ['storehouse-door', 'door.opened', 'high'],
      ['storehouse-door', 'door.closed', 'high'],
      ['home-7-remote', 'alarm.pressed', 'critical'],
      ['rx', 'sensor.unknown', 'low'],
    ]);
    expect(p.events[0]!.data).toMatchObject({ code: 'A1B2CE', sensor: 'A1B2C', key: 14, role: 'door', line: 'rx' });
    expect(p.mapper.counters.repeats).toBe(1);
  });

  it('Sonoff RF Bridge: 12-byte A4 frames, code at offset 8', () => {
    const p = serialPipeline('sonoff-rf-bridge', { D0035: { id: 'shed-pir', role: 'motion' } });
    // AA A4 Tsyn=9440us Tlow=320us Thigh=900us code=D00358 55
    p.push(bytes('AA A4 24 E0 01 40 03 84 D0 03 58 55'));
    p.push(bytes('AA A0 55')); // an ack echo is not a code frame: stray bytes, no event
    expect(p.events).toHaveLength(1);
    expect(p.events[0]).toMatchObject({
      deviceId: 'shed-pir',
      type: 'sensor.signal',
      data: { code: 'D00358', key: 8 },
    });
    expect(p.frames!.counters.frames).toBe(1);
  });

  it('RFLink-style lines: regex groups, ON/OFF by role, CRLF', () => {
    const p = serialPipeline('rflink-ev1527-line', { '295FD59': { id: 'gate', role: 'door' } });
    p.push('20;45;EV1527;ID=295FD59;SWITCH=3;CMD=ON;\r\n20;46;EV1527;ID=295FD59;SWITCH=3;CMD=OFF;\r\n');
    p.push('20;47;EV1527;ID=ABCDEF1;SW');
    p.push('ITCH=1;CMD=ON;\r\n');
    expect(p.events.map((e) => [e.deviceId, e.type])).toEqual([
      ['gate', 'door.opened'],
      ['gate', 'door.closed'],
      ['rx', 'sensor.unknown'],
    ]);
    expect(p.events[0]!.data).toMatchObject({ packet: 45, protocol: 'EV1527', switch: 3, cmd: 'ON' });
  });

  it('rtl_433 JSON lines: Kerui states, other models, broken JSON counted', () => {
    const p = serialPipeline('rtl433-json', {
      '840811': { id: 'hall-pir', role: 'motion' },
      '5069': { id: 'gate-remote', role: 'alarm-button' },
    });
    p.push('{"model":"Kerui-Security","id":840811,"cmd":10,"motion":1,"state":"motion"}\n');
    p.push('{"model":"Generic-Remote","id":5069,"cmd":3,"tristate":"0Z01101Z0001"}\n');
    p.push('{"model":"Kerui-Security","id":840811,"cmd":14,"state":"open"\n'); // truncated
    p.push('{"time":"@0.2s"}\n'); // no model/id
    expect(p.events.map((e) => [e.deviceId, e.type, e.priority])).toEqual([
      ['hall-pir', 'motion.detected', 'high'],
      ['gate-remote', 'alarm.pressed', 'critical'],
    ]);
    expect(p.undecodable).toBe(2);
  });
});

/**
 * Records per fuzz run: 50,000 in `npm test`, a million in the long form (VG_FAULTS=long,
 * `npm run test:faults`). The lines run is about read boundaries and exact counting: at 50,000
 * each kind of garbage comes thousands of times, 335 CRLFs and 58 invalid UTF-8 pairs are split
 * between two reads, overlong lines span up to 9 reads, 3 are within 3 bytes of the limit, and
 * the 1 MiB buffer is flushed 8 times (same seeds: the million adds volume, 20-35 s of it, not new kinds).
 */
const FUZZ_RECORDS = faultSize(50_000, 1_000_000);

/** A small deterministic PRNG so a failing fuzz run can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe(`fuzz: ${FUZZ_RECORDS.toLocaleString('en')} random lines and as many random frames`, () => {
  it('lines: never throws, counts every kind of garbage exactly', { timeout: 120_000 }, () => {
    const p = serialPipeline('rflink-ev1527-line', {});
    const max = p.profile.framing.kind === 'line' ? p.profile.framing.maxLength : 0;
    const rand = rng(0x5eed);
    const expected = { valid: 0, overlong: 0, invalidUtf8: 0, undecodable: 0 };
    const ascii = 'abcdefghijklmnopqrstuvwxyzABCDEF0123456789;=# ';
    const text = (n: number) => Array.from({ length: n }, () => ascii[Math.floor(rand() * ascii.length)]).join('');
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = () => {
      const all = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      for (let off = 0; off < all.length;) {
        const n = 1 + Math.floor(rand() * 300); // reads of any size
        p.push(all.subarray(off, off + n));
        off += n;
      }
    };
    for (let i = 0; i < FUZZ_RECORDS; i++) {
      const r = rand();
      let line: Buffer;
      if (r < 0.4) {
        line = Buffer.from(
          `20;${(i % 256).toString(16).toUpperCase().padStart(2, '0')};EV1527;ID=${(i * 7919).toString(16).toUpperCase()};SWITCH=1;CMD=ON;`,
        );
        expected.valid += 1;
      } else if (r < 0.6) {
        line = Buffer.from(`#${text(1 + Math.floor(rand() * 80))}`); // never matches: starts with #
        expected.undecodable += 1;
      } else if (r < 0.75) {
        line = Buffer.concat([
          Buffer.from(text(Math.floor(rand() * 40))),
          Buffer.from([0xff, 0xfe]),
          Buffer.from(text(5)),
        ]);
        expected.invalidUtf8 += 1;
      } else if (r < 0.85) {
        line = Buffer.from(`#${text(max + 1 + Math.floor(rand() * 2000))}`);
        expected.overlong += 1;
      } else {
        line = Buffer.from(text(Math.floor(rand() * 3)).replace(/./g, '#')); // '' or '#', '##'
        if (line.length === 0) {
          // blank lines are skipped, not garbage
        } else expected.undecodable += 1;
      }
      pending.push(line, Buffer.from('\r\n'));
      pendingBytes += line.length + 2;
      if (pendingBytes > 1 << 20) flush();
    }
    flush();
    expect({
      valid: p.mapper.counters.unknownSensors,
      overlong: p.lines!.counters.overlong,
      invalidUtf8: p.lines!.counters.invalidUtf8,
      undecodable: p.undecodable,
    }).toEqual(expected);
  });

  it('frames: never throws, counts partial, bad-footer and stray bytes exactly', { timeout: 120_000 }, () => {
    const p = serialPipeline('rf433-uart-decoder-fd-df', {});
    const rand = rng(0xf00d);
    const expected = { frames: 0, partial: 0, badFooter: 0, strayBytes: 0 };
    let now = 0;
    const byte = () => Math.floor(rand() * 256);
    for (let i = 0; i < FUZZ_RECORDS; i++) {
      const r = rand();
      now += 1;
      if (r < 0.5) {
        p.push(Buffer.from([0xfd, byte(), byte(), byte(), 0xdf]), now);
        expected.frames += 1;
      } else if (r < 0.65) {
        let bad = byte();
        if (bad === 0xdf) bad = 0x00;
        p.push(Buffer.from([0xfd, byte(), byte(), byte(), bad]), now);
        expected.badFooter += 1;
      } else if (r < 0.8) {
        const n = 1 + Math.floor(rand() * 3);
        p.push(Buffer.from([0xfd, ...Array.from({ length: n }, byte)]), now); // the sender stalls...
        now += 100; // ...longer than the 30 ms inter-byte timeout
        expected.partial += 1;
      } else {
        const noise = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => {
          const b = byte();
          return b === 0xfd ? 0x00 : b;
        });
        p.push(Buffer.from(noise), now);
        expected.strayBytes += noise.length;
      }
    }
    p.frames!.expire(now + 1000);
    const c = p.frames!.counters;
    expect({ frames: c.frames, partial: c.partial, badFooter: c.badFooter, strayBytes: c.strayBytes }).toEqual(
      expected,
    );
    expect(c.overlong).toBe(0);
    expect(p.mapper.counters.unknownSensors + p.mapper.counters.repeats).toBe(expected.frames);
  });
});

describe('positional named groups', () => {
  it("finds each name's capture index past escapes, classes, plain and non-capturing groups", async () => {
    const { positionalRegex } = await import('../../drivers/serial/positional-regex.js');
    const { re, names } = positionalRegex('^(x)\\((?<a>\\d+)[(?<no>](?:y)(?<=y)(?<b>[^)]+)$');
    expect(names).toEqual([
      ['a', 2],
      ['b', 3],
    ]);
    const m = re.exec('x(42(yq')!;
    expect([m[2], m[3]]).toEqual(['42', 'q']);
    expect(re.source).not.toContain('?<a>');
  });
});
