/**
 * The county's example brokers (scripts/brokers/county/*.conf), run as written, refuse a
 * message the county's decoders would refuse anyway before any subscriber gets it: a client
 * publishing a packet over `max_packet_size` is disconnected and the message goes nowhere,
 * while a batch as large as a gateway may send (WIRE_LIMITS.maxMessageBytes) passes. The
 * publisher speaks MQTT 3.1.1, which cannot be told the limit in advance (an MQTT 5 client is
 * told at CONNACK and may refuse on its own side): what is shown is the broker's refusal.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { BROKER_MAX_PACKET_BYTES, WIRE_LIMITS } from '../../core/contracts/wire-limits.js';
import { countyConfigPath, renderCountyConfig, type CountyBrokerRole } from '../../scripts/brokers/county-topology.js';
import { Mosquitto } from '../../scripts/brokers/mosquitto.js';
import { requireMosquitto } from '../helpers/broker.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { waitUntil } from '../helpers/wait.js';

const cleanup = useCleanups();

async function connect(url: string, clientId: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { clientId, protocolVersion: 4, reconnectPeriod: 0 });
  c.on('error', () => {}); // a refused publisher's socket closes under it: that is the point
  cleanup(() => c.endAsync(true));
  return c;
}

/** Publishes QoS 1; resolves 'acked' on PUBACK, 'closed' when the broker drops the connection first. */
function publish(c: MqttClient, topic: string, payload: Buffer): Promise<'acked' | 'closed'> {
  return new Promise((resolve) => {
    c.once('close', () => resolve('closed'));
    c.publish(topic, payload, { qos: 1 }, (err) => resolve(err ? 'closed' : 'acked'));
  });
}

describe("the county brokers' packet limit", () => {
  it('both example configs set max_packet_size to what wire-limits.ts says', () => {
    for (const role of ['core', 'district-edge'] as CountyBrokerRole[]) {
      const lines = readFileSync(countyConfigPath(role), 'utf8').match(/^max_packet_size (\d+)$/gm);
      expect(lines, role).toEqual([`max_packet_size ${BROKER_MAX_PACKET_BYTES}`]);
    }
    // Headroom above the largest legitimate batch for the packet's header, topic and properties.
    expect(BROKER_MAX_PACKET_BYTES - WIRE_LIMITS.maxMessageBytes).toBeGreaterThanOrEqual(16 * 1024);
  });

  it('the core broker passes a 1 MiB batch and refuses a bigger packet before any subscriber sees it', async () => {
    const core = await new Mosquitto(requireMosquitto(), { render: (at) => renderCountyConfig('core', at) }).start();
    cleanup(() => core.dispose());
    const county = await connect(core.url, 'county-sub');
    const got: number[] = [];
    county.on('message', (_t, payload) => void got.push(payload.length));
    await county.subscribeAsync('village/+/events', { qos: 1 });

    const gateway = await connect(core.url, 'gw-big');
    // The largest batch a gateway may send (mqtt.batch.maxBytes at most maxMessageBytes).
    expect(await publish(gateway, 'village/gw-big/events', Buffer.alloc(WIRE_LIMITS.maxMessageBytes, 0x61))).toBe(
      'acked',
    );
    await waitUntil(() => got.length === 1, 30_000, 'the 1 MiB batch at the county');

    // Over the limit: the broker disconnects the publisher; nothing reaches the county.
    const stranger = await connect(core.url, 'gw-stranger');
    expect(await publish(stranger, 'village/gw-stranger/events', Buffer.alloc(BROKER_MAX_PACKET_BYTES, 0x62))).toBe(
      'closed',
    );
    // A later message from the first gateway arrives, and the oversized one never did.
    expect(await publish(gateway, 'village/gw-big/events', Buffer.from('after'))).toBe('acked');
    await waitUntil(() => got.length === 2, 30_000, 'the message after');
    expect(got).toEqual([WIRE_LIMITS.maxMessageBytes, 5]);
  }, 60_000);
});
