import type { Clock } from '../../core/kernel/clock.js';
import type { GatewayEvent, Priority } from '../../core/contracts/event.js';
import { profileEventType } from '../../core/contracts/events/catalogue.js';
import { EventFactory } from '../../agent/event-factory.js';
import { SeqCounter } from '../../agent/seq-counter.js';
import { join } from 'node:path';

/** A fake clock we drive by hand (clocks are an edge we own). */
export class FakeClock implements Clock {
  constructor(
    public wall = Date.UTC(2026, 10, 27, 12, 0, 0),
    public mono = 0,
    public isSynced = true,
  ) {}
  now = () => this.wall;
  monoMs = () => this.mono;
  synced = () => this.isSynced;
  advance(ms: number) {
    this.wall += ms;
    this.mono += ms;
  }
}

/**
 * Events of an uncatalogued type (a profile event) with a padding payload: for the outbox and the uplink, which
 * never read `data`.
 */
export function eventMaker(dir: string, clock: Clock = new FakeClock(), gatewayId = 'gw-test') {
  const factory = new EventFactory(
    gatewayId,
    SeqCounter.open(join(dir, 'seq.json'), 1_000_000) /* fixed-width seq: equal-size events */,
    clock,
  );
  return (priority: Priority, padBytes = 0, type = 'test.reading'): GatewayEvent =>
    factory.create({
      deviceId: 'dev-1',
      type: profileEventType(type),
      priority,
      data: { pad: 'x'.repeat(padBytes + 8 - priority.length) },
    }); // equal size whatever the priority
}
