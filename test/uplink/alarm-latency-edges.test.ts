/**
 * Edges of "alarms first" found by a hostile review of the drain and flight control (stand-in
 * outbox and client, fake timers): an alarm never waits for replay pacing, a pause does not
 * make the link forget its rate, and a reader reset does not make a backlog linger.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Drain } from '../../agent/uplink/drain.js';
import { FlightControl } from '../../agent/uplink/flight-control.js';
import { topicsFor } from '../../agent/uplink/topics.js';
import { eventMaker, FakeClock } from '../helpers/events.js';
import { ArrayOutbox } from '../helpers/array-outbox.js';
import { PublisherDouble } from '../helpers/publisher-double.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();

afterEach(() => {
  vi.useRealTimers();
});

describe('drain', () => {
  it('an alarm stored while the replay pacing timer is pending goes at once (it must not wait for pacing)', () => {
    vi.useFakeTimers();
    const make = eventMaker(tempDir(), new FakeClock(), 'gw');
    // After an outage: 300 alarms (a flapping smoke detector) and telemetry behind them.
    const reader = new ArrayOutbox();
    reader.put([
      ...Array.from({ length: 300 }, () => make('critical')),
      ...Array.from({ length: 20 }, () => make('normal')),
    ]);
    const sent: { at: number; topic: string; critical: boolean }[] = [];
    const client = new PublisherDouble((m) => {
      sent.push({ at: Date.now(), topic: m.topic, critical: String(m.payload).includes('"priority":"critical"') });
      setTimeout(() => m.ack(), 5); // a PUBACK 5 ms later
    });
    const drain = new Drain({
      outbox: reader,
      topics: topicsFor('v/gw'),
      gatewayId: 'gw',
      batch: { maxEvents: 100, maxBytes: 65536 },
      replay: { messagesPerSec: 50, burst: 100 }, // the defaults
      linkBudget: { queueMs: 500, messageMs: 250 },
      alarmAckTimeoutMs: 10_000,
      logger: quietLogger(),
      monoMs: () => Date.now(),
      onRefused: () => {},
    });
    drain.attach(client, 20);
    vi.advanceTimersByTime(2000);
    expect(sent.filter((s) => s.critical)).toHaveLength(300);
    // The 300 forced alarms left the bucket ~200 tokens in debt: the telemetry waits (fine)...
    // ...and now a resident presses the panic button.
    const t0 = Date.now();
    reader.put([make('critical')]);
    vi.advanceTimersByTime(100);
    const alarmSent = sent.filter((s) => s.critical).length === 301;
    vi.advanceTimersByTime(10_000);
    const at = sent.filter((s) => s.critical)[300]?.at;
    drain.detach();
    expect(alarmSent, `the new alarm went ${at === undefined ? 'never' : at - t0} ms after it was stored`).toBe(true);
  });
});

describe('FlightControl', () => {
  it('a link measured at 5 KB/s keeps a bounded budget after a 12 s pause (a short outage and reconnect)', () => {
    let now = 1000;
    const fc = new FlightControl({ window: 20, queueMs: 500, messageMs: 250 }, () => now);
    // Learn a 5 KB/s, 1.2 s round-trip link (gprs) with a backlog.
    const rate = 5000;
    const acks: { at: number; token: number }[] = [];
    let wireFree = 0;
    for (let t = 0; t < 60_000;) {
      while (fc.admits(1000, false)) {
        const token = fc.sent(1000, false);
        wireFree = Math.max(wireFree, now) + (1000 / rate) * 1000;
        acks.push({ at: wireFree + 1200, token });
      }
      acks.sort((a, b) => a.at - b.at);
      const next = acks.shift()!;
      t += next.at - now;
      now = next.at;
      fc.acked(next.token);
    }
    for (const a of acks.sort((x, y) => x.at - y.at)) {
      now = a.at; // the rest of the PUBACKs, each when it comes; then nothing is in flight
      fc.acked(a.token);
    }
    // A health message onto the empty link: a fresh round trip (and a rate sample).
    const h = fc.sent(200, false);
    now += 1240;
    fc.acked(h);
    const learned = fc.budgetBytes();
    expect(learned).toBeLessThan(16_000);
    // The link drops; a reconnect 12 s later (reset keeps the estimates: "the same cell").
    now += 12_000;
    fc.reset(20);
    expect(fc.rttSampleDue(), 'no RTT probe is due yet (< 20 s)').toBe(false);
    const budget = fc.budgetBytes();
    const secondsAheadOfAlarm = budget / rate;
    expect(
      budget,
      `budget ${learned} B before the pause, ${budget} B after (${secondsAheadOfAlarm.toFixed(1)} s of this link ahead of an alarm)`,
    ).toBeLessThanOrEqual(learned * 1.5);
  });
});

describe('linger after a reader reset', () => {
  it('a backlog being drained does not start to linger because an alarm reset the reader', () => {
    vi.useFakeTimers();
    const make = eventMaker(tempDir(), new FakeClock(), 'gw');
    const reader = new ArrayOutbox();
    reader.put(Array.from({ length: 250 }, () => make('normal')));
    const client = new PublisherDouble((m) => setTimeout(() => m.ack(), 200));
    const drain = new Drain({
      outbox: reader,
      topics: topicsFor('v/gw'),
      gatewayId: 'gw',
      batch: { maxEvents: 100, maxBytes: 1 << 20 },
      replay: { messagesPerSec: 0, burst: 1 },
      linkBudget: { queueMs: 500, messageMs: 250 },
      alarmAckTimeoutMs: 10_000,
      logger: quietLogger(),
      monoMs: () => Date.now(),
      onRefused: () => {},
      wire: { format: 'compact', compression: 'deflate', lingerMs: 60_000 },
    });
    drain.attach(client, 20);
    vi.advanceTimersByTime(10);
    // The backlog is draining; a resident presses the panic button.
    reader.put([make('critical')]);
    vi.advanceTimersByTime(5000);
    const leftAfter5s = reader.rows.length;
    vi.advanceTimersByTime(70_000);
    drain.detach();
    expect(leftAfter5s, 'backlog rows still in the outbox 5 s later').toBe(0);
  });
});
