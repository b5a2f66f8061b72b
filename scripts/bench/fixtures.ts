import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Priority } from '../../core/contracts/event.js';
import { EventFactory } from '../../agent/event-factory.js';
import { SeqCounter } from '../../agent/seq-counter.js';
import { systemClock } from '../../core/kernel/system-clock.js';
import { gatewayConfigSchema, type OutboxConfig } from '../../config/schema/gateway-config.js';

/** Benchmarks write where the outbox would: a real disk folder (not tmpfs) under the project. */
export const benchDir = (name: string) => mkdtempSync(join(process.env.VG_BENCH_DIR ?? tmpdir(), `vg-bench-${name}-`));

export function outboxConfig(over: Record<string, unknown> = {}): OutboxConfig {
  return gatewayConfigSchema.parse({
    version: 1,
    gateway: { id: 'bench' },
    dataDir: '/x',
    mqtt: { url: 'mqtt://h' },
    outbox: { maxBytes: '4GiB', ...over },
  }).outbox;
}

/** A realistic telemetry-sized event (~300 bytes as JSON). */
export function eventSource(dir: string) {
  const factory = new EventFactory('bench-gw', SeqCounter.open(join(dir, 'seq.json')), systemClock('always'));
  return (priority: Priority, i: number) =>
    priority === 'critical'
      ? factory.create({
          deviceId: 'panel-1.di1',
          type: 'alarm.pressed',
          priority,
          data: { device: 'panel-1', unitId: 1, input: 'di1', active: true, led: 'do1' },
        })
      : factory.create({
          deviceId: 'meter-1',
          type: 'sensor.telemetry',
          priority,
          data: { i, tempC: 21.5, humidity: 48, battery: 3.31, rssi: -71 },
        });
}

/** A resident's panic press, as the weak-link and camera benchmarks emit it. */
export const PANIC_PRESS = {
  deviceId: 'panel.di2',
  type: 'alarm.pressed',
  priority: 'critical',
  data: { input: 'di2', active: true },
} as const;

/** Polls `cond` every `everyMs` until it holds; throws after `timeoutMs`, naming `what`. */
export async function until(cond: () => boolean, timeoutMs: number, what: string, everyMs = 20): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
