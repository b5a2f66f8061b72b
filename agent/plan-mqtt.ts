/** MQTT bytes on the wire for `plan` (plan.ts, plan-pictures.ts): a message with its PUBACK. */

/** A QoS 1 PUBLISH and its PUBACK, around `payload` bytes. */
export function mqttMessageBytes(topic: string, payload: number, v5: boolean, contentType?: string): number {
  const props = v5 ? (contentType ? 3 + Buffer.byteLength(contentType) : 0) : 0;
  const remaining = 2 + Buffer.byteLength(topic) + 2 + (v5 ? varintLength(props) + props : 0) + payload;
  return 1 + varintLength(remaining) + remaining + 4;
}

const varintLength = (n: number) => (n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4);
