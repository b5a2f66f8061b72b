/** MQTT bytes on the wire for `plan` (plan.ts, plan-pictures.ts): a message with its PUBACK. */

/**
 * A QoS 1 PUBLISH and its PUBACK, around `payload` bytes. `alias`: MQTT 5 topic aliases (the
 * topic goes as a 3-byte property instead; its one whole sending a connection is left out).
 */
export function mqttMessageBytes(
  topic: string,
  payload: number,
  v5: boolean,
  contentType?: string,
  alias = false,
): number {
  const props = v5 ? (contentType ? 3 + Buffer.byteLength(contentType) : 0) + (alias ? 3 : 0) : 0;
  const topicBytes = alias ? 0 : Buffer.byteLength(topic);
  const remaining = 2 + topicBytes + 2 + (v5 ? varintLength(props) + props : 0) + payload;
  return 1 + varintLength(remaining) + remaining + 4;
}

const varintLength = (n: number) => (n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4);
