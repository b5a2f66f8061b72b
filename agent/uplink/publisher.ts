/**
 * The drain's port to the broker: all it asks of an MQTT client. The drain never sees the
 * connection itself (connection.ts owns it, and the uplink attaches and detaches the drain as
 * the link comes and goes), so a publish at QoS 1 and its acknowledgement are the whole port.
 * mqtt-publisher.ts adapts mqtt.js to it; test/uplink/publisher-contract.ts says what any
 * implementation must do, and runs against that adapter on a real broker and the tests' double.
 */

/** MQTT 5 properties the drain sets (a compact batch's content type); ignored on MQTT 3.1.1. */
export interface PublishProperties {
  contentType?: string;
}

export interface PublishOptions {
  qos: 1;
  properties?: PublishProperties;
}

/** Called once a publish is settled: no error (undefined or null, as mqtt.js says it) for the broker's PUBACK. */
export type PublishAck = (err?: Error | null) => void;

export interface Publisher {
  /**
   * Sends one message at QoS 1. `onAck` is called at most once: without an error when the
   * broker acknowledged it (MQTT 5: a success reason code), with one when the broker refused
   * it or the client could not send it. A message in flight when the link went, or published
   * after, is never acknowledged and may never be settled: the drain re-reads what a lost
   * connection had in flight, so nothing waits on it.
   */
  publish(topic: string, payload: string | Buffer, opts: PublishOptions, onAck: PublishAck): void;
}
