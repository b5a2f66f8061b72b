/** The publisher port (publisher.ts) on an mqtt.js client: what the uplink hands the drain for each connection. */
import type { MqttClient } from 'mqtt';
import type { Publisher, PublishAck, PublishOptions } from './publisher.js';

class MqttPublisher implements Publisher {
  constructor(private readonly client: MqttClient) {}

  publish(topic: string, payload: string | Buffer, opts: PublishOptions, onAck: PublishAck): void {
    // mqtt.js calls back once per QoS 1 publish: at the PUBACK (an error for a refusing reason
    // code), at once with an error when the client is ending, or never for what a connection
    // dropped with a persistent session (clean: false) had in flight.
    this.client.publish(topic, payload, opts, onAck);
  }
}

export const mqttPublisher = (client: MqttClient): Publisher => new MqttPublisher(client);
