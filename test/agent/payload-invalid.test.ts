/**
 * An event whose data does not match its catalogue entry, through a whole in-process agent, a
 * real broker and the county's subscriber: telemetry is refused (PAYLOAD_INVALID, no seq, never
 * on the wire) and counted; an alarm.pressed is never dropped for its shape: it is stored and
 * reaches the county with payloadInvalid: true, in a JSON message (critical) and in a compact
 * batch (the same alarm lowered to normal by its producer), and the bus's listeners see it too.
 */
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../helpers/wait.js';
import { Agent } from '../../agent/agent.js';
import type { EventInput, GatewayEvent } from '../../core/contracts/event.js';
import { CountySubscriber } from '../../scripts/county-subscriber.js';
import { testConfig } from '../helpers/agent-config.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

async function village(gatewayId: string, format: 'json' | 'compact') {
  const url = brokerRef.current.url;
  const county = await new CountySubscriber({ url, clientId: `county-${gatewayId}` }).start();
  cleanup(() => county.stop());
  const config = testConfig(url, tempDir(), { gateway: { id: gatewayId }, mqtt: { wire: { format, lingerMs: 0 } } });
  const agent = new Agent({ config, configHash: 'payload-invalid', baseDir: tempDir(), logger: quietLogger() });
  await agent.start();
  cleanup(() => agent.stop());
  const seen: GatewayEvent[] = [];
  agent.observe.onEvent((e) => void seen.push(e));
  const arrived = (id: string) => county.events.get(id);
  return { agent, county, seen, arrived };
}

/** What tsc refuses and a profile's mapping or a cast can still produce at run time. */
const unchecked = (input: unknown) => input as EventInput;

// A wired button's payload is { input, active }: a stray key and a wrong type are two faults of shape.
const badPress = { input: 'di1', active: 'yes', rssi: -71 };

describe('events whose payload does not match the catalogue', () => {
  for (const format of ['json', 'compact'] as const)
    it(`${format}: telemetry is refused and counted; an alarm is stored and delivered with payloadInvalid`, async () => {
      const v = await village(`gw-invalid-${format}`, format);
      await expect(
        v.agent.emit(
          unchecked({ deviceId: 'meter-1', type: 'sensor.telemetry', priority: 'normal', data: { tempC: { c: 4 } } }),
        ),
      ).rejects.toMatchObject({ code: 'PAYLOAD_INVALID' });
      expect(v.seen.filter((e) => e.deviceId === 'meter-1')).toEqual([]); // refused before the bus: no listener meets an untyped payload
      expect(v.agent.observe.payloads()).toEqual({ problems: 1, refused: 1 });

      // Made in one tick, so their seqs follow each other unless the refused one spent one.
      const made = [
        v.agent.emit({ deviceId: 'meter-1', type: 'sensor.telemetry', priority: 'normal', data: { tempC: 4 } }),
        v.agent.emit(
          unchecked({ deviceId: 'meter-1', type: 'sensor.telemetry', priority: 'normal', data: { tempC: [4] } }),
        ),
        v.agent.emit(unchecked({ deviceId: 'b1', type: 'alarm.pressed', priority: 'critical', data: badPress })),
        v.agent.emit(unchecked({ deviceId: 'b1', type: 'alarm.pressed', priority: 'normal', data: badPress })),
      ];
      await expect(made[1]).rejects.toMatchObject({ code: 'PAYLOAD_INVALID' });
      const [good, critical, lowered] = await Promise.all([made[0]!, made[2]!, made[3]!]);
      expect(critical.payloadInvalid).toBe(true);
      expect(good).not.toHaveProperty('payloadInvalid');
      // The presses raised their alert (no rule covers b1: rule `press`); the refused event spent no seq.
      await waitUntil(() => v.seen.some((e) => e.type === 'alert.raised'), 5000, 'the press alert');
      const own = v.seen.filter((e) => e.type !== 'alert.raised');
      expect(own.map((e) => e.id)).toEqual([good.id, critical.id, lowered.id]);
      const seqs = v.seen.map((e) => e.seq).sort((a, b) => a - b);
      expect(seqs).toEqual(seqs.map((_, i) => good.seq + i));
      expect(v.seen.filter((e) => e.type === 'alert.raised').map((e) => e.data)).toEqual([
        expect.objectContaining({ rule: 'press', causes: [expect.objectContaining({ id: critical.id })] }),
      ]);
      expect(v.agent.observe.payloads()).toEqual({ problems: 4, refused: 2 });

      await v.county.waitFor(() => [critical, lowered, good].every((e) => v.arrived(e.id)), 15_000);
      expect(v.arrived(critical.id)).toEqual(critical);
      expect(v.arrived(lowered.id)).toEqual(lowered); // in compact mode a batch: the flag comes back whole
      expect(v.arrived(lowered.id)).toMatchObject({ payloadInvalid: true, data: badPress, priority: 'normal' });
      expect(v.arrived(good.id)).toEqual(good);
      expect([...v.county.events.values()].filter((e) => e.type === 'sensor.telemetry')).toHaveLength(1);
      expect(v.county.unreadable).toBe(0);
    });
});
