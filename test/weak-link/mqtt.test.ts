/**
 * A real broker behind the edge-2g profile: an mqtt.js client's PUBACK comes a round trip later
 * (two one-way delays plus the time on the air), and the link counts the bytes each publish puts
 * on the wire, which is what the benchmarks divide by.
 */
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { PROFILES, rawRoundTripMs } from '../../scripts/weak-link/profiles.js';
import { WeakLink } from '../../scripts/weak-link/weak-link.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';

const brokerRef = useBroker();
const cleanup = useCleanups();

describe('MQTT over the weak link', () => {
  it('an mqtt.js client through edge-2g gets its PUBACK about two one-way delays later', async () => {
    const profile = PROFILES['edge-2g'];
    const link = await WeakLink.start({ targetPort: Number(new URL(brokerRef.current.url).port), profile: 'edge-2g' });
    cleanup(() => link.stop());
    const t0 = performance.now();
    const client = await mqtt.connectAsync(link.url, { clientId: 'weak-link-edge', reconnectPeriod: 0 });
    cleanup(() => client.endAsync(true));
    const connectMs = performance.now() - t0;
    expect(connectMs, 'CONNECT and CONNACK crossed the link').toBeGreaterThanOrEqual(2 * profile.delayMs);

    const payload = Buffer.alloc(200, 7);
    const before = link.stats();
    const t1 = performance.now();
    await client.publishAsync('village/edge', payload, { qos: 1 });
    const pubackMs = performance.now() - t1;
    const after = link.stats();

    const upBytes = after.up.forwardedBytes - before.up.forwardedBytes;
    const downBytes = after.down.forwardedBytes - before.down.forwardedBytes;
    // MQTT 3.1.1 PUBLISH: fixed header (type + a 2-byte remaining length: 216 > 127), topic (2 + 12),
    // packet id (2), payload; PUBACK: 4 bytes.
    expect(upBytes).toBe(3 + 14 + 2 + payload.length);
    expect(downBytes).toBe(4);
    const theory = rawRoundTripMs(upBytes, downBytes, profile); // 800 ms of delay + ~17 ms on the air
    expect(pubackMs).toBeGreaterThanOrEqual(0.95 * theory);
    // Jitter adds up to 100 ms each way; the slack is for a busy machine, not the model.
    expect(pubackMs).toBeLessThan(theory + 2 * profile.jitterMs + 2000);
  });
});
