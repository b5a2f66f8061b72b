/** The link's round trip: probes onto an empty link, and shorter ones behind our own queue. */
import { describe, expect, it } from 'vitest';
import { RoundTrip, RTT_PROBE_MS } from '../../agent/uplink/round-trip.js';

describe('RoundTrip', () => {
  it('a probe is due before any, and RTT_PROBE_MS after the last probe, whatever else was measured', () => {
    const rt = new RoundTrip();
    expect(rt.probeDue(0)).toBe(true);
    expect(rt.best(0)).toBeNull();
    rt.add(1000, 976, true);
    expect(rt.probeDue(1000 + RTT_PROBE_MS)).toBe(false);
    rt.add(5000, 880, false); // behind our queue: a shorter one counts, but it is no probe
    expect(rt.probeDue(1001 + RTT_PROBE_MS)).toBe(true);
  });

  it('behind our queue a round trip only lowers the shortest (it includes the queue, never less)', () => {
    const rt = new RoundTrip();
    rt.add(1000, 976, true);
    rt.add(2000, 1400, false);
    expect(rt.best(2000)).toBe(976);
    rt.add(3000, 880, false);
    expect(rt.best(3000)).toBe(880);
  });

  it('past the 30 s window: the last probe stands (a pause is no reason to forget the link)', () => {
    const rt = new RoundTrip();
    rt.add(1000, 976, true);
    rt.add(2000, 880, false);
    expect(rt.best(40_000)).toBe(976);
  });
});
