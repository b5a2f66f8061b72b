import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { PayloadProblems } from '../../agent/payload-problems.js';

describe('payload problems', () => {
  it('counts every one and logs each type at most once a minute', () => {
    const lines: { type: string; total: number }[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    let mono = 0;
    const p = new PayloadProblems(logger, () => mono);
    p.note('alarm.pressed', 'fob-1', ['data.rssi: must be number']);
    p.note('alarm.pressed', 'fob-1', ['data.rssi: must be number']);
    p.note('door.opened', 'door-2', ['data.x: unknown key']);
    mono = 60_000;
    p.note('alarm.pressed', 'fob-1', ['data.rssi: must be number']);
    expect(p.count).toBe(4);
    expect(lines.map((l) => [l.type, l.total])).toEqual([
      ['alarm.pressed', 1],
      ['door.opened', 3],
      ['alarm.pressed', 4],
    ]);
  });
});
