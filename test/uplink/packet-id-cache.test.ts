/**
 * The uplink switches off mqtt-packet's table of 65,536 packet-id Buffers (6 MB of heap for the
 * life of the agent): packet ids are still written right, and the table is never built.
 */
import { createRequire } from 'node:module';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import '../../agent/uplink/uplink.js';

interface MqttPacket {
  writeToStream: ((packet: object, stream: NodeJS.WritableStream, opts?: object) => boolean) & {
    cacheNumbers: boolean;
  };
}
const fromMqtt = createRequire(createRequire(import.meta.url).resolve('mqtt'));
const packets = fromMqtt('mqtt-packet') as MqttPacket;
const numbers = fromMqtt('mqtt-packet/numbers.js') as { cache: Record<number, Buffer> };

describe('mqtt packet ids without the cached table', () => {
  it('is switched off for the copy of mqtt-packet that mqtt.js uses', () => {
    expect(packets.writeToStream.cacheNumbers).toBe(false);
  });

  it('writes packet ids byte for byte, and builds no table', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    out.on('error', () => {}); // a PassThrough in memory: nothing to report
    for (const messageId of [1, 0x1234, 0xffff])
      packets.writeToStream({ cmd: 'puback', messageId }, out, { protocolVersion: 4 });
    await new Promise((r) => setImmediate(r)); // the writer corks the stream until the next tick
    expect(Buffer.concat(chunks).toString('hex')).toBe('40020001' + '40021234' + '4002ffff');
    expect(Object.keys(numbers.cache)).toHaveLength(0);
  });
});
