/**
 * The publisher port's contract (publisher-contract.ts) against the uplink's adapter over
 * mqtt.js, on a real Mosquitto (MQTT 5, with an ACL that refuses one topic), made with the
 * options connection.ts gives the agent's client; and against the tests' double, whose far
 * side acknowledges on the next turn of the event loop.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll } from 'vitest';
import { mqttPublisher } from '../../agent/uplink/mqtt-publisher.js';
import { outboxOwnedStore } from '../../agent/uplink/outbox-owned-store.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { PublisherDouble } from '../helpers/publisher-double.js';
import { publisherContract, type Received } from './publisher-contract.js';

let broker: TestBroker;
let aclDir: string;
const PREFIX = 'contract/gw';
const REFUSED = 'elsewhere/gw/events';

beforeAll(async () => {
  aclDir = mkdtempSync(join(tmpdir(), 'vg-acl-')); // for the whole file, as the broker is
  const acl = join(aclDir, 'acl');
  writeFileSync(acl, 'topic readwrite contract/#\n');
  broker = await startBroker({ needsMosquitto: true, extraConfig: [`acl_file ${acl}`] });
});
afterAll(async () => {
  await broker.dispose();
  rmSync(aclDir, { recursive: true, force: true });
});

let clients = 0;

publisherContract('mqtt.js through mqttPublisher, on Mosquitto', async () => {
  clients += 1;
  const received: Received[] = [];
  const county = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: `contract-county-${clients}` });
  county.on('message', (topic, payload, packet) =>
    received.push({
      topic,
      payload: Buffer.from(payload),
      ...(packet.properties?.contentType !== undefined ? { contentType: packet.properties.contentType } : {}),
    }),
  );
  await county.subscribeAsync(`${PREFIX}/#`, { qos: 1 });
  // What matters to a publish's settlement, as connection.ts sets it: a persistent session, no
  // reconnect of mqtt.js's own, and a store that keeps nothing (the outbox owns the messages).
  const client = await mqtt.connectAsync(broker.url, {
    protocolVersion: 5,
    clientId: `contract-gw-${clients}`,
    clean: false,
    reconnectPeriod: 0,
    outgoingStore: outboxOwnedStore(),
  });
  return {
    publisher: mqttPublisher(client),
    prefix: PREFIX,
    refusedTopic: REFUSED,
    received: () => received,
    cut: () => {
      // As connection.ts: the socket goes, and the client that had it is ended at once.
      client.stream.destroy();
      client.end(true);
    },
    close: async () => {
      await client.endAsync(true);
      await county.endAsync(true);
    },
  };
});

publisherContract('the tests’ PublisherDouble', () => {
  const received: Received[] = [];
  const double = new PublisherDouble((m) =>
    setImmediate(() => {
      if (m.topic === REFUSED) return m.fail(new Error('Publish error: Not authorized'));
      if (!m.pending) return;
      received.push({
        topic: m.topic,
        payload: Buffer.from(m.payload),
        ...(m.opts.properties?.contentType !== undefined ? { contentType: m.opts.properties.contentType } : {}),
      });
      m.ack();
    }),
  );
  return Promise.resolve({
    publisher: double,
    prefix: PREFIX,
    refusedTopic: REFUSED,
    received: () => received,
    cut: () => double.cut(),
    close: () => Promise.resolve(),
  });
});
