import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventSchema } from '../../core/contracts/event.js';
import { profileEventType } from '../../core/contracts/events/catalogue.js';
import { EventFactory } from '../../agent/event-factory.js';
import { SeqCounter } from '../../agent/seq-counter.js';
import { uuidv7 } from '../../core/kernel/uuidv7.js';
import { FakeClock } from '../helpers/events.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();

describe('uuidv7', () => {
  it('is unique and sorts in creation order, within a millisecond and when the clock steps back', () => {
    const t = Date.UTC(2026, 10, 27);
    const ids = [...Array.from({ length: 5000 }, () => uuidv7(t)), uuidv7(t + 5), uuidv7(t - 60_000), uuidv7(t + 6)];
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(ids[0]!.replace(/-/g, '').slice(0, 12), 16)).toBe(t);
  });
});

describe('SeqCounter', () => {
  it('strictly increases across reopen, skipping the rest of a reserved block after a crash', () => {
    const file = join(tempDir(), 'seq.json');
    const a = SeqCounter.open(file, 0, 100);
    const first = [a.next(), a.next(), a.next()];
    expect(first).toEqual([1, 2, 3]);
    // "Crash": reopen without any shutdown; the block up to 100 was reserved on disk.
    const b = SeqCounter.open(file, 0, 100);
    expect(b.next()).toBe(101);
    for (let i = 0; i < 150; i++) b.next();
    const c = SeqCounter.open(file, 0, 100);
    expect(c.next()).toBeGreaterThan(b.last);
  });

  it('falls back to the floor when its file is lost or corrupt', () => {
    const file = join(tempDir(), 'seq.json');
    writeFileSync(file, '{not json');
    expect(SeqCounter.open(file, 5000).next()).toBe(5001);
  });
});

describe('EventFactory', () => {
  it('makes envelopes that satisfy the published schema', () => {
    const dir = tempDir();
    const clock = new FakeClock(Date.UTC(2026, 10, 27, 3, 0, 0), 1234.5, false);
    const f = new EventFactory('qingshan-03', SeqCounter.open(join(dir, 'seq.json')), clock);
    const e = f.create({
      deviceId: 'house-7-panic',
      type: 'alarm.pressed',
      priority: 'critical',
      data: { input: 'di2', active: true },
    });
    expect(eventSchema.parse(e)).toEqual(e);
    expect(e).toMatchObject({
      gatewayId: 'qingshan-03',
      seq: 1,
      ts: '2026-11-27T03:00:00.000Z',
      monoMs: 1234.5,
      clockSynced: false,
      bootId: f.bootId,
    });
  });

  it('refuses a malformed event with a typed error naming the field', () => {
    const f = new EventFactory('gw', SeqCounter.open(join(tempDir(), 'seq.json')), new FakeClock());
    expect(() => f.create({ deviceId: 'd', type: profileEventType('NotDotted'), priority: 'critical' })).toThrow(
      /type: must be dotted lower-case/,
    );
    expect(() => f.create({ deviceId: 'd', type: profileEventType('a.b'), priority: 'urgent' as 'critical' })).toThrow(
      /priority/,
    );
  });
});
