/**
 * Review probe (simulated link, fake timers): a 9.6 kbit/s cell (1,200 B/s, 1.2 s round trip).
 * After a 12 s pause the rate estimate has expired (10 s window) but no RTT probe is due
 * (20 s), so the budget is the initial 16 KB: 13 s of this link. An alarm pressed into a burst
 * of telemetry then waits longer than alarmRetry.ackTimeoutMs (10 s) and watchAlarm drops a
 * healthy link.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Drain } from '../../agent/uplink/drain.js';
import { topicsFor } from '../../agent/uplink/topics.js';
import { eventMaker, FakeClock } from '../helpers/events.js';
import { ArrayOutbox } from '../helpers/array-outbox.js';
import { PublisherDouble } from '../helpers/publisher-double.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();

afterEach(() => vi.useRealTimers());

describe('a slow healthy link after a 12 s pause', () => {
  it('an alarm into a telemetry burst is acknowledged within ackTimeoutMs; the link is not dropped', () => {
    vi.useFakeTimers();
    const make = eventMaker(tempDir(), new FakeClock(), 'gw');
    const reading = () => make('normal', 150);
    const reader = new ArrayOutbox();
    reader.put(Array.from({ length: 100 }, reading));
    const RATE = 1200;
    const RTT = 1200;
    let wireFree = 0;
    const sent: { at: number; critical: boolean; ackAt: number }[] = [];
    const refused: string[] = [];
    const client = new PublisherDouble((m) => {
      const size = Buffer.byteLength(m.payload) + m.topic.length + 9;
      wireFree = Math.max(wireFree, Date.now()) + (size / RATE) * 1000;
      const ackAt = wireFree + RTT;
      sent.push({ at: Date.now(), critical: String(m.payload).includes('"priority":"critical"'), ackAt });
      setTimeout(() => m.ack(), ackAt - Date.now());
    });
    const drain = new Drain({
      outbox: reader,
      topics: topicsFor('v/gw'),
      gatewayId: 'gw',
      batch: { maxEvents: 100, maxBytes: 65536 },
      replay: { messagesPerSec: 0, burst: 100 },
      linkBudget: { queueMs: 500, messageMs: 250 },
      alarmAckTimeoutMs: 10_000,
      logger: quietLogger(),
      monoMs: () => Date.now(),
      onRefused: (r) => refused.push(r),
    });
    drain.attach(client, 20);
    vi.advanceTimersByTime(60_000);
    expect(reader.rows).toHaveLength(0);
    // One reading onto the idle link (a fresh round trip and rate), then 12 s of nothing.
    reader.put([reading()]);
    vi.advanceTimersByTime(3000);
    const learned = drain.linkStats();
    vi.advanceTimersByTime(12_000);
    const paused = drain.linkStats();
    // A burst (a device's buffered readings), and a resident presses the panic button.
    reader.put(Array.from({ length: 60 }, reading));
    vi.advanceTimersByTime(50);
    const t0 = Date.now();
    reader.put([make('critical', 150)]);
    vi.advanceTimersByTime(30_000);
    const alarm = sent.find((s) => s.critical)!;
    drain.detach();
    expect(paused.budgetBytes, 'a 12 s pause does not make the link forget its rate').toBeLessThanOrEqual(
      learned.budgetBytes * 1.5,
    );
    expect(refused, `alarm acked ${Math.round(alarm.ackAt - t0)} ms after it was pressed`).toEqual([]);
  });
});
