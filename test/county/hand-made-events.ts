/** Event envelopes made by hand, for tests where a plain MQTT client plays a gateway (a lossy one, a stranger's). */
const BOOT = 'cccccccc-0000-4000-8000-000000000003';

/** `ev(seq)` and `started(seq)` envelopes of one boot, for `gatewayId` unless told another. */
export function handMadeEvents(gatewayId: string) {
  const ev = (seq: number, type = 'sensor.telemetry', data: Record<string, unknown> = { seq }, gw = gatewayId) => ({
    id: `${gw}-${seq}`,
    seq,
    bootId: BOOT,
    gatewayId: gw,
    deviceId: 'meter',
    type,
    priority: type === 'gateway.started' ? 'high' : 'normal',
    ts: '2026-11-27T12:00:00.000Z',
    data,
  });
  const started = (seq: number, gw = gatewayId) =>
    ev(seq, 'gateway.started', { firstSeq: seq, shed: { critical: 0, high: 0, normal: 0, low: 0 } }, gw);
  return { ev, started };
}
