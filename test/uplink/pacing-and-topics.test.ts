import { describe, expect, it } from 'vitest';
import { Backoff } from '../../core/kernel/backoff.js';
import { TokenBucket } from '../../agent/uplink/token-bucket.js';
import { topicsFor } from '../../agent/uplink/topics.js';

describe('Backoff', () => {
  it('doubles from min to max, with jitter inside its band', () => {
    const lo = new Backoff(1000, 300_000, 0.5, () => 0);
    const hi = new Backoff(1000, 300_000, 0.5, () => 0.999999);
    const los = Array.from({ length: 12 }, () => lo.next());
    const his = Array.from({ length: 12 }, () => hi.next());
    expect(his.slice(0, 4)).toEqual([1000, 2000, 4000, 8000]);
    expect(los.slice(0, 4)).toEqual([1000, 1000, 2000, 4000]); // half the base, never below min
    expect(Math.max(...his)).toBe(300_000);
    lo.reset();
    expect(lo.next()).toBe(1000);
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then paces to the rate', () => {
    let now = 0;
    const b = new TokenBucket(10, 3, () => now);
    expect([b.take(), b.take(), b.take()]).toEqual([0, 0, 0]);
    expect(b.take()).toBe(100); // one token every 100 ms at 10/s
    now += 100;
    expect(b.take()).toBe(0);
    b.force(); // critical traffic goes now but still counts
    expect(b.take()).toBe(200);
  });

  it('is unlimited at rate 0', () => {
    const b = new TokenBucket(0, 1, () => 0);
    for (let i = 0; i < 1000; i++) expect(b.take()).toBe(0);
  });
});

describe('topics', () => {
  it('follows the documented contract', () => {
    const t = topicsFor('village/qingshan-03');
    expect([t.events, t.status, t.health, t.commandFilter, t.command('ack'), t.reply('ack')]).toEqual([
      'village/qingshan-03/events',
      'village/qingshan-03/status',
      'village/qingshan-03/health',
      'village/qingshan-03/cmd/+',
      'village/qingshan-03/cmd/ack',
      'village/qingshan-03/cmd-reply/ack',
    ]);
    expect(t.commandName('village/qingshan-03/cmd/status')).toBe('status');
    expect(t.commandName('village/qingshan-03/cmd/')).toBeNull();
    expect(t.commandName('village/other/cmd/status')).toBeNull();
  });
});
