/**
 * The weak link's failures over real sockets: a blackhole (nothing forwarded, nothing closed,
 * what waited goes on afterwards), a reset (both sides get ECONNRESET), a cut and its restore,
 * and the flapping profile's schedule compressed 300 times (its 5-minute period in one second).
 */
import { describe, expect, it } from 'vitest';
import { PROFILES, UNSHAPED as CLEAR, type LinkProfile } from '../../scripts/weak-link/profiles.js';
import { WeakLink } from '../../scripts/weak-link/weak-link.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { waitUntil } from '../helpers/wait.js';
import { connectClient, sleep, startTarget, type Client } from './peers.js';

const cleanup = useCleanups();

async function rig(profile: LinkProfile = CLEAR, timeScale = 1) {
  const target = await startTarget({ echo: true });
  cleanup(() => target.close());
  const link = await WeakLink.start({ targetPort: target.port, profile, timeScale });
  cleanup(() => link.stop());
  const client = async (): Promise<Client> => {
    const c = await connectClient(link.port);
    cleanup(() => c.socket.destroy());
    return c;
  };
  return { target, link, client };
}

const text = (c: Client) => Buffer.concat(c.got.chunks).toString();

describe('the weak link fails like a cellular link', () => {
  it('blackhole: forwards nothing and closes nothing; the held bytes go on, in order, once restored', async () => {
    const { target, link, client } = await rig();
    const a = await client();
    a.socket.write('hello ');
    await waitUntil(() => a.got.bytes === 6, 5000, 'the echo before the blackhole');

    link.blackhole();
    a.socket.write('x'.repeat(1000));
    const b = await client(); // accepted here, but its SYN would go nowhere: no target connection
    b.socket.write('late');
    await sleep(300);
    expect(target.conns[0]!.bytes, 'nothing reached the target').toBe(6);
    expect(target.conns).toHaveLength(1);
    expect(a.got.bytes, 'nothing came back').toBe(6);
    expect([a.got.closed, b.got.closed, target.conns[0]!.closed], 'nothing closed').toEqual([false, false, false]);
    expect(link.stats().up.queuedBytes).toBe(1000);

    link.restore();
    await waitUntil(() => a.got.bytes === 1006 && b.got.bytes === 4, 5000, 'the held bytes echoed');
    expect(text(a)).toBe('hello ' + 'x'.repeat(1000));
    expect(text(b)).toBe('late');
    expect(link.history.map((h) => [h.mode, h.by])).toEqual([
      ['blackhole', 'manual'],
      ['pass', 'manual'],
    ]);
  });

  it('blackhole: what was on the air when it began crosses the link again after it', async () => {
    const { link, client } = await rig({ ...CLEAR, name: 'slow', delayMs: 200 });
    const a = await client();
    a.socket.write('on the air');
    await sleep(50);
    link.blackhole(); // the bytes are between the ends, 150 ms from the target
    await sleep(300);
    const restoredAt = performance.now();
    link.restore();
    await waitUntil(() => a.got.bytes === 10, 5000, 'the echo');
    // Up again after the restore (one delay), then the echo back (another).
    expect(a.got.times[0]! - restoredAt).toBeGreaterThanOrEqual(2 * 200 - 2);
    expect(text(a)).toBe('on the air');
  });

  it('reset: the client and the target both get ECONNRESET; new connections pass', async () => {
    const { target, link, client } = await rig();
    const a = await client();
    a.socket.write('ping');
    await waitUntil(() => a.got.bytes === 4, 5000, 'the echo');
    link.reset();
    await waitUntil(() => a.got.closed && target.conns[0]!.closed, 5000, 'both sides closed');
    expect(a.got.error).toBe('ECONNRESET');
    expect(target.conns[0]!.error).toBe('ECONNRESET');
    const b = await client();
    b.socket.write('again');
    await waitUntil(() => b.got.bytes === 5, 5000, 'the echo on a new connection');
    expect(link.stats().connections).toBe(2);
  });

  it('cut: closes every connection and every new one until restored', async () => {
    const { target, link, client } = await rig();
    const a = await client();
    a.socket.write('ping');
    await waitUntil(() => a.got.bytes === 4, 5000, 'the echo');
    link.cut();
    await waitUntil(() => a.got.closed && target.conns[0]!.closed, 5000, 'both sides closed');
    const refused = await client();
    await waitUntil(() => refused.got.closed, 5000, 'a new connection closed during the cut');
    expect(refused.got.bytes).toBe(0);
    expect(target.conns).toHaveLength(1);
    link.restore();
    const b = await client();
    b.socket.write('back');
    await waitUntil(() => b.got.bytes === 4, 5000, 'the echo after restore');
    expect(target.conns).toHaveLength(2);
  });

  it('lose: one direction reads and throws away its bytes (a broken stream), the connection stays', async () => {
    const { target, link, client } = await rig();
    const a = await client();
    link.lose(['down']);
    a.socket.write('lost echo');
    await waitUntil(() => link.stats().down.lostBytes === 9, 5000, 'the echo thrown away');
    expect(target.conns[0]!.bytes, 'the other direction still passes').toBe(9);
    link.restore();
    a.socket.write('!');
    await waitUntil(() => a.got.bytes === 1, 5000, 'the next echo');
    expect(text(a)).toBe('!');
    expect(a.got.closed).toBe(false);
  });

  it('flapping at timeScale 300: the outage and the reset come at their compressed times, every period', async () => {
    // flapping's schedule (5-minute period, blackhole at 4:00 for 45 s, then reset) without its
    // weak-3g shape: the 150 ms delay would blur the edges this test looks at.
    const flapping: LinkProfile = { ...CLEAR, name: 'flapping-sharp', schedule: PROFILES.flapping.schedule };
    const { target, link, client } = await rig(flapping, 300);
    const start = performance.now() - link.elapsedMs();
    const a = await client();
    let resetAt = -1;
    a.socket.once('close', () => (resetAt = performance.now() - start));
    const probe = setInterval(() => a.socket.writable && a.socket.write('.'), 10);
    cleanup(() => clearInterval(probe));
    await waitUntil(() => link.history.length >= 4, 10_000, 'a second period');
    clearInterval(probe);

    const [hole, reset, pass, hole2] = link.history;
    expect([hole?.mode, reset?.mode, pass?.mode, hole2?.mode]).toEqual(['blackhole', 'reset', 'pass', 'blackhole']);
    // Timers may fire a millisecond early, never much; late only as late as the machine is busy.
    const near = (at: number | undefined, ms: number) => {
      expect(at).toBeGreaterThanOrEqual(ms - 2);
      expect(at).toBeLessThan(ms + 1000);
    };
    near(hole?.atMs, 800); // 4:00 / 300
    near(reset?.atMs, 950); // 4:45 / 300
    near(hole2?.atMs, 1800); // the next period
    expect(pass!.atMs - reset!.atMs, 'the reset is a moment, then the link passes').toBeLessThan(50);

    const arrivals = target.conns[0]!.times.map((t) => t - start);
    expect(arrivals.filter((t) => t < hole!.atMs).length, 'probes arrived before the outage').toBeGreaterThan(10);
    expect(
      arrivals.filter((t) => t > hole!.atMs + 20 && t < reset!.atMs),
      'none during it',
    ).toEqual([]);
    expect(a.got.error, 'the old connection was reset at the end').toBe('ECONNRESET');
    expect(resetAt).toBeGreaterThanOrEqual(reset!.atMs);
  });

  it('a mode set by hand stops the schedule', async () => {
    const { link } = await rig({ ...CLEAR, name: 'flapping-sharp', schedule: PROFILES.flapping.schedule }, 600);
    link.blackhole();
    await sleep(800); // the schedule would have started its outage at 400 ms and ended it at 475
    expect(link.history.map((h) => h.mode)).toEqual(['blackhole']);
    expect(link.mode).toBe('blackhole');
  });

  it('a new profile ends the outage its old schedule was in; a new schedule starts from then', async () => {
    const { link } = await rig({ ...CLEAR, name: 'flapping-sharp', schedule: PROFILES.flapping.schedule }, 600);
    await waitUntil(() => link.mode === 'blackhole', 5000, 'the scheduled outage (at 400 ms)');
    link.setProfile('edge-2g');
    expect(link.mode).toBe('pass');
    expect(link.profile.name).toBe('edge-2g');
    await sleep(600); // edge-2g has no schedule: nothing more happens
    expect(link.history.map((h) => h.mode)).toEqual(['blackhole', 'pass']);
  });
});
