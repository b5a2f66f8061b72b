/**
 * The weak link's shape over real sockets: the rate cap with its delay, one modem buffer shared
 * by every connection, the bounded buffer that pauses the sender, and jitter that never reorders.
 * Timings are checked from below (a loaded machine only makes things later); the one upper bound
 * is twice the theory, which only a link that does not keep its rate misses.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PROFILES, rawLinkMs, type LinkProfile } from '../../scripts/weak-link/profiles.js';
import { WeakLink } from '../../scripts/weak-link/weak-link.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { waitUntil } from '../helpers/wait.js';
import { connectClient, sleep, startTarget } from './peers.js';

const cleanup = useCleanups();

async function rig(profile: LinkProfile, echo = false) {
  const target = await startTarget({ echo });
  cleanup(() => target.close());
  const link = await WeakLink.start({ targetPort: target.port, profile });
  cleanup(() => link.stop());
  return { target, link };
}

const sha = (bufs: Buffer[]) => createHash('sha256').update(Buffer.concat(bufs)).digest('hex');

describe('the weak link shapes what it carries', () => {
  it('takes bytes / rate + delay for a transfer, and a second connection waits behind it (one modem)', async () => {
    const profile: LinkProfile = { ...PROFILES['edge-2g'], name: 'edge-2g-steady', jitterMs: 0 };
    const { target, link } = await rig(profile);
    const bulk = await connectClient(link.port);
    const ping = await connectClient(link.port);
    cleanup(() => (bulk.socket.destroy(), ping.socket.destroy()));
    await waitUntil(() => target.conns.length === 2, 5000, 'both connections at the target');
    const n = 20_000;
    const t0 = performance.now();
    bulk.socket.write(randomBytes(n));
    await sleep(20);
    ping.socket.write(Buffer.alloc(100, 1));
    const [bulkAt, pingAt] = [target.conns[0]!, target.conns[1]!];
    await waitUntil(() => bulkAt.bytes === n && pingAt.bytes === 100, 10_000, 'both transfers at the target');

    const bulkMs = bulkAt.times.at(-1)! - t0;
    const theory = rawLinkMs(n, profile); // 1600 ms on the air + 400 ms delay
    expect(bulkMs).toBeGreaterThanOrEqual(0.9 * theory);
    expect(bulkMs, 'keeps its rate (twice the theory only on a stalled wire)').toBeLessThan(2 * theory);
    // The ping queued behind the bulk transfer in the shared buffer: it arrives after all of it.
    expect(pingAt.times[0]!).toBeGreaterThanOrEqual(bulkAt.times.at(-1)!);
    expect(pingAt.times[0]! - t0).toBeGreaterThanOrEqual(0.9 * rawLinkMs(n + 100, profile));
    expect(link.stats().up.forwardedBytes).toBe(n + 100);
  });

  it('never queues more than the modem buffer: the sender is paused, not read to the end', async () => {
    const profile: LinkProfile = { ...PROFILES['edge-2g'], name: 'small-buffer', delayMs: 0, bufferBytes: 8192 };
    const { link } = await rig(profile);
    const c = await connectClient(link.port);
    cleanup(() => c.socket.destroy());
    const total = 1024 * 1024;
    c.socket.write(randomBytes(total));
    let maxQueued = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 1000) {
      maxQueued = Math.max(maxQueued, link.stats().up.queuedBytes);
      await sleep(5);
    }
    const s = link.stats().up;
    expect(Math.max(maxQueued, s.maxQueuedBytes)).toBeLessThanOrEqual(8192);
    expect(s.maxQueuedBytes, 'the buffer filled').toBeGreaterThan(8192 - 1460);
    expect(s.pauses).toBeGreaterThan(0);
    // In one second at 100 kbit/s the link takes ~12.5 KB; besides it the proxy holds the buffer
    // and one read chunk. Without backpressure it would have read the whole megabyte at once.
    const elapsedSec = (performance.now() - t0) / 1000;
    expect(s.receivedBytes).toBeLessThan(elapsedSec * 12_500 + 8192 + 65_536 + 1460);
    expect(s.waitingBytes).toBeLessThanOrEqual(65_536);
  });

  it('keeps bytes in order under jitter far larger than the gap between segments', async () => {
    const profile: LinkProfile = {
      name: 'jittery',
      delayMs: 10,
      jitterMs: 300,
      rateBitsPerSec: { up: 4_000_000, down: 4_000_000 },
      bufferBytes: 64 * 1024,
    };
    const { link } = await rig(profile, true);
    const c = await connectClient(link.port);
    cleanup(() => c.socket.destroy());
    const sent: Buffer[] = [];
    for (let i = 0; i < 256; i++) {
      const b = randomBytes(1024);
      sent.push(b);
      c.socket.write(b);
    }
    const total = 256 * 1024;
    await waitUntil(() => c.got.bytes === total, 20_000, 'the echo of every byte');
    expect(sha(c.got.chunks)).toBe(sha(sent));
    const s = link.stats();
    // Jitter would have reordered these segments; each arrived with the one before instead.
    expect(s.up.jitterClamps).toBeGreaterThan(0);
    expect(s.down.jitterClamps).toBeGreaterThan(0);
    expect(s.up.forwardedBytes).toBe(total);
    expect(s.down.forwardedBytes).toBe(total);
  });

  it('computes the raw link time each profile promises', () => {
    expect(rawLinkMs(100 * 1000, 'edge-2g')).toBeCloseTo(8000 + 400);
    expect(rawLinkMs(5000, 'gprs', 'down')).toBeCloseTo(1000 + 600);
    expect(rawLinkMs(625_000, 'good-4g')).toBeCloseTo(1000 + 25);
    expect(() => rawLinkMs(1, 'edge-3g' as 'gprs')).toThrow(/unknown link profile "edge-3g"/);
    expect(() => rawLinkMs(1, { ...PROFILES.gprs, bufferBytes: 1000 })).toThrow(/must hold a segment/);
  });
});
