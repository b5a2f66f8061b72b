import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { PayloadProblems } from '../../agent/payload-problems.js';

describe('payload problems', () => {
  it('counts every one, refused or kept, and logs each type at most once a minute with PAYLOAD_INVALID', () => {
    const lines: { type: string; total: number; refused: number; code: string; msg: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    let mono = 0;
    const p = new PayloadProblems(logger, () => mono);
    p.invalid('alarm.pressed', 'fob-1', ['data.rssi: must be number'], true);
    p.invalid('alarm.pressed', 'fob-1', ['data.rssi: must be number'], true);
    p.invalid('door.opened', 'door-2', ['data.x: unknown key'], false);
    p.invalid('door.opened', 'door-2', ['data.x: unknown key'], false);
    mono = 60_000;
    p.invalid('alarm.pressed', 'fob-1', ['data.rssi: must be number'], true);
    expect(p.count).toBe(5);
    expect(p.refusedCount).toBe(2);
    expect(lines.map((l) => [l.type, l.total, l.refused, l.code])).toEqual([
      ['alarm.pressed', 1, 0, 'PAYLOAD_INVALID'],
      ['door.opened', 3, 1, 'PAYLOAD_INVALID'],
      ['alarm.pressed', 5, 2, 'PAYLOAD_INVALID'],
    ]);
    expect(lines[0]!.msg).toMatch(/kept and sent with payloadInvalid/);
    expect(lines[1]!.msg).toMatch(/refused$/);
  });
});
