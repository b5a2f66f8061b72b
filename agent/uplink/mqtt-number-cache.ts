/**
 * mqtt.js writes packets with mqtt-packet, which by default builds a table of 65,536 two-byte
 * Buffers (one per packet id) on the first packet it writes: measured here, 6 MB of heap that
 * stays for the life of the process, about a tenth of the agent's memory. Switched off for the
 * whole process (the same switch as the client option `writeCache: false`): each packet id is
 * then written into a 2-byte Buffer made for the packet, which costs nothing next to the payload.
 * Loaded for its effect before any client is created; mqtt-packet is reached through mqtt's own
 * resolution, so it is the copy mqtt.js uses.
 */
import { createRequire } from 'node:module';

interface PacketWriter {
  writeToStream: { cacheNumbers: boolean };
}

const fromMqtt = createRequire(createRequire(import.meta.url).resolve('mqtt'));
(fromMqtt('mqtt-packet') as PacketWriter).writeToStream.cacheNumbers = false;
